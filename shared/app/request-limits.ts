import { isIP } from 'node:net';
import { rateLimited } from '../domain/errors';
import type { Clock } from './ports';

export interface BucketSettings {
  /** Requests allowed at once (the bucket's size). */
  burst: number;
  /** Tokens added back per minute. */
  perMinute: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Keys kept at most; the least recently used goes first (a flood of new keys stays bounded). */
export const bucketLimit = 50_000;

/**
 * Token buckets by key, in this process. Chosen over a Cosmos counter (as the hourly
 * invitation counter is): a shared bucket would cost a read and an etag write on every
 * request, and a tenant's requests would conflict on its one document exactly when it floods.
 * These limits shed floods, they are not a business quota, so each instance keeping its own
 * is enough: the platform-wide ceiling is the limit times the instances running.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: BucketSettings,
    private readonly clock: Clock,
  ) {}

  /** Takes one token for the key: null when granted, else the seconds until one is back. */
  take(key: string): number | null {
    const now = this.clock.now().getTime();
    const { burst, perMinute } = this.settings;
    const found = this.buckets.get(key);
    const elapsed = found ? Math.max(0, now - found.at) : 0;
    const tokens = found ? Math.min(burst, found.tokens + (elapsed * perMinute) / 60_000) : burst;
    this.buckets.delete(key);
    if (this.buckets.size >= bucketLimit) this.buckets.delete(this.buckets.keys().next().value!);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil(((1 - tokens) * 60) / perMinute));
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return null;
  }
}

export interface RequestLimits {
  /** Every signed-in request, by tenant. */
  tenants: TokenBuckets;
  /** Anonymous lookups of invitation links, by client address. */
  linkLookups: TokenBuckets;
}

export function createRequestLimits(
  settings: { tenant: BucketSettings; linkLookups: BucketSettings },
  clock: Clock,
): RequestLimits {
  return {
    tenants: new TokenBuckets(settings.tenant, clock),
    linkLookups: new TokenBuckets(settings.linkLookups, clock),
  };
}

/** 429 `rate-limited` with Retry-After when the key's bucket is empty. */
export function takeToken(buckets: TokenBuckets, key: string, what: string): void {
  const retryAfter = buckets.take(key);
  if (retryAfter === null) return;
  throw rateLimited(`Too many requests ${what}`, retryAfter);
}

/**
 * The client's address as the platform saw it: the last X-Forwarded-For entry (the one the
 * Azure front end, or the local host, appended; entries before it are the client's own say),
 * without the port the front end writes (`203.0.113.7:51234`, `[2001:db8::7]:51234`): each new
 * connection has a new port, and must not be a new client. An IPv6 client counts by its /64,
 * the block one subscriber is given, whose addresses it may use at will. Anything that is not
 * an address is 'unknown' (one shared bucket, never one per made-up value).
 */
export function clientAddress(forwardedFor: string | null): string {
  if (forwardedFor === null) return 'unknown';
  // An empty entry is no address either: isIP says so below.
  const last = forwardedFor.split(',').at(-1)!.trim();
  if (last.length > 64) return 'unknown';
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(last);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(last);
  const address = bracketed?.[1] ?? withPort?.[1] ?? last;
  const version = isIP(address);
  if (version === 4) return address;
  if (version !== 6) return 'unknown';
  // A zone (`fe80::1%eth0`, which isIP accepts) names an interface of the machine that wrote the
  // address, not a client: left out, so that no made-up zone is a bucket of its own. What is left
  // is a valid address, where an embedded IPv4 address can only come last.
  const unzoned = address.split('%')[0]!;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})/i.exec(unzoned);
  if (mapped) return mapped[1]!;
  return `${ipv6Groups(unzoned).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address (valid, without a zone), lower-case, without leading 0s
 * (an embedded IPv4 address's two as 0). */
function ipv6Groups(address: string): string[] {
  // parseInt reads hex digits in either case, and toString(16) writes them in lower case.
  const [head, tail] = address.split('::');
  // An embedded IPv4 address (a.b.c.d) is the last two groups, never among the four kept.
  const part = (text: string | undefined): string[] =>
    text ? text.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : [];
  const left = part(head);
  const right = part(tail);
  // Without '::' the address has its eight groups, and nothing is filled in.
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => Number.parseInt(group, 16).toString(16));
}
