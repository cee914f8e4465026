import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { minuteWindow, rateCounterId } from '../../shared/domain/rate-limit';
import { webhookDocumentId, deliveryDocumentId } from '../../shared/domain/webhooks';
import { override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { newCustomer } from '../support/customers';
import { ManualClock } from '../support/clock';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { holdingHost } from '../support/held-reads';

let app: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    // A public-looking name that resolves to a private address, and one that is public.
    webhookLookup: async (hostname) => {
      if (hostname === 'hooks.rebound.example') return [{ address: '10.1.2.3', family: 4 }];
      if (hostname === 'metadata.example') return [{ address: '169.254.169.254', family: 4 }];
      if (hostname === 'localhost') return [{ address: '127.0.0.1', family: 4 }];
      return [{ address: '20.50.2.10', family: 4 }];
    },
  });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await app.close();
});

async function receiver(): Promise<WebhookReceiver & { secrets: string[] }> {
  const secrets: string[] = [];
  const started = await startWebhookReceiver({ secrets });
  receivers.push(started);
  return Object.assign(started, { secrets });
}

async function partnerWithEndpoint(events: string[] = ['*'], on = app) {
  const partner = await createPartnerWithProfile(on);
  const hook = await receiver();
  const created = await on.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events, description: 'our automation' },
  });
  expect(created.status).toBe(201);
  hook.secrets.push(created.body.secret);
  return {
    partner,
    hook,
    webhookId: created.body.webhookId as string,
    secret: created.body.secret as string,
  };
}

/** A real event of the partner's (a customer created): retried when its endpoint fails. */
async function anEvent(partner: { adminToken: string }): Promise<void> {
  const created = await app.api('POST', '/api/me/customers', {
    token: partner.adminToken,
    body: newCustomer(),
  });
  expect(created.status).toBe(201);
}

const deliveries = async (token: string, webhookId: string) =>
  (await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token })).body.items;

