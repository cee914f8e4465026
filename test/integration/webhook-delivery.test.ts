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
