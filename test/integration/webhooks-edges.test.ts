import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict } from '../../shared/app/ports';
import { deliveryDocumentId, webhookDocumentId } from '../../shared/domain/webhooks';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { holdingHost } from '../support/held-reads';

// What a partner (and an operator) reads of its webhook endpoints: the activity log of their
// changes, the words of each refusal, the deliveries page before and after an attempt
// (docs/api.md "Events and webhooks").

let app: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    webhookLookup: async (hostname) => {
      if (hostname === 'hooks.rebound.example') return [{ address: '10.1.2.3', family: 4 }];
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

async function partnerWithEndpoint(body: Record<string, unknown> = {}) {
  const partner = await createPartnerWithProfile(app);
  const hook = await receiver();
  const created = await app.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events: ['*'], ...body },
  });
  expect(created.status).toBe(201);
  hook.secrets.push(created.body.secret);
  return { partner, hook, webhookId: created.body.webhookId as string };
}

/** The partner's activity log entries about webhooks, by action (one instant: no order). */
async function webhookActivity(token: string) {
  const activity = await app.api('GET', '/api/me/activity?pageSize=100', { token });
  expect(activity.status).toBe(200);
  return (activity.body.items as { action: string; reason: string | null }[])
    .filter((item) => item.action.startsWith('webhook-'))
    .map(({ action, reason }) => ({ action, reason }))
    .sort((a, b) => a.action.localeCompare(b.action));
}

describe("an endpoint's changes in the activity log", () => {
  it("logs its creation with the URL's host only, then each change, disabling, enabling, rotation and deletion by name", async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    const created = await app.api('POST', '/api/me/webhooks', {
      token,
      body: { url: 'https://hooks.contoso.example/in?sig=s3cr3t', events: ['*'] },
    });
    expect(created.status).toBe(201);
    const webhookId = created.body.webhookId as string;
    const path = `/api/me/webhooks/${webhookId}`;
    expect((await app.api('PATCH', path, { token, body: { description: 'ours' } })).status).toBe(
      200,
    );
    expect((await app.api('PATCH', path, { token, body: { status: 'disabled' } })).status).toBe(
      200,
    );
    expect((await app.api('PATCH', path, { token, body: { status: 'active' } })).status).toBe(200);
    expect((await app.api('POST', `${path}/secret`, { token })).status).toBe(200);
    expect((await app.api('DELETE', path, { token })).status).toBe(204);
    expect(await webhookActivity(token)).toEqual([
      { action: 'webhook-changed', reason: `webhook ${webhookId}` },
      { action: 'webhook-created', reason: `webhook ${webhookId} to hooks.contoso.example` },
      { action: 'webhook-deleted', reason: `webhook ${webhookId}` },
      { action: 'webhook-disabled', reason: `webhook ${webhookId}` },
      { action: 'webhook-enabled', reason: `webhook ${webhookId}` },
      { action: 'webhook-secret-rotated', reason: `webhook ${webhookId}` },
    ]);
    expect(JSON.stringify(await webhookActivity(token))).not.toContain('s3cr3t');
  });

  it('logs a status the endpoint has already as a plain change: disabling a disabled one, enabling an active one', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    await app.api('PATCH', path, { token, body: { status: 'active' } });
    await app.api('PATCH', path, { token, body: { status: 'disabled' } });
    await app.api('PATCH', path, { token, body: { status: 'disabled' } });
    expect((await webhookActivity(token)).map((entry) => entry.action)).toEqual([
      'webhook-changed',
      'webhook-changed',
      'webhook-created',
      'webhook-disabled',
    ]);
  });
});

