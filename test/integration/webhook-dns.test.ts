import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  guardWebhookUrl,
  systemLookup,
  webhookHostResolver,
  type LookupAll,
} from '../../shared/adapters/webhooks/address-guard';
import { newWebhookSecret } from '../../shared/adapters/webhooks/secrets';
import { deliverWebhook } from '../../shared/adapters/webhooks/sender';

/**
 * Slow DNS (docs/security.md, Webhook URLs): a partner's name server that never answers holds up
 * the resolution of its own webhook host only. The resolution has its own timeout, is cancelled
 * with the delivery's deadline, and runs on c-ares (the event loop), never on the libuv thread
 * pool that every other name lookup of the process (Cosmos DB, ACS, sign-in) goes through.
 */

/** A name server on 127.0.0.1 that receives every query and never answers one. */
let silent: Socket;
let queries = 0;
let server = '';
beforeAll(async () => {
  silent = createSocket('udp4');
  silent.on('message', () => {
    queries += 1;
  });
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  server = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => silent.close(() => resolve())));

const notPublic = (hostname: string) =>
  `The webhook URL's host ${hostname} does not resolve to a public address: webhooks go to public addresses only.`;

/** A resolver of the silent server whose resolutions are kept, to see how each one ended. */
function watched(timeoutMs: number) {
  const resolve = webhookHostResolver({ servers: [server], timeoutMs });
  const resolutions: Promise<unknown>[] = [];
  const lookupAll: LookupAll = (hostname, signal) => {
    const resolution = resolve(hostname, signal);
    resolutions.push(resolution.catch((error: NodeJS.ErrnoException) => error.code));
    return resolution;
  };
  return { lookupAll, resolutions };
}

const resources = (name: string): number =>
  process.getActiveResourcesInfo().filter((resource) => resource === name).length;

describe('resolving webhook hosts when their name server never answers', () => {
  it('gives up on its own timeout, refusing the URL in the same words as a private address', async () => {
    const asked = queries;
    const { lookupAll, resolutions } = watched(300);
    const guarded = await guardWebhookUrl('https://hooks.slow.example/in', {
      allowLocal: false,
      lookup: lookupAll,
    });
    expect(guarded).toEqual({
      ok: false,
      refusal: 'unresolved',
      reason: notPublic('hooks.slow.example'),
    });
    expect(queries).toBeGreaterThan(asked);
    expect(await Promise.all(resolutions)).toEqual(['ECANCELLED']);
  });

  it("is cancelled with the delivery's deadline: nothing of it is left waiting", async () => {
    // Its own timeout is a minute away: only the delivery's deadline can end it in this test.
    const { lookupAll, resolutions } = watched(60_000);
    const result = await deliverWebhook(
      {
        url: 'https://hooks.slow.example/hook',
        secrets: [newWebhookSecret()],
        eventId: 'evt_00000000000000000000000000000001',
        timestamp: new Date(),
        body: '{}',
      },
      { allowLocal: false, lookup: lookupAll, timeoutMs: 200 },
    );
    expect(result).toMatchObject({ outcome: 'failed', error: 'No answer within 200 ms.' });
    expect(await Promise.all(resolutions)).toEqual(['ECANCELLED']);
  });

  it("queues none of the process's other lookups: waiting resolutions hold no thread of the pool", async () => {
    const { lookupAll, resolutions } = watched(60_000);
    const cancel = new AbortController();
    const settled: string[] = [];
    for (let n = 0; n < 8; n += 1) {
      void lookupAll(`h${n}.slow.example`, cancel.signal).catch(() => settled.push(`h${n}`));
    }
    // Eight resolutions waiting, and not one getaddrinfo request on the thread pool...
    expect(resources('GetAddrInfoReqWrap')).toBe(0);
    // ...which a lookup as the SDKs make them (dns.lookup) does show while it runs, and which
    // answers while all eight still wait.
    const sdkLookup = lookup('localhost');
    expect(resources('GetAddrInfoReqWrap')).toBeGreaterThanOrEqual(1);
    expect((await sdkLookup).address).toMatch(/^(127\.0\.0\.1|::1)$/);
    expect(settled).toEqual([]);
    cancel.abort();
    expect(await Promise.all(resolutions)).toEqual(Array(8).fill('ECANCELLED'));
  });

  it("resolves through c-ares in the app itself too: the app's resolver leaves the thread pool alone", async () => {
    const cancel = new AbortController();
    const resolution = systemLookup('pt-webhook-dns-check.invalid', cancel.signal).catch(() => []);
    expect(resources('GetAddrInfoReqWrap')).toBe(0);
    cancel.abort();
    await resolution;
    // localhost is loopback without asking DNS (RFC 6761).
    expect(await systemLookup('localhost')).toEqual([
      { address: '127.0.0.1', family: 4 },
      { address: '::1', family: 6 },
    ]);
  });
});
