import { lookup as dnsLookup } from 'node:dns/promises';
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

/** Every address a name resolves to (dns.promises.lookup with all: true, by default). */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupAll = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map(({ address, family }) => ({
    address,
    family: family === 6 ? 6 : 4,
  }));

export interface AddressGuardOptions extends WebhookUrlOptions {
  lookup?: LookupAll;
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
  let addresses: ResolvedAddress[];
  try {
    addresses = await (options.lookup ?? systemLookup)(hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    return {
      ok: false,
      refusal: 'unresolved',
      reason: `The webhook URL's host ${hostname} could not be resolved${code ? ` (${code})` : ''}.`,
    };
  }
  const first = addresses[0];
  if (!first)
    return {
      ok: false,
      refusal: 'unresolved',
      reason: `The webhook URL's host ${hostname} has no address.`,
    };
  // One private answer is enough to refuse: a resolver may hand out any of them.
  for (const { address } of addresses) {
    const words = addressRefusal(address);
    if (words && !(local && isLoopbackAddress(address)))
      return {
        ok: false,
        refusal: 'refused',
        // What it resolves to stays unsaid: answers must not map a network's names to addresses.
        reason: `The webhook URL's host ${hostname} resolves to ${words}: webhooks go to public addresses only.`,
      };
  }
  return { ok: true, url, hostname, address: first };
}