describe("an endpoint's status and fields as its owner changes them", () => {
  it('says an endpoint its owner disabled was disabled by its owner, keeps saying so through other changes, and forgets it once enabled', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint({ description: 'billing sync' });
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    const disabled = await app.api('PATCH', path, { token, body: { status: 'disabled' } });
    expect(disabled.body).toMatchObject({
      status: 'disabled',
      disabledReason: 'disabled by its owner',
    });
    const renamed = await app.api('PATCH', path, { token, body: { events: ['customer.created'] } });
    expect(renamed.body).toMatchObject({
      status: 'disabled',
      disabledReason: 'disabled by its owner',
      events: ['customer.created'],
      url: hook.url,
      description: 'billing sync',
    });
    const enabled = await app.api('PATCH', path, { token, body: { status: 'active' } });
    expect(enabled.body).toMatchObject({
      status: 'active',
      disabledReason: null,
      events: ['customer.created'],
      description: 'billing sync',
    });
  });

  it('keeps the reason the timer disabled an endpoint for through a change that does not enable it', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    hook.answer({ status: 410 });
    await app.api('POST', `${path}/test`, { token });
    await app.runTimer('deliverEvents');
    const renamed = await app.api('PATCH', path, { token, body: { description: 'still ours' } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({
      status: 'disabled',
      disabledReason: 'it answered 410 Gone',
      description: 'still ours',
    });
  });

  it('shows no description when none was given, and keeps url, events and description a change does not name', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint({
      events: ['transfer.completed'],
    });
    const token = partner.adminToken;
    const read = await app.api('GET', `/api/me/webhooks/${webhookId}`, { token });
    expect(read.body).toEqual({
      webhookId,
      url: hook.url,
      events: ['transfer.completed'],
      description: null,
      status: 'active',
      disabledReason: null,
      createdAt: '2026-03-02T09:00:00.000Z',
      updatedAt: '2026-03-02T09:00:00.000Z',
    });
    app.clock.advance({ minutes: 1 });
    try {
      const changed = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
        token,
        body: { description: 'named later' },
      });
      expect(changed.body).toEqual({
        ...read.body,
        description: 'named later',
        updatedAt: '2026-03-02T09:01:00.000Z',
      });
    } finally {
      app.clock.set('2026-03-02T09:00:00.000Z');
    }
  });
});

describe('the tenth endpoint', () => {
  it('answers the eleventh 409 conflict in plain words before resolving its URL, and takes one again once an endpoint is deleted', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    const ids: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const created = await app.api('POST', '/api/me/webhooks', {
        token,
        body: { url: `https://hooks.example.com/${index}`, events: ['*'] },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.webhookId as string);
    }
    // A URL that would be refused: the count is answered first.
    const eleventh = await app.api('POST', '/api/me/webhooks', {
      token,
      body: { url: 'https://hooks.rebound.example/h', events: ['*'] },
    });
    expect(eleventh.status).toBe(409);
    expect(eleventh.body).toMatchObject({
      code: 'conflict',
      detail: 'You have 10 webhook endpoints already: delete one before adding another.',
    });
    expect((await app.api('DELETE', `/api/me/webhooks/${ids[3]}`, { token })).status).toBe(204);
    const again = await app.api('POST', '/api/me/webhooks', {
      token,
      body: { url: 'https://hooks.example.com/again', events: ['*'] },
    });
    expect(again.status).toBe(201);
    const listed = await app.api('GET', '/api/me/webhooks', { token });
    expect(listed.body.items).toHaveLength(10);
  });
});

describe('the deliveries page', () => {
  it('shows a queued test event as pending, due now, not yet attempted; once delivered, its answer and no next attempt', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token });
    expect(queued.status).toBe(202);
    const page = `/api/me/webhooks/${webhookId}/deliveries`;
    const before = await app.api('GET', page, { token });
    expect(before.body.items).toEqual([
      {
        eventId: queued.body.eventId,
        type: 'webhook.test',
        attempt: 0,
        outcome: 'pending',
        status: 'pending',
        responseStatus: null,
        durationMs: null,
        at: '2026-03-02T09:00:00.000Z',
        nextAttemptAt: '2026-03-02T09:00:00.000Z',
      },
    ]);
    await app.runTimer('deliverEvents');
    const [after] = (await app.api('GET', page, { token })).body.items;
    expect(after).toMatchObject({
      eventId: queued.body.eventId,
      attempt: 1,
      outcome: 'delivered',
      status: 'delivered',
      responseStatus: 204,
      nextAttemptAt: null,
    });
    expect(after.durationMs).toEqual(expect.any(Number));
  });
});

