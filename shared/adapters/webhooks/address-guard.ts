import { Resolver } from 'node:dns/promises';
import {
  addressRefusal,
  checkWebhookUrl,
  isLoopbackAddress,
  type WebhookUrlOptions,
} from '../../domain/webhook-url';

/**
 * The webhook SSRF guard (docs/api.md, Events): the URL policy of domain/webhook-url.ts, then
 * every address its name resolves to. Run at registration and before each delivery; the sender
 * connects to the address checked here, never to a second answer of the resolver.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a name resolves to; `signal` cancels the resolution (a delivery's deadline). */
export type LookupAll = (hostname: string, signal?: AbortSignal) => Promise<ResolvedAddress[]>;

/** How long resolving one webhook host may take, every try included (docs/security.md). */
export const resolveTimeoutMs = 3000;

/**
 * Webhook hosts are resolved with c-ares (`dns.promises.Resolver`: A and AAAA queries on the
 * event loop), never with `dns.lookup`, whose getaddrinfo runs on libuv's thread pool, which
 * Cosmos DB, ACS and sign-in share: a partner's name server that answers slowly, or never, holds
 * up its own resolution only. Each resolution has its own resolver, so cancelling it (its timeout,
 * or the delivery's deadline through `signal`) cancels nothing else. `servers`: tests only.
 */
export function webhookHostResolver(
  options: { servers?: string[]; timeoutMs?: number } = {},
): LookupAll {
  const timeoutMs = options.timeoutMs ?? resolveTimeoutMs;
  return async (hostname, signal) => {
    // localhost names are loopback by definition (RFC 6761), and DNS is not asked about them.
    if (/^(?:.+\.)?localhost\.?$/i.test(hostname))
      return [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ];
    const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
    if (options.servers) resolver.setServers(options.servers);
    const cancel = (): void => resolver.cancel();
    const timer = setTimeout(cancel, timeoutMs);
    signal?.addEventListener('abort', cancel, { once: true });
    if (signal?.aborted) cancel();
    try {
      const [v4, v6] = await Promise.allSettled([
        resolver.resolve4(hostname),
        resolver.resolve6(hostname),
      ]);
      const addresses: ResolvedAddress[] = [
        ...(v4.status === 'fulfilled'
          ? v4.value.map((address) => ({ address, family: 4 as const }))
          : []),
        ...(v6.status === 'fulfilled'
          ? v6.value.map((address) => ({ address, family: 6 as const }))
          : []),
      ];
      if (addresses.length === 0 && v4.status === 'rejected') throw v4.reason;
      return addresses;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
    }
  };
}

export const systemLookup: LookupAll = webhookHostResolver();

export interface AddressGuardOptions extends WebhookUrlOptions {
  lookup?: LookupAll;
  /** Cancels the resolution: the delivery's deadline. */
  signal?: AbortSignal;
}

export type GuardedWebhookUrl =
  | {
      ok: true;
      url: URL;
      /** The host without IPv6 brackets (TLS SNI and the Host header keep the name). */
      hostname: string;
      /** The address to connect to: checked, with every other the name resolved to. */
      address: ResolvedAddress;
    }
  | {
      ok: false;
      /**
       * `refused`: the URL or an address breaks the policy (registration: 400; delivery: the
       * attempt is refused). `unresolved`: the name did not resolve (registration refuses it;
       * a delivery counts it as a failure and retries).
       */
      refusal: 'refused' | 'unresolved';
      reason: string;
    };

const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

/** Checks a webhook URL and the addresses its host resolves to; never throws. */
export async function guardWebhookUrl(
  rawUrl: string,
  options: AddressGuardOptions,
): Promise<GuardedWebhookUrl> {
  const checked = checkWebhookUrl(rawUrl, options);
  if (!checked.ok) return { ok: false, refusal: 'refused', reason: checked.reason };
  const { url, hostname, local } = checked;
  if (checked.ipLiteral)
    return { ok: true, url, hostname, address: { address: hostname, family: familyOf(hostname) } };
  // Unresolvable and non-public get the same words: the answer must not tell which names
  // resolve from the app's network, nor to what kind of address (docs/security.md).
  const notPublic = `The webhook URL's host ${hostname} does not resolve to a public address: webhooks go to public addresses only.`;
  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.lookup ?? systemLookup)(hostname, options.signal);
  } catch {
    return { ok: false, refusal: 'unresolved', reason: notPublic };
  }
  const first = addresses[0];
  if (!first) return { ok: false, refusal: 'unresolved', reason: notPublic };
  // One private answer is enough to refuse: a resolver may hand out any of them.
  for (const { address } of addresses) {
    if (addressRefusal(address) && !(local && isLoopbackAddress(address)))
      return { ok: false, refusal: 'refused', reason: notPublic };
  }
  return { ok: true, url, hostname, address: first };
}