describe('webhook endpoints', () => {
  it('shows the secret once, at creation, and stores it so that a database reader cannot sign', async () => {
    const { partner, webhookId, secret } = await partnerWithEndpoint();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
    const read = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(
      expect.objectContaining({ webhookId, status: 'active', events: ['*'], disabledReason: null }),
    );
    expect(read.text).not.toContain(secret.slice(6));
    const listed = await app.api('GET', '/api/me/webhooks', { token: partner.adminToken });
    expect(listed.body.items.map((item: { webhookId: string }) => item.webhookId)).toEqual([
      webhookId,
    ]);
    const stored = JSON.stringify(await app.documents(partner.partnerId, 'webhook'));
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice(6));
  });

  it('shows endpoints (their URLs often carry a credential) to a global admin or admin agent only; any partner user reads the deliveries', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const agent = await app.token({ tenant: partner.partnerId, roles: ['AdminAgent'] });
    expect((await app.api('GET', '/api/me/webhooks', { token: agent })).status).toBe(200);
    for (const token of [
      await app.token({ tenant: partner.partnerId, roles: ['SalesAgent'] }),
      await app.token({ tenant: partner.partnerId }),
      await app.token({ tenant: partner.partnerId, app: true, roles: ['Reader'] }),
    ]) {
      for (const path of ['/api/me/webhooks', `/api/me/webhooks/${webhookId}`]) {
        const refused = await app.api('GET', path, { token });
        expect(refused.status, path).toBe(403);
        expect(refused.text).not.toContain('127.0.0.1');
      }
      const read = await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token });
      expect(read.status).toBe(200);
      expect(read.text).not.toContain('127.0.0.1');
    }
  });

  it('lets a SalesAgent neither create, change nor delete endpoints', async () => {
    const { webhookId, partner } = await partnerWithEndpoint();
    const sales = await app.token({ tenant: partner.partnerId, roles: ['SalesAgent'] });
    expect(
      (
        await app.api('POST', '/api/me/webhooks', {
          token: sales,
          body: { url: 'https://a.example/h', events: ['*'] },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
          token: sales,
          body: { status: 'disabled' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await app.api('DELETE', `/api/me/webhooks/${webhookId}`, { token: sales })).status,
    ).toBe(403);
  });

  it("never shows one partner another's endpoint", async () => {
    const { webhookId } = await partnerWithEndpoint();
    const other = await createPartnerWithProfile(app);
    for (const [method, path] of [
      ['GET', `/api/me/webhooks/${webhookId}`],
      ['PATCH', `/api/me/webhooks/${webhookId}`],
      ['DELETE', `/api/me/webhooks/${webhookId}`],
      ['POST', `/api/me/webhooks/${webhookId}/test`],
      ['GET', `/api/me/webhooks/${webhookId}/deliveries`],
    ] as const) {
      const response = await app.api(method, path, {
        token: other.adminToken,
        ...(method === 'PATCH' ? { body: { status: 'disabled' } } : {}),
      });
      expect(response.status, `${method} ${path}`).toBe(404);
    }
  });

  it('refuses URLs that reach private, loopback, link-local or metadata addresses with 400 webhook-url-refused, writing nothing', async () => {
    const partner = await createPartnerWithProfile(app);
    for (const url of [
      'https://hooks.rebound.example/events',
      'https://metadata.example/latest',
      'https://10.0.0.8/hook',
      'https://169.254.169.254/metadata',
      'https://[::ffff:192.168.1.1]/hook',
      'https://user:pass@hooks.example.com/hook',
      'ftp://hooks.example.com/hook',
      'http://hooks.example.com/hook',
    ]) {
      const response = await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url, events: ['*'] },
      });
      expect(response.status, url).toBe(400);
      expect(['webhook-url-refused', 'validation-failed'], url).toContain(response.body.code);
    }
    const allowed = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.example.com/events', events: ['transfer.completed'] },
    });
    expect(allowed.status).toBe(201);
    expect(await app.documents(partner.partnerId, 'webhook')).toHaveLength(1);
  });

  it('holds a partner to ten endpoints even when twenty registrations race', async () => {
    const partner = await createPartnerWithProfile(app);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        app.api('POST', '/api/me/webhooks', {
          token: partner.adminToken,
          body: { url: `https://hooks.example.com/${index}`, events: ['*'] },
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(10);
    expect(answers.filter((answer) => answer.status === 409)).toHaveLength(10);
    expect(await app.documents(partner.partnerId, 'webhook')).toHaveLength(10);
    const [first] = answers.filter((answer) => answer.status === 201);
    await app.api('DELETE', `/api/me/webhooks/${first!.body.webhookId}`, {
      token: partner.adminToken,
    });
    const again = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.example.com/again', events: ['*'] },
    });
    expect(again.status).toBe(201);
  });

  it('takes every free slot although each registration read the slots before any was taken', async () => {
    // A host whose reads of the endpoints are always empty: every registration believes every
    // slot free, and learns otherwise only from the slot documents it collides with.
    let resolved = 0;
    const stale = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, { webhooks: async () => [] }),
      webhooks: override(services.webhooks, {
        refusal: async (url) => {
          resolved += 1;
          return services.webhooks.refusal(url);
        },
      }),
    }));
    try {
      const partner = await createPartnerWithProfile(app);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          stale.api('POST', '/api/me/webhooks', {
            token: partner.adminToken,
            body: { url: `https://hooks.example.com/s${index}`, events: ['*'] },
          }),
        ),
      );
      expect(answers.map((answer) => answer.status).sort()).toEqual([
        ...Array(10).fill(201),
        ...Array(10).fill(409),
      ]);
      const slots = (await app.documents(partner.partnerId, 'webhook')).map(
        (endpoint: { slot: number }) => endpoint.slot,
      );
      expect(slots.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // With ten endpoints, a registration is answered before its URL is resolved.
      resolved = 0;
      const full = await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: 'https://hooks.example.com/one-more', events: ['*'] },
      });
      expect(full.status).toBe(409);
      expect(resolved).toBe(0);
    } finally {
      await stale.close({ keepDatabase: true });
    }
  });

  it('lists webhook.test among the types a subscription may name, as the event catalogue does', async () => {
    const partner = await createPartnerWithProfile(app);
    const created = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.example.com/t', events: ['webhook.test', 'partnership.ended'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.events).toEqual(['webhook.test', 'partnership.ended']);
    const spec = (await app.api('GET', '/api/openapi.json')).body;
    expect(Object.keys(spec.webhooks)).toContain('webhook.test');
  });

  it('refuses an unknown event type and an empty change, in plain words', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const unknown = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.example.com/x', events: ['enrollment.exploded'] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.code).toBe('validation-failed');
    const empty = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: {},
    });
    expect(empty.status).toBe(400);
  });
});