describe('the deliveries page while an attempt is under way', () => {
  it('shows a delivery being sent as sending, attempt 1, with no next attempt; a redelivery meanwhile leaves it to that attempt', async () => {
    // An endpoint that holds its first answer until the test has read the page.
    const arrived = gate();
    let requests = 0;
    const server = createServer((_request, response) => {
      requests += 1;
      void arrived.hold().then(() => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const partner = await createPartnerWithProfile(app);
      const token = partner.adminToken;
      const created = await app.api('POST', '/api/me/webhooks', {
        token,
        body: { url, events: ['*'] },
      });
      expect(created.status).toBe(201);
      const webhookId = created.body.webhookId as string;
      const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token });
      const run = app.runTimer('deliverEvents');
      await arrived.reached;
      const deliveriesPath = `/api/me/webhooks/${webhookId}/deliveries`;
      const page = await app.api('GET', deliveriesPath, { token });
      const redelivered = await app.api(
        'POST',
        `${deliveriesPath}/${queued.body.eventId}/redeliver`,
        { token },
      );
      arrived.open();
      await run;
      expect(page.body.items).toEqual([
        expect.objectContaining({
          eventId: queued.body.eventId,
          attempt: 1,
          status: 'sending',
          nextAttemptAt: null,
        }),
      ]);
      expect(redelivered.status).toBe(202);
      await app.runTimer('deliverEvents');
      const after = await app.api('GET', deliveriesPath, { token });
      expect(after.body.items).toEqual([
        expect.objectContaining({ attempt: 1, status: 'delivered', nextAttemptAt: null }),
      ]);
      expect(requests).toBe(1);
    } finally {
      arrived.open();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('a redelivery of an event the endpoint has no delivery of', () => {
  it("answers a partner 404 pointing to the pull feed, and an operator 404 pointing to the enrollments' list", async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const unknown = `evt_${'0'.repeat(32)}`;
    const mine = await app.api(
      'POST',
      `/api/me/webhooks/${webhookId}/deliveries/${unknown}/redeliver`,
      { token: partner.adminToken },
    );
    expect(mine.status).toBe(404);
    expect(mine.body).toMatchObject({
      code: 'not-found',
      detail:
        'This endpoint has no delivery of this event: events published while it was disabled, or of types it does not subscribe to, are not sent to it. Read them from the pull feed, GET /api/me/events.',
    });
    const operator = await app.operatorToken();
    const hook = await receiver();
    const ops = await app.api('POST', '/api/operator/webhooks', {
      token: operator,
      body: { url: hook.url, events: ['*'] },
    });
    expect(ops.status).toBe(201);
    const theirs = await app.api(
      'POST',
      `/api/operator/webhooks/${ops.body.webhookId}/deliveries/${unknown}/redeliver`,
      { token: operator },
    );
    expect(theirs.status).toBe(404);
    expect(theirs.body).toMatchObject({
      code: 'not-found',
      detail:
        'This endpoint has no delivery of this event: events published while it was disabled are not sent to it. The enrollments waiting for review are listed by GET /api/operator/enrollments.',
    });
    await app.api('DELETE', `/api/operator/webhooks/${ops.body.webhookId}`, { token: operator });
  });
});

describe('an endpoint changed by two requests at once: the words of the 409', () => {
  const holding = (documentId: string) => holdingHost(app, documentId);

  it('tells a change and a deletion that read the endpoint before another change to read it again', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    for (const late of [
      (host: TestApp) => host.api('PATCH', path, { token, body: { description: 'late' } }),
      (host: TestApp) => host.api('DELETE', path, { token }),
    ]) {
      const slow = await holding(webhookDocumentId(webhookId));
      try {
        const answer = late(slow.host);
        await slow.held.reached;
        expect(
          (await app.api('PATCH', path, { token, body: { description: 'meanwhile' } })).status,
        ).toBe(200);
        slow.held.open();
        const refused = await answer;
        expect(refused.status).toBe(409);
        expect(refused.body).toMatchObject({
          code: 'conflict',
          detail: 'The webhook endpoint changed meanwhile; read it and try again.',
        });
      } finally {
        slow.held.open();
        await slow.host.close({ keepDatabase: true });
      }
    }
  });

  it('tells a redelivery that read the delivery before another redelivery to read it again', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    hook.answer({ status: 500 });
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token });
    const eventId = queued.body.eventId as string;
    await app.runTimer('deliverEvents'); // a test event is tried once: failed
    const path = `/api/me/webhooks/${webhookId}/deliveries/${eventId}/redeliver`;
    const slow = await holding(deliveryDocumentId(webhookId, eventId));
    try {
      const late = slow.host.api('POST', path, { token });
      await slow.held.reached;
      expect((await app.api('POST', path, { token })).status).toBe(202);
      slow.held.open();
      const refused = await late;
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'This delivery changed meanwhile; read it and try again.',
      });
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
  });
});

describe('a change of URL', () => {
  it('checks the new URL as a new endpoint is checked: 400 webhook-url-refused, the endpoint unchanged', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const refused = await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token,
      body: { url: 'https://hooks.rebound.example/h' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('webhook-url-refused');
    const kept = await app.api('GET', `/api/me/webhooks/${webhookId}`, { token });
    expect(kept.body.url).toBe(hook.url);
  });
});

