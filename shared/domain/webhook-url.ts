import { BlockList, isIP } from 'node:net';
import { DomainError } from './errors';

/**
 * Where a webhook may point (docs/api.md, Events): an https URL to a public address; under the
 * local host also http to localhost, 127.0.0.1 or [::1]. Pure: the names a URL uses are resolved
 * and checked by adapters/webhooks/address-guard.ts with addressRefusal below. node:net's
 * BlockList does the address arithmetic (no I/O).
 */

export const maxWebhookUrlLength = 2048;

export interface WebhookUrlOptions {
  /** True under the local host only: http and loopback addresses for localhost. */
  allowLocal: boolean;
}

export type WebhookUrlCheck =
  | {
      ok: true;
      url: URL;
      /** The host without IPv6 brackets: a name, or the IP literal itself. */
      hostname: string;
      /** An IP literal: nothing to resolve. */
      ipLiteral: boolean;
      /** localhost, 127.0.0.1 or [::1] with allowLocal: loopback addresses are allowed. */
      local: boolean;
    }
  | { ok: false; reason: string };

type Range = readonly [address: string, prefix: number];

/**
 * IPv4 ranges a webhook never reaches, with the words a refusal uses; the first match names
 * it, so the narrow ranges come before the ones that hold them. IANA's special-purpose registry,
 * plus Azure's wireserver and the metadata address.
 */
const refusedIpv4: readonly { words: string; ranges: readonly Range[] }[] = [
  { words: 'a cloud metadata address', ranges: [['169.254.169.254', 32]] },
  { words: "Azure's platform address (wireserver)", ranges: [['168.63.129.16', 32]] },
  { words: 'the broadcast address', ranges: [['255.255.255.255', 32]] },
  { words: 'a loopback address', ranges: [['127.0.0.0', 8]] },
  {
    words: 'a private address',
    ranges: [
      ['10.0.0.0', 8],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
    ],
  },
  { words: 'a link-local address', ranges: [['169.254.0.0', 16]] },
  { words: 'a shared address (carrier-grade NAT)', ranges: [['100.64.0.0', 10]] },
  { words: 'an unspecified address', ranges: [['0.0.0.0', 8]] },
  { words: 'a multicast address', ranges: [['224.0.0.0', 4]] },
  {
    words: 'a documentation address',
    ranges: [
      ['192.0.2.0', 24],
      ['198.51.100.0', 24],
      ['203.0.113.0', 24],
    ],
  },
  {
    words: 'a reserved address',
    ranges: [
      ['192.0.0.0', 24],
      ['192.88.99.0', 24],
      ['198.18.0.0', 15],
      ['240.0.0.0', 4],
    ],
  },
];

const refusedIpv6: readonly { words: string; ranges: readonly Range[] }[] = [
  { words: 'a cloud metadata address', ranges: [['fd00:ec2::254', 128]] },
  { words: 'an unspecified address', ranges: [['::', 128]] },
  { words: 'a loopback address', ranges: [['::1', 128]] },
  { words: 'a link-local address', ranges: [['fe80::', 10]] },
  { words: 'a unique-local (private) address', ranges: [['fc00::', 7]] },
  { words: 'a site-local address', ranges: [['fec0::', 10]] },
  { words: 'a multicast address', ranges: [['ff00::', 8]] },
  {
    words: 'a documentation address',
    ranges: [
      ['2001:db8::', 32],
      ['3fff::', 20],
    ],
  },
  {
    // Teredo (2001::/32) and 6to4 (2002::/16) tunnel to an IPv4 address the check cannot see.
    words: 'a reserved or tunnel address',
    ranges: [
      ['100::', 64],
      ['2001::', 23],
      ['2002::', 16],
      ['64:ff9b:1::', 48],
    ],
  },
];

/** The IPv6 forms that carry an IPv4 address in their last 32 bits: mapped and NAT64 (/96). */
const ipv4EmbeddingPrefixes = ['::ffff:', '64:ff9b::'] as const;