describe('delivering events to an endpoint (deliverEvents)', () => {
  it('delivers a test event signed as Standard Webhooks says, verified by its own verifier', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    expect(queued.status).toBe(202);
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);
    const [received] = hook.received;
    expect(received!.verified).toBe(true);
    expect(received!.id).toBe(queued.body.eventId);
    expect(JSON.parse(received!.body)).toEqual({
      id: queued.body.eventId,
      type: 'webhook.test',
      occurredAt: '2026-03-02T09:00:00.000Z',
      partnerId: partner.partnerId,
      data: { webhookId },
    });
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toEqual(
      expect.objectContaining({
        eventId: queued.body.eventId,
        outcome: 'delivered',
        attempt: 1,
        responseStatus: 204,
      }),
    );
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);
  });

  it('signs with both secrets for 24 hours after a rotation, then with the new one only', async () => {
    const { partner, hook, webhookId, secret: oldSecret } = await partnerWithEndpoint();
    const rotated = await app.api('POST', `/api/me/webhooks/${webhookId}/secret`, {
      token: partner.adminToken,
    });
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(oldSecret);
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    const during = hook.received.at(-1)!;
    expect(String(during.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const headers = during.headers as Record<string, string>;
    expect(() => new Webhook(oldSecret).verify(during.body, headers)).not.toThrow();
    expect(() => new Webhook(newSecret).verify(during.body, headers)).not.toThrow();

    app.clock.advance({ hours: 24, minutes: 1 });
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    const after = hook.received.at(-1)!;
    const afterHeaders = after.headers as Record<string, string>;
    expect(String(after.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(() => new Webhook(newSecret).verify(after.body, afterHeaders)).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(after.body, afterHeaders)).toThrow();
  });

  it('signs with at most two secrets after a second rotation within 24 hours: the newest and the one before', async () => {
    const { partner, hook, webhookId, secret: first } = await partnerWithEndpoint();
    const rotate = async () => {
      const rotated = await app.api('POST', `/api/me/webhooks/${webhookId}/secret`, {
        token: partner.adminToken,
      });
      expect(rotated.status).toBe(200);
      return rotated.body.secret as string;
    };
    const second = await rotate();
    app.clock.advance({ hours: 1 });
    const third = await rotate();
    app.clock.advance({ hours: 1 });
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    const signed = hook.received.at(-1)!;
    const headers = signed.headers as Record<string, string>;
    expect(String(headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(() => new Webhook(third).verify(signed.body, headers)).not.toThrow();
    expect(() => new Webhook(second).verify(signed.body, headers)).not.toThrow();
    expect(() => new Webhook(first).verify(signed.body, headers)).toThrow();
  });

  it('signs with the previous secret until exactly 24 hours after the rotation (a millisecond before: two signatures; at 24 hours and after: one)', async () => {
    const { partner, hook, webhookId, secret: old } = await partnerWithEndpoint();
    const rotatedAt = app.clock.now().getTime();
    const rotated = await app.api('POST', `/api/me/webhooks/${webhookId}/secret`, {
      token: partner.adminToken,
    });
    const signaturesAt = async (offsetMs: number) => {
      app.clock.set(new Date(rotatedAt + offsetMs));
      await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
      await app.runTimer('deliverEvents');
      const signed = hook.received.at(-1)!;
      const headers = signed.headers as Record<string, string>;
      expect(() => new Webhook(rotated.body.secret).verify(signed.body, headers)).not.toThrow();
      let oldSigns = true;
      try {
        new Webhook(old).verify(signed.body, headers);
      } catch {
        oldSigns = false;
      }
      return { count: String(headers['webhook-signature']).split(' ').length, oldSigns };
    };
    const day = 24 * 3600 * 1000;
    expect(await signaturesAt(day - 1)).toEqual({ count: 2, oldSigns: true });
    expect(await signaturesAt(day)).toEqual({ count: 1, oldSigns: false });
    expect(await signaturesAt(day + 1)).toEqual({ count: 1, oldSigns: false });
  });

  it('retries a failing endpoint with growing delays, keeping the event id, until it answers 2xx', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 500, body: 'boom' }, { status: 503 }, { status: 204 });
    await anEvent(partner);
    await app.runTimer('deliverEvents');
    let [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toEqual(
      expect.objectContaining({
        status: 'pending',
        attempt: 1,
        outcome: 'failed',
        responseStatus: 500,
      }),
    );
    const firstRetry = Date.parse(delivery.nextAttemptAt) - app.clock.now().getTime();
    expect(firstRetry).toBeGreaterThanOrEqual(15_000);
    expect(firstRetry).toBeLessThanOrEqual(30_000);
    // Not due yet: nothing is sent.
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);
    app.clock.set(delivery.nextAttemptAt);
    await app.runTimer('deliverEvents');
    [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toEqual(expect.objectContaining({ attempt: 2, responseStatus: 503 }));
    const secondRetry = Date.parse(delivery.nextAttemptAt) - app.clock.now().getTime();
    expect(secondRetry).toBeGreaterThanOrEqual(30_000);
    expect(secondRetry).toBeLessThanOrEqual(60_000);
    app.clock.set(delivery.nextAttemptAt);
    await app.runTimer('deliverEvents');
    [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toEqual(expect.objectContaining({ status: 'delivered', attempt: 3 }));
    expect(hook.received.map((r) => r.id)).toEqual([
      delivery.eventId,
      delivery.eventId,
      delivery.eventId,
    ]);
  });

  it('tries a test event once: an endpoint that fails it is not sent it again', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 500 }, { status: 500 });
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    app.clock.advance({ hours: 7 });
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({ type: 'webhook.test', status: 'failed', attempt: 1 });
    const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(endpoint.body.status).toBe('active');
  });

  it('disables an endpoint that answers 410 Gone and emails the partner; re-enabled, it receives again and a missed event can be redelivered', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 410 });
    const missed = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    await app.runTimer('deliverEvents');
    const disabled = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(disabled.body).toEqual(
      expect.objectContaining({ status: 'disabled', disabledReason: 'it answered 410 Gone' }),
    );
    await app.runTimer('deliverEmails');
    const mail = (await app.mailbox()).filter((m) =>
      m.subject.includes('Webhook endpoint disabled'),
    );
    expect(mail.map((m) => m.to)).toContain('pat.lee@contoso.example');

    // While disabled nothing is sent.
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);

    const enabled = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'active' },
    });
    expect(enabled.body).toEqual(
      expect.objectContaining({ status: 'active', disabledReason: null }),
    );
    const again = await app.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${missed.body.eventId}/redeliver`,
      { token: partner.adminToken },
    );
    expect(again.status).toBe(202);
    await app.runTimer('deliverEvents');
    expect(hook.received.map((r) => r.id)).toEqual([missed.body.eventId, missed.body.eventId]);
    expect(hook.received.at(-1)!.verified).toBe(true);
  });

  it('redelivers a delivery waiting for its next retry at once, keeping its retry window', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 500 });
    await anEvent(partner);
    await app.runTimer('deliverEvents');
    const [waiting] = await deliveries(partner.adminToken, webhookId);
    expect(waiting).toMatchObject({ status: 'pending', attempt: 1 });
    expect(Date.parse(waiting.nextAttemptAt)).toBeGreaterThan(app.clock.now().getTime());
    const redelivered = await app.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${waiting.eventId}/redeliver`,
      { token: partner.adminToken },
    );
    expect(redelivered.status).toBe(202);
    const [due] = await deliveries(partner.adminToken, webhookId);
    expect(due.nextAttemptAt).toBe(app.clock.now().toISOString());
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(2);
    const [delivered] = await deliveries(partner.adminToken, webhookId);
    expect(delivered).toMatchObject({ status: 'delivered', attempt: 2 });
  });

  it("counts a test event or redelivery in one batch with the delivery it writes, in the endpoint's stream: a delivery changed meanwhile writes neither, costing nothing of the ten", async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const sent = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    expect(sent.status).toBe(202);
    const counterId = rateCounterId(`webhook-${webhookId}`, minuteWindow(app.clock.now()));
    const counted = async () =>
      (await app.services.events.streamCounter(webhookId, counterId))?.value.count ?? 0;
    expect(await counted()).toBe(1);
    // The delivery changes between the read and the write (an attempt claims it): the count and
    // the delivery are one batch in the endpoint's stream, so neither is written.
    const found = (await app.services.events.delivery(webhookId, sent.body.eventId))!;
    await app.services.events.replaceDelivery(
      { ...found.value, updatedAt: app.clock.now().toISOString() },
      found.etag,
    );
    const counter = (await app.services.events.streamCounter(webhookId, counterId))!;
    await expect(
      app.services.events.commitCountedDelivery(
        webhookId,
        { op: 'replace', document: { ...counter.value, count: 2 }, etag: counter.etag },
        {
          op: 'replace',
          document: { ...found.value, dueAt: app.clock.now().toISOString() },
          etag: found.etag,
        },
      ),
    ).rejects.toMatchObject({ index: 1 });
    expect(await counted()).toBe(1);
    // Through the route: nine more are sent, the tenth refused.
    for (let more = 0; more < 9; more += 1) {
      expect(
        (
          await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
            token: partner.adminToken,
          })
        ).status,
      ).toBe(202);
    }
    expect(
      (await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken }))
        .status,
    ).toBe(429);
  });

  it('sends at most ten test events and redeliveries a minute to one endpoint: past them 429 with Retry-After, writing nothing', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    app.clock.set('2026-03-10T09:00:15.000Z');
    const test = () =>
      app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    const first = await test();
    for (let sent = 1; sent < 9; sent += 1) expect((await test()).status).toBe(202);
    const redelivered = await app.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${first.body.eventId}/redeliver`,
      { token: partner.adminToken },
    );
    expect(redelivered.status).toBe(202);
    const before = await app.documents(partner.partnerId);
    // The deliveries and the count live in the endpoint's own stream (the events container).
    const deliveriesBefore = await deliveries(partner.adminToken, webhookId);
    expect(deliveriesBefore).toHaveLength(9);
    for (const refused of [
      await test(),
      await app.api(
        'POST',
        `/api/me/webhooks/${webhookId}/deliveries/${first.body.eventId}/redeliver`,
        { token: partner.adminToken },
      ),
    ]) {
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('rate-limited');
      expect(refused.headers.get('retry-after')).toBe('45');
      expect(refused.body.detail).toBe(
        'An endpoint is sent at most 10 test events and redeliveries a minute; try again in 45 seconds.',
      );
    }
    expect(await app.documents(partner.partnerId)).toEqual(before);
    expect(await deliveries(partner.adminToken, webhookId)).toEqual(deliveriesBefore);
    // Another endpoint of the same partner has its own ten.
    const other = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.example.com/other', events: ['*'] },
    });
    expect(
      (
        await app.api('POST', `/api/me/webhooks/${other.body.webhookId}/test`, {
          token: partner.adminToken,
        })
      ).status,
    ).toBe(202);
    app.clock.advance({ seconds: 45 });
    expect((await test()).status).toBe(202);
  });

  it('disables an endpoint after three days of failures, once, with one email', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer(...Array.from({ length: 40 }, () => ({ status: 502 })));
    await anEvent(partner);
    const start = app.clock.now().getTime();
    while (app.clock.now().getTime() - start < 3 * 24 * 3600 * 1000 + 7 * 3600 * 1000) {
      await app.runTimer('deliverEvents');
      app.clock.advance({ hours: 6 });
    }
    const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(endpoint.body).toEqual(
      expect.objectContaining({
        status: 'disabled',
        disabledReason: 'a delivery to it failed for three days',
      }),
    );
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery.status).toBe('failed');
    expect(delivery.attempt).toBeGreaterThanOrEqual(12);
    const attempts = hook.received.length;
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(attempts);
    const emails = (await app.documents(partner.partnerId, 'email')).filter(
      (email) => email.kind === 'webhook-disabled',
    );
    expect(emails).toHaveLength(1);
  });

  it('retries for three days from the first attempt: one failing a millisecond before is retried; at three days, or a millisecond after, the endpoint is disabled', async () => {
    const day = 24 * 3600 * 1000;
    const outcomes: Record<string, string> = {};
    for (const offset of [-1, 0, 1]) {
      const { partner, hook, webhookId } = await partnerWithEndpoint();
      hook.answer({ status: 500 }, { status: 500 });
      // A partner's event (a test event is tried once).
      await anEvent(partner);
      const first = app.clock.now().getTime();
      await app.runTimer('deliverEvents');
      app.clock.set(new Date(first + 3 * day + offset));
      await app.runTimer('deliverEvents');
      expect(hook.received).toHaveLength(2);
      const [delivery] = await deliveries(partner.adminToken, webhookId);
      const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
      });
      outcomes[String(offset)] = `${delivery.status}, endpoint ${endpoint.body.status}`;
      app.clock.set(new Date(first));
    }
    expect(outcomes).toEqual({
      '-1': 'pending, endpoint active',
      '0': 'failed, endpoint disabled',
      '1': 'failed, endpoint disabled',
    });
  });

  it('spreads the retries of deliveries that failed together over half to all of the delay (jitter)', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const count = 20;
    hook.answer(...Array.from({ length: count }, () => ({ status: 503 })));
    // Partners' events (a test event is tried once, and ten a minute at most).
    for (let i = 0; i < count; i += 1) await anEvent(partner);
    const now = app.clock.now().getTime();
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(count);
    const listed = await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries?pageSize=50`, {
      token: partner.adminToken,
    });
    const delays = (listed.body.items as { nextAttemptAt: string }[]).map(
      (delivery) => (Date.parse(delivery.nextAttemptAt) - now) / 1000,
    );
    expect(delays).toHaveLength(count);
    // The first retry is due 30 s later at most, 15 s at least: each somewhere between.
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(15);
      expect(delay).toBeLessThanOrEqual(30);
    }
    // Spread, not clustered: 20 draws over the 16 whole seconds from 15 to 30 all fall within
    // 5 s of each other with a probability under 1e-7.
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(5);
  });

  it('redelivers as a new series: due at once, backoff from 30 s again, a new three-day window, the past attempts kept', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const day = 24 * 3600 * 1000;
    // Failing for three days: the delivery fails for good and the endpoint is disabled.
    hook.answer(...Array.from({ length: 40 }, () => ({ status: 502 })));
    // A partner's event (a test event is tried once).
    await anEvent(partner);
    const start = app.clock.now().getTime();
    while (app.clock.now().getTime() - start <= 3 * day + 6 * 3600 * 1000) {
      await app.runTimer('deliverEvents');
      app.clock.advance({ hours: 6 });
    }
    let [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery.status).toBe('failed');
    const eventId = delivery.eventId as string;
    const attemptsBefore = hook.received.length;
    await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'active' },
    });
    const redelivered = await app.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${eventId}/redeliver`,
      { token: partner.adminToken },
    );
    expect(redelivered.status).toBe(202);
    [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({
      status: 'pending',
      nextAttemptAt: app.clock.now().toISOString(),
    });
    // Still failing: the first attempt of the series is retried 15 to 30 s later, not hours.
    const redeliveredAt = app.clock.now().getTime();
    hook.answer(...Array.from({ length: 40 }, () => ({ status: 502 })));
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(attemptsBefore + 1);
    [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({ status: 'pending', attempt: 1, responseStatus: 502 });
    const retryIn = (Date.parse(delivery.nextAttemptAt) - redeliveredAt) / 1000;
    expect(retryIn).toBeGreaterThanOrEqual(15);
    expect(retryIn).toBeLessThanOrEqual(30);
    // The window counts from the redelivery: still retried two days later.
    app.clock.set(new Date(redeliveredAt + 2 * day));
    await app.runTimer('deliverEvents');
    [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({ status: 'pending', attempt: 2 });
    const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(endpoint.body.status).toBe('active');
    // The attempts before the redelivery stay in its history (the last ten).
    const [stored] = await app.query(
      'events',
      `SELECT * FROM c WHERE c.stream = 'webhook:${webhookId}' AND c.type = 'delivery' AND c.eventId = '${eventId}'`,
    );
    expect(stored.history.length).toBe(10);
    expect(stored.history.at(-1)).toMatchObject({ attempt: 2, outcome: 'failed' });
    expect(stored.history.at(-3)).toMatchObject({ outcome: 'failed' });
  });

  it('takes over a delivery whose sender died exactly when its one-minute lease lapses, not a millisecond before', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    // A host that dies while sending: the delivery is claimed, nothing sent, nothing recorded.
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      webhooks: override(services.webhooks, {
        deliver: async () => {
          throw new Error('process killed');
        },
      }),
    }));
    const claimedAt = app.clock.now().getTime();
    try {
      await dying.runTimer('deliverEvents');
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const sentAt = async (offsetMs: number) => {
      app.clock.set(new Date(claimedAt + offsetMs));
      await app.runTimer('deliverEvents');
      return hook.received.length;
    };
    expect(await sentAt(60_000 - 1)).toBe(0);
    expect(await sentAt(60_000)).toBe(1);
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({ status: 'delivered', attempt: 2 });
  });

  it("serves endpoints side by side: a slow endpoint's pending answers hold up no other endpoint", async () => {
    const slow = await partnerWithEndpoint();
    const quick = await partnerWithEndpoint();
    slow.hook.answer(...Array.from({ length: 3 }, () => ({ delayMs: 400 })));
    for (const { partner, webhookId } of [slow, quick]) {
      for (let i = 0; i < 3; i += 1) {
        await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
      }
    }
    const arrivals: string[] = [];
    const note = (name: string, hook: WebhookReceiver) => {
      const push = hook.received.push.bind(hook.received);
      hook.received.push = (...items) => {
        arrivals.push(...items.map(() => name));
        return push(...items);
      };
    };
    note('slow', slow.hook);
    note('quick', quick.hook);
    await app.runTimer('deliverEvents');
    expect(arrivals.filter((name) => name === 'slow')).toHaveLength(3);
    // Every quick delivery arrived before the slow endpoint's last one: they did not queue behind it.
    expect(arrivals.lastIndexOf('quick')).toBeLessThan(arrivals.lastIndexOf('slow'));
    expect(arrivals.filter((name) => name === 'quick')).toHaveLength(3);
  });

  it("delivers to every endpoint in a run although one partner's backlog fills every read", async () => {
    // Reads of 6 due deliveries, an endpoint's share 3: a flood of 20 fills each read.
    const small = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_DELIVERIES_PER_RUN: '6', EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '3' },
    });
    try {
      const endpointOn = async () => {
        const partner = await createPartnerWithProfile(small);
        const hook = await receiver();
        const created = await small.api('POST', '/api/me/webhooks', {
          token: partner.adminToken,
          body: { url: hook.url, events: ['*'] },
        });
        return { partner, hook, webhookId: created.body.webhookId as string };
      };
      const flood = await endpointOn();
      for (let i = 0; i < 20; i += 1) {
        // Ten test events a minute at most reach one endpoint.
        if (i === 10) small.clock.advance({ minutes: 1 });
        const queued = await small.api('POST', `/api/me/webhooks/${flood.webhookId}/test`, {
          token: flood.partner.adminToken,
        });
        expect(queued.status).toBe(202);
      }
      small.clock.advance({ seconds: 1 });
      const other = await endpointOn();
      await small.api('POST', `/api/me/webhooks/${other.webhookId}/test`, {
        token: other.partner.adminToken,
      });
      await small.runTimer('deliverEvents');
      expect(other.hook.received).toHaveLength(1);
      expect(flood.hook.received).toHaveLength(3);
    } finally {
      await small.close();
    }
  });

  it('never follows a redirect: the target receives nothing and the attempt failed', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const target = await receiver();
    hook.answer({ redirectTo: target.url, status: 307 });
    await anEvent(partner);
    await app.runTimer('deliverEvents');
    expect(target.received).toHaveLength(0);
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toEqual(expect.objectContaining({ status: 'pending', responseStatus: 307 }));
  });

  it('sends nothing to a deleted endpoint', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    const deleted = await app.api('DELETE', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(deleted.status).toBe(204);
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(0);
    expect(
      (await app.api('GET', `/api/me/webhooks/${webhookId}`, { token: partner.adminToken })).status,
    ).toBe(404);
  });
});

describe('an endpoint while it is disabled', () => {
  let quiet: TestApp;
  beforeAll(async () => {
    // An app of its own: the run's report counts this test's deliveries only.
    quiet = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  });
  afterAll(() => quiet.close());

  const lastRun = async () =>
    (
      await quiet.api('GET', '/api/operator/status', { token: await quiet.operatorToken() })
    ).body.timers.find((timer: { name: string }) => timer.name === 'deliverEvents');

  async function disabledWithMissedEvent() {
    const { partner, hook, webhookId } = await partnerWithEndpoint(['customer.created'], quiet);
    const disabled = await quiet.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    const customer = await quiet.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    expect(customer.status).toBe(201);
    await quiet.runTimer('deliverEvents');
    const feed = await quiet.api('GET', '/api/me/events', { token: partner.adminToken });
    const missed = feed.body.items.find(
      (event: { type: string }) => event.type === 'customer.created',
    ) as { id: string };
    expect(missed).toBeDefined();
    return { partner, hook, webhookId, missed };
  }

  it('gets no delivery of an event published meanwhile, and nothing is counted failed', async () => {
    const { partner, hook, webhookId } = await disabledWithMissedEvent();
    expect(hook.received).toHaveLength(0);
    const listed = await quiet.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, {
      token: partner.adminToken,
    });
    expect(listed.body.items).toEqual([]);
    const run = await lastRun();
    expect(run.lastSummary).toMatchObject({ published: 1, failed: 0, failedForGood: 0 });
    const status = await quiet.api('GET', '/api/operator/status', {
      token: await quiet.operatorToken(),
    });
    expect(status.body.events).toMatchObject({ pending: 0, failed: 0 });
  });

  it('answers 404 to a redelivery of an event published while it was disabled, pointing to the feed, which has it', async () => {
    const { partner, hook, webhookId, missed } = await disabledWithMissedEvent();
    const enabled = await quiet.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'active' },
    });
    expect(enabled.status).toBe(200);
    const again = await quiet.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${missed.id}/redeliver`,
      { token: partner.adminToken },
    );
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('not-found');
    expect(again.body.detail).toContain('GET /api/me/events');
    await quiet.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(0);
  });
});

