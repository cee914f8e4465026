import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { LookupAll } from '../../shared/adapters/webhooks/address-guard';
import { newWebhookSecret } from '../../shared/adapters/webhooks/secrets';
import { deliverWebhook, type WebhookMessage } from '../../shared/adapters/webhooks/sender';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

async function receiver(options: Parameters<typeof startWebhookReceiver>[0] = {}) {
  const started = await startWebhookReceiver(options);
  receivers.push(started);
  return started;
}

const local = { allowLocal: true };

function message(url: string, secrets: string[], overrides: Partial<WebhookMessage> = {}) {
  const event = {
    id: 'evt_01',
    type: 'webhook.test',
    occurredAt: '2026-01-05T10:00:00.000Z',
    partnerId: '11111111-1111-1111-1111-111111111111',
    data: { webhookId: 'wh_1' },
  };
  return {
    url,
    secrets,
    eventId: event.id,
    timestamp: new Date(),
    body: JSON.stringify(event),
    ...overrides,
  };
}

/** Resolves every name to these addresses, counting the questions. */
function resolver(...answers: string[][]): LookupAll & { calls: number } {
  const lookup = Object.assign(
    async () => {
      const answer = answers[Math.min(lookup.calls, answers.length - 1)]!;
      lookup.calls += 1;
      return answer.map((address) => ({
        address,
        family: address.includes(':') ? (6 as const) : (4 as const),
      }));
    },
    { calls: 0 },
  );
  return lookup;
}

describe('webhook delivery', () => {
  it('delivers a signed event that the Standard Webhooks verifier accepts', async () => {
    const secret = newWebhookSecret();
    const endpoint = await receiver({ secrets: [secret] });
    const sent = message(endpoint.url, [secret]);
    const result = await deliverWebhook(sent, local);
    expect(result).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(endpoint.received).toHaveLength(1);
    const [delivery] = endpoint.received;
    expect(delivery).toMatchObject({
      id: 'evt_01',
      type: 'webhook.test',
      body: sent.body,
      verified: true,
    });
    expect(delivery!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-timestamp': String(Math.floor(sent.timestamp.getTime() / 1000)),
    });
    expect(delivery!.headers['user-agent']).toMatch(/^partner-transition-webhooks\//);
    expect(delivery!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('signs with both secrets during a rotation, each signature valid on its own', async () => {
    const [current, previous] = [newWebhookSecret(), newWebhookSecret()];
    const endpoint = await receiver({ secrets: [previous] });
    expect((await deliverWebhook(message(endpoint.url, [current, previous]), local)).outcome).toBe(
      'delivered',
    );
    const { body, headers } = endpoint.received[0]!;
    expect(endpoint.received[0]!.verified).toBe(true);
    const signatures = (headers['webhook-signature'] as string).split(' ');
    expect(signatures).toHaveLength(2);
    const common = {
      'webhook-id': headers['webhook-id'] as string,
      'webhook-timestamp': headers['webhook-timestamp'] as string,
    };
    for (const [secret, signature] of [
      [current, signatures[0]],
      [previous, signatures[1]],
    ] as const)
      expect(() =>
        new Webhook(secret).verify(body, { ...common, 'webhook-signature': signature! }),
      ).not.toThrow();
    expect(() =>
      new Webhook(newWebhookSecret()).verify(body, {
        ...common,
        'webhook-signature': signatures.join(' '),
      }),
    ).toThrow();
  });

  it('reports gone on 410', async () => {
    const endpoint = await receiver();
    endpoint.answer({ status: 410 });
    expect(await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), local)).toMatchObject({
      outcome: 'gone',
      status: 410,
    });
  });

  it('does not follow a redirect: 302 is a failure and its target receives nothing', async () => {
    const [endpoint, target] = [await receiver(), await receiver()];
    endpoint.answer({ redirectTo: target.url });
    const result = await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), local);
    expect(result).toMatchObject({ outcome: 'failed', status: 302 });
    expect(result.error).toContain('Redirects are not followed');
    expect(endpoint.received).toHaveLength(1);
    expect(target.received).toEqual([]);
  });

  it('counts any other answer as a failure, with an excerpt of its body', async () => {
    const endpoint = await receiver();
    endpoint.answer({ status: 500, body: 'database\nunavailable' });
    expect(await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), local)).toMatchObject({
      outcome: 'failed',
      status: 500,
      excerpt: 'database unavailable',
      error: 'The endpoint answered 500.',
    });
  });

  it('keeps at most 200 characters of a long answer', async () => {
    const endpoint = await receiver();
    const body = `${'a'.repeat(150)}${'b'.repeat(500_000)}`;
    endpoint.answer({ status: 400, body });
    const result = await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), local);
    expect(result.excerpt).toBe(body.slice(0, 200));
  });

  it('fails an endpoint that does not answer within the timeout', async () => {
    const endpoint = await receiver();
    endpoint.answer({ delayMs: 60_000 });
    const result = await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), {
      ...local,
      timeoutMs: 300,
    });
    expect(result).toEqual({
      outcome: 'failed',
      durationMs: expect.any(Number),
      error: 'No answer within 300 ms.',
    });
    expect(endpoint.received).toHaveLength(1);
  });

  it('fails when nothing listens, saying why', async () => {
    const closed = await startWebhookReceiver();
    await closed.close();
    const result = await deliverWebhook(message(closed.url, [newWebhookSecret()]), local);
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result.error).toContain('ECONNREFUSED');
  });

  it('refuses, sending nothing, a name that resolves to a private address', async () => {
    const endpoint = await receiver();
    const url = `http://localhost:${endpoint.port}/hook`;
    const result = await deliverWebhook(message(url, [newWebhookSecret()]), {
      ...local,
      lookup: resolver(['127.0.0.1', '10.0.0.5']),
    });
    expect(result).toMatchObject({ outcome: 'refused' });
    expect(result.error).toContain('does not resolve to a public address');
    expect(result.error).not.toContain('10.0.0.5');
    expect(endpoint.received).toEqual([]);
  });

  it('refuses a URL the policy refuses (https required in Azure)', async () => {
    const endpoint = await receiver();
    const result = await deliverWebhook(message(endpoint.url, [newWebhookSecret()]), {
      allowLocal: false,
    });
    expect(result).toMatchObject({ outcome: 'refused', error: 'The webhook URL must use https.' });
    expect(endpoint.received).toEqual([]);
  });

  it('counts a name that does not resolve as a failure, to retry', async () => {
    const lookup: LookupAll = () =>
      Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    const result = await deliverWebhook(
      message('https://nowhere.example.com/hook', [newWebhookSecret()]),
      { allowLocal: false, lookup },
    );
    expect(result).toMatchObject({ outcome: 'failed' });
    expect(result.error).toContain('does not resolve to a public address');
  });

  it('connects to the address it checked, not to a second answer of the resolver (DNS rebinding)', async () => {
    // The checked answer is 127.0.0.2, which no system resolver gives for localhost: a request
    // that reaches it went where the guard looked, not where a second lookup would send it.
    const checked = await receiver({ host: '127.0.0.2' });
    const rebound = await receiver({ host: '127.0.0.1', port: checked.port });
    const lookup = resolver(['127.0.0.2'], ['127.0.0.1']);
    const url = `http://localhost:${checked.port}/hook`;
    const result = await deliverWebhook(message(url, [newWebhookSecret()]), { ...local, lookup });
    expect(result.outcome).toBe('delivered');
    expect(checked.received).toHaveLength(1);
    expect(checked.received[0]!.headers.host).toBe(`localhost:${checked.port}`);
    expect(rebound.received).toEqual([]);
    expect(lookup.calls).toBe(1);
  });

  it('never throws: an invalid secret is a failure that does not quote it', async () => {
    const endpoint = await receiver();
    const result = await deliverWebhook(message(endpoint.url, ['whsec_%%%not-base64%%%']), local);
    expect(result).toMatchObject({ outcome: 'failed', error: 'A signing secret is not valid.' });
    expect(endpoint.received).toEqual([]);
  });
});