/** One BlockList per refusal, each IPv4 range also in its IPv4-mapped and NAT64 forms. */
const refusals: readonly { words: string; list: BlockList }[] = [
  ...refusedIpv4.map(({ words, ranges }) => {
    const list = new BlockList();
    for (const [address, prefix] of ranges) {
      list.addSubnet(address, prefix, 'ipv4');
      for (const embedding of ipv4EmbeddingPrefixes)
        list.addSubnet(`${embedding}${address}`, 96 + prefix, 'ipv6');
    }
    return { words, list };
  }),
  ...refusedIpv6.map(({ words, ranges }) => {
    const list = new BlockList();
    for (const [address, prefix] of ranges) list.addSubnet(address, prefix, 'ipv6');
    return { words, list };
  }),
];

/** IPv6 outside global unicast (2000::/3) is refused, but for the IPv4 forms checked above. */
const globalUnicastOrEmbedded = new BlockList();
globalUnicastOrEmbedded.addSubnet('2000::', 3, 'ipv6');
for (const embedding of ipv4EmbeddingPrefixes)
  globalUnicastOrEmbedded.addSubnet(`${embedding}0.0.0.0`, 96, 'ipv6');

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addSubnet('::1', 128, 'ipv6');
loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/**
 * Why a webhook may not go to `address` ("a private address"), or undefined for a public one.
 * Anything that is not an IP address is refused too.
 */
export function addressRefusal(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  // A zone (fe80::1%eth0) ties an address to one of the host's own links.
  if (address.includes('%')) return 'a scoped (zoned) address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const refused = refusals.find(({ list }) => list.check(address, type));
  if (refused) return refused.words;
  if (type === 'ipv6' && !globalUnicastOrEmbedded.check(address, 'ipv6'))
    return 'a reserved address';
  return undefined;
}

/** True for an address of the loopback ranges (127/8, ::1, and 127/8 mapped to IPv6). */
export function isLoopbackAddress(address: string): boolean {
  // BlockList answers false for what is not an IP address.
  return loopback.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
}

const localHostnames = new Set(['localhost', '127.0.0.1', '[::1]']);

/** `''`: the scheme's default (443 for https). */
const allowedPorts = new Set(['', '443', '8443']);

const refusal = (reason: string): WebhookUrlCheck => ({ ok: false, reason });

/**
 * The registration check of a webhook URL, before any name is resolved: scheme, credentials,
 * fragment, length, and an IP literal's address. A name's addresses are checked by the guard.
 */
export function checkWebhookUrl(raw: string, options: WebhookUrlOptions): WebhookUrlCheck {
  if (raw.length > maxWebhookUrlLength)
    return refusal(`The webhook URL is longer than ${maxWebhookUrlLength} characters.`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refusal('The webhook URL is not a valid absolute URL.');
  }
  if (raw.includes('#')) return refusal('The webhook URL must not have a fragment (#...).');
  if (url.username !== '' || url.password !== '')
    return refusal('The webhook URL must not carry a user name or password.');
  const local = options.allowLocal && localHostnames.has(url.hostname);
  const httpAllowed = local && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed)
    return refusal(
      options.allowLocal
        ? 'The webhook URL must use https (or http to localhost, 127.0.0.1 or [::1] on the local host).'
        : 'The webhook URL must use https.',
    );
  // Public endpoints listen on https's ports: no other port, so the app cannot be used to
  // probe which ports of a host answer (docs/security.md).
  if (!local && !allowedPorts.has(url.port))
    return refusal('The webhook URL must use port 443 (the default) or 8443.');
  // An http(s) URL always has a host; its hostname holds brackets only around an IPv6 literal.
  const hostname = url.hostname.replace(/[[\]]/g, '');
  const ipLiteral = isIP(hostname) !== 0;
  if (ipLiteral) {
    const words = addressRefusal(hostname);
    if (words && !(local && isLoopbackAddress(hostname)))
      return refusal(
        `The webhook URL points to ${hostname}, ${words}: webhooks go to public addresses only.`,
      );
  } else if (!local && !hostname.includes('.')) {
    // A single-label name resolves through the host's search domains: an internal name.
    return refusal(`The webhook URL's host ${hostname} is not a public domain name.`);
  }
  return { ok: true, url, hostname, ipLiteral, local };
}

/** The refusal a route answers: 400 webhook-url-refused, the reason on body.url. */
export function webhookUrlRefused(reason: string): DomainError {
  return new DomainError('webhook-url-refused', reason, [{ path: 'body.url', message: reason }]);
}