describe('an endpoint changed by two requests at once', () => {
  const holding = (documentId: string) => holdingHost(app, documentId);

  it('keeps a rotated secret: a change that read the endpoint before the rotation gets 409', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const slow = await holding(webhookDocumentId(webhookId));
    let rotated = '';
    try {
      const late = slow.host.api('PATCH', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
        body: { description: 'renamed' },
      });
      await slow.held.reached;
      const rotation = await app.api('POST', `/api/me/webhooks/${webhookId}/secret`, {
        token: partner.adminToken,
      });
      expect(rotation.status).toBe(200);
      rotated = rotation.body.secret as string;
      slow.held.open();
      expect((await late).status).toBe(409);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.runTimer('deliverEvents');
    const signed = hook.received.at(-1)!;
    expect(() =>
      new Webhook(rotated).verify(signed.body, signed.headers as Record<string, string>),
    ).not.toThrow();
  });

  it('refuses with 409 a deletion that read the endpoint before a change, which stays', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const slow = await holding(webhookDocumentId(webhookId));
    try {
      const late = slow.host.api('DELETE', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
      });
      await slow.held.reached;
      const changed = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
        body: { events: ['customer.created'] },
      });
      expect(changed.status).toBe(200);
      slow.held.open();
      expect((await late).status).toBe(409);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const kept = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(kept.body).toMatchObject({ status: 'active', events: ['customer.created'] });
  });

  it('sends a redelivered event once: a redelivery that read it before another redelivery was sent gets 409', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 410 });
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    const eventId = queued.body.eventId as string;
    await app.runTimer('deliverEvents'); // 410: failed for good, the endpoint disabled
    await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'active' },
    });
    const path = `/api/me/webhooks/${webhookId}/deliveries/${eventId}/redeliver`;
    const slow = await holding(deliveryDocumentId(webhookId, eventId));
    try {
      const late = slow.host.api('POST', path, { token: partner.adminToken });
      await slow.held.reached;
      expect((await app.api('POST', path, { token: partner.adminToken })).status).toBe(202);
      await app.runTimer('deliverEvents'); // delivered
      slow.held.open();
      expect((await late).status).toBe(409);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    await app.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.id)).toEqual([eventId, eventId]);
  });

  it('leaves an endpoint its owner changed while a delivery to it was failing: the 410 fails that delivery, not the new endpoint', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    hook.answer({ status: 410 });
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    const fixed = await receiver();
    // The timer's host reads the endpoint for its turn, then waits while its owner moves it.
    const slow = await holding(webhookDocumentId(webhookId));
    try {
      const run = slow.host.runTimer('deliverEvents');
      await slow.held.reached;
      const moved = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
        body: { url: fixed.url },
      });
      expect(moved.status).toBe(200);
      slow.held.open();
      await run;
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
    });
    expect(endpoint.body).toMatchObject({ status: 'active', url: fixed.url, disabledReason: null });
    const [delivery] = await deliveries(partner.adminToken, webhookId);
    expect(delivery).toMatchObject({ status: 'failed', responseStatus: 410 });
  });
});