describe('test events and redeliveries sent at once to one endpoint (its count of manual sends)', () => {
  it('counts again a send whose count another send moved meanwhile: both are queued', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        streamCounter: (async (...args: Parameters<typeof services.events.streamCounter>) => {
          const found = await services.events.streamCounter(...args);
          if (armed) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.events.streamCounter,
      }),
    }));
    try {
      const late = slow.api('POST', `/api/me/webhooks/${webhookId}/test`, { token });
      await held.reached;
      expect((await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token })).status).toBe(
        202,
      );
      held.open();
      expect((await late).status).toBe(202);
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    const page = await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token });
    expect(page.body.items).toHaveLength(2);
  });

  it('gives up after ten tries when every count is moved meanwhile: 409 in plain words', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    let tries = 0;
    const crowded = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        commitCountedDelivery: async () => {
          tries += 1;
          throw new WriteConflict('changed', 0);
        },
      }),
    }));
    try {
      const refused = await crowded.api('POST', `/api/me/webhooks/${webhookId}/test`, {
        token: partner.adminToken,
      });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'Too many sends to this endpoint at once; try again.',
      });
      expect(tries).toBe(10);
    } finally {
      await crowded.close({ keepDatabase: true });
    }
  });
});

describe('a send whose write fails for another reason than a conflict', () => {
  it('is tried once and answered as the failure it is, not as a crowd of sends', async () => {
    const { partner, webhookId } = await partnerWithEndpoint();
    let tries = 0;
    const failing = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        commitCountedDelivery: async () => {
          tries += 1;
          throw new Error('the database is unreachable');
        },
      }),
    }));
    try {
      const answer = await failing.api('POST', `/api/me/webhooks/${webhookId}/test`, {
        token: partner.adminToken,
      });
      expect(answer.status).toBe(500);
      expect(tries).toBe(1);
    } finally {
      await failing.close({ keepDatabase: true });
    }
  });
});

describe('a redelivery of a delivery waiting for its next retry', () => {
  it('keeps its three-day window: failing again three days after its first attempt, it fails for good', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    const token = partner.adminToken;
    hook.answer({ status: 500 }, { status: 500 });
    const customer = await app.api('POST', '/api/me/customers', { token, body: newCustomer() });
    expect(customer.status).toBe(201);
    const first = app.clock.now().getTime();
    await app.runTimer('deliverEvents');
    const [waiting] = (await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token }))
      .body.items;
    expect(waiting).toMatchObject({ status: 'pending', attempt: 1 });
    try {
      app.clock.set(new Date(first + 3 * 24 * 3600 * 1000));
      const redelivered = await app.api(
        'POST',
        `/api/me/webhooks/${webhookId}/deliveries/${waiting.eventId}/redeliver`,
        { token },
      );
      expect(redelivered.status).toBe(202);
      await app.runTimer('deliverEvents');
      const [settled] = (
        await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token })
      ).body.items;
      expect(settled).toMatchObject({ status: 'failed', attempt: 2 });
    } finally {
      app.clock.set(new Date(first));
    }
  });
});

describe('the events an endpoint is sent', () => {
  const customerCreated = async (token: string) => {
    const created = await app.api('POST', '/api/me/customers', { token, body: newCustomer() });
    expect(created.status).toBe(201);
    await app.runTimer('deliverEvents');
  };

  it('are those published after it was created: the earlier ones are in the feed only', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    await customerCreated(token);
    const hook = await receiver();
    const created = await app.api('POST', '/api/me/webhooks', {
      token,
      body: { url: hook.url, events: ['customer.created'] },
    });
    expect(created.status).toBe(201);
    await customerCreated(token);
    expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);
    const feed = await app.api('GET', '/api/me/events', { token });
    expect(
      feed.body.items.filter((event: { type: string }) => event.type === 'customer.created'),
    ).toHaveLength(2);
  });

  it('once enabled again, are those published from then on: none published while it was disabled', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint({
      events: ['customer.created'],
    });
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    expect((await app.api('PATCH', path, { token, body: { status: 'disabled' } })).status).toBe(
      200,
    );
    await customerCreated(token);
    expect((await app.api('PATCH', path, { token, body: { status: 'active' } })).status).toBe(200);
    await customerCreated(token);
    expect(hook.received).toHaveLength(1);
    const [delivery] = (await app.api('GET', `${path}/deliveries`, { token })).body.items;
    expect(delivery).toMatchObject({ eventId: hook.received[0]!.id, status: 'delivered' });
  });
});