/**
 * An endpoint's server that counts the connections it is opened and the requests on each, and
 * answers each request as `answer` says (by default 204 at once).
 */
async function countingEndpoint(
  options: {
    host?: string;
    port?: number;
    answer?: (request: IncomingMessage, response: ServerResponse, onSocket: number) => void;
  } = {},
) {
  const seen = { connections: 0, closed: 0, ids: [] as string[] };
  const perSocket = new WeakMap<object, number>();
  const server = createServer((request, response) => {
    const onSocket = (perSocket.get(request.socket) ?? 0) + 1;
    perSocket.set(request.socket, onSocket);
    seen.ids.push(String(request.headers['webhook-id']));
    request.resume();
    request.on('end', () => {
      if (options.answer) options.answer(request, response, onSocket);
      else response.writeHead(204).end();
    });
  });
  server.on('connection', (socket) => {
    seen.connections += 1;
    socket.on('close', () => (seen.closed += 1));
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  server.unref();
  const { port } = server.address() as AddressInfo;
  const closers = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  servers.push(closers);
  return { server, port, url: `http://${host}:${port}/hook`, seen };
}

const servers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

const until = async (done: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !done(); i += 1) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
};

describe('connections kept to an endpoint between deliveries', () => {
  const secret = newWebhookSecret();
  const send = (
    url: string,
    eventId: string,
    options: Parameters<typeof deliverWebhook>[1] = local,
  ) => deliverWebhook(message(url, [secret], { eventId }), options);

  it('sends several deliveries to one endpoint over one connection, each delivered', async () => {
    const endpoint = await countingEndpoint();
    const results = [];
    for (let n = 1; n <= 5; n += 1) results.push(await send(endpoint.url, `evt_${n}`));
    expect(results.map((result) => result.outcome)).toEqual(Array(5).fill('delivered'));
    expect(endpoint.seen.ids).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5']);
    expect(endpoint.seen.connections).toBe(1);
  });

  it('closes the connection of an answer longer than the excerpt; the next delivery opens a new one and is delivered', async () => {
    // The first answer is still sending (5,000 characters, its end not yet written); the second
    // is short and whole.
    const body = 'x'.repeat(5_000);
    const endpoint = await countingEndpoint({
      answer: (_request, response, onSocket) => {
        if (endpoint.seen.ids.length > 1 || onSocket > 1) response.writeHead(204).end();
        else response.writeHead(200, { 'content-type': 'text/plain' }).write(body);
      },
    });
    endpoint.server.keepAliveTimeout = 60_000;
    const first = await send(endpoint.url, 'evt_long_1');
    expect(first).toMatchObject({ outcome: 'delivered', status: 200, excerpt: body.slice(0, 200) });
    // The rest of that answer is not read: its connection is closed, not kept with it unread.
    await until(() => endpoint.seen.closed === 1);
    const second = await send(endpoint.url, 'evt_long_2');
    expect(second).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(endpoint.seen.ids).toEqual(['evt_long_1', 'evt_long_2']);
    expect(endpoint.seen.connections).toBe(2);
  });

  it('delivers over a new connection when the endpoint closed its idle kept one', async () => {
    const endpoint = await countingEndpoint();
    endpoint.server.keepAliveTimeout = 20;
    expect((await send(endpoint.url, 'evt_idle_1')).outcome).toBe('delivered');
    await until(() => endpoint.seen.closed === 1);
    expect((await send(endpoint.url, 'evt_idle_2')).outcome).toBe('delivered');
    expect(endpoint.seen.ids).toEqual(['evt_idle_1', 'evt_idle_2']);
    expect(endpoint.seen.connections).toBe(2);
  });

  it('tries once more on a new connection when a kept one is reset as it is reused, and is delivered, with the same webhook-id', async () => {
    // The endpoint drops the connection when the second request arrives on it: what a server
    // closing an idle connection just as it is reused does.
    const endpoint = await countingEndpoint({
      answer: (request, response, onSocket) => {
        if (onSocket >= 2) request.socket.destroy();
        else response.writeHead(204).end();
      },
    });
    expect((await send(endpoint.url, 'evt_reset_1')).outcome).toBe('delivered');
    const second = await send(endpoint.url, 'evt_reset_2');
    expect(second).toMatchObject({ outcome: 'delivered', status: 204 });
    expect(endpoint.seen.ids).toEqual(['evt_reset_1', 'evt_reset_2', 'evt_reset_2']);
    expect(endpoint.seen.connections).toBe(2);
  });

  it('fails, and tries no more than once again, an endpoint that resets every reused connection', async () => {
    const endpoint = await countingEndpoint({
      answer: (request, response, onSocket) => {
        if (onSocket >= 2 || endpoint.seen.connections > 1) request.socket.destroy();
        else response.writeHead(204).end();
      },
    });
    expect((await send(endpoint.url, 'evt_resets_1')).outcome).toBe('delivered');
    const second = await send(endpoint.url, 'evt_resets_2');
    expect(second.outcome).toBe('failed');
    expect(second.error).toContain('ECONNRESET');
    expect(endpoint.seen.ids).toEqual(['evt_resets_1', 'evt_resets_2', 'evt_resets_2']);
  });

  it("connects to a host's newly checked address when its DNS answer changes, never through the old address's kept connection", async () => {
    const before = await countingEndpoint({ host: '127.0.0.2' });
    const after = await countingEndpoint({ host: '127.0.0.3', port: before.port });
    const lookup = resolver(['127.0.0.2'], ['127.0.0.2'], ['127.0.0.3']);
    const url = `http://localhost:${before.port}/hook`;
    for (const eventId of ['evt_dns_1', 'evt_dns_2', 'evt_dns_3']) {
      expect((await send(url, eventId, { ...local, lookup })).outcome).toBe('delivered');
    }
    expect(before.seen.ids).toEqual(['evt_dns_1', 'evt_dns_2']);
    expect(before.seen.connections).toBe(1);
    expect(after.seen.ids).toEqual(['evt_dns_3']);
    expect(lookup.calls).toBe(3);
  });

  it('refuses, sending nothing, a host that now resolves to a private address although a connection to it is kept', async () => {
    const endpoint = await countingEndpoint();
    const lookup = resolver(['127.0.0.1'], ['10.0.0.5']);
    const url = `http://localhost:${endpoint.port}/hook`;
    expect((await send(url, 'evt_turn_1', { ...local, lookup })).outcome).toBe('delivered');
    const refused = await send(url, 'evt_turn_2', { ...local, lookup });
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect(refused.error).toContain('does not resolve to a public address');
    expect(endpoint.seen.ids).toEqual(['evt_turn_1']);
  });
});
