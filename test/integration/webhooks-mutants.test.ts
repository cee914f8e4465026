import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DependencyUnavailable,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import { webhookDocumentId } from '../../shared/domain/webhooks';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { roundTrips } from '../support/cosmos-requests';
import { newCustomer } from '../support/customers';
import { holdingHost } from '../support/held-reads';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// What a partner sees of its webhook endpoints at the edges the other webhook tests leave open:
// how long a registration keeps looking for a free slot, a write that fails for another reason
// than a conflict, the words of a 404, the feed position a change keeps, the activity log of
// each change as it happens, and what a change costs in Cosmos DB round trips.

let app: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    countCosmosRequests: true,
    // One event an endpoint a run: an endpoint is left behind on its feed by two events.
    env: { EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '1' },
  });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await app.close();
});

async function partnerWithEndpoint(body: Record<string, unknown> = {}) {
  const partner = await createPartnerWithProfile(app);
  const hook = await startWebhookReceiver();
  receivers.push(hook);
  const created = await app.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events: ['*'], ...body },
  });
  expect(created.status).toBe(201);
  const webhookId = created.body.webhookId as string;
  return { partner, hook, webhookId, path: `/api/me/webhooks/${webhookId}` };
}

/** The document types a batch writes or deletes (a deletion by its id). */
const touches = (operations: WriteOperation<PartnerDocument>[]): string[] =>
  operations.map((operation) => ('document' in operation ? operation.document.type : operation.id));

const claimsSlot = (operations: WriteOperation<PartnerDocument>[]): boolean =>
  touches(operations).includes('webhook-slot');

/** The partner's activity log entries about webhooks, by action (one instant: no order). */
async function webhookActions(token: string): Promise<string[]> {
  const activity = await app.api('GET', '/api/me/activity?pageSize=100', { token });
  expect(activity.status).toBe(200);
  return (activity.body.items as { action: string }[])
    .map((item) => item.action)
    .filter((action) => action.startsWith('webhook-'))
    .sort();
}

describe('a registration whose slots are taken meanwhile', () => {
  it('tries every slot three times over, reading the endpoints again between rounds, then answers 409 in plain words', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    for (let index = 0; index < 10; index += 1) {
      const created = await app.api('POST', '/api/me/webhooks', {
        token,
        body: { url: `https://hooks.example.com/${index}`, events: ['*'] },
      });
      expect(created.status).toBe(201);
    }
    // A host whose reads of the endpoints are always empty: it believes every slot free, and
    // each claim it writes meets the slot document an endpoint holds.
    let claims = 0;
    const stale = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, { webhooks: async () => [] }),
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          if (claimsSlot(operations)) claims += 1;
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const refused = await stale.api('POST', '/api/me/webhooks', {
        token,
        body: { url: 'https://hooks.example.com/eleventh', events: ['*'] },
      });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'You have 10 webhook endpoints already: delete one before adding another.',
      });
      expect(claims).toBe(30);
    } finally {
      await stale.close({ keepDatabase: true });
    }
    expect(await app.documents(partner.partnerId, 'webhook')).toHaveLength(10);
  });
});

describe('a write that fails for another reason than a conflict', () => {
  const unavailableFor = (failing: (operations: WriteOperation<PartnerDocument>[]) => boolean) => {
    let tries = 0;
    const host = startSecondHost(
      app,
      failingPartnerWrites((_partnerId, operations) => {
        if (!failing(operations)) return null;
        tries += 1;
        return new DependencyUnavailable('Cosmos DB');
      }),
    );
    return { host, tries: () => tries };
  };

  const isUnavailable = (answer: { status: number; body: any }) => {
    expect(answer.status).toBe(503);
    expect(answer.body.code).toBe('unavailable');
  };

  it('answers a registration 503 after one try, not as ten taken slots, and writes no endpoint', async () => {
    const partner = await createPartnerWithProfile(app);
    const failing = unavailableFor(claimsSlot);
    const host = await failing.host;
    try {
      const answer = await host.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: 'https://hooks.example.com/down', events: ['*'] },
      });
      isUnavailable(answer);
      expect(failing.tries()).toBe(1);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(await app.documents(partner.partnerId, 'webhook')).toEqual([]);
    expect(await app.documents(partner.partnerId, 'webhook-slot')).toEqual([]);
  });

  it('answers a change, a secret rotation and a deletion 503, not as a change made meanwhile, and leaves the endpoint as it was', async () => {
    const { partner, webhookId, path } = await partnerWithEndpoint({ description: 'ours' });
    const token = partner.adminToken;
    const before = await app.api('GET', path, { token });
    const failing = unavailableFor((operations) =>
      touches(operations).some(
        (touched) => touched === 'webhook' || touched === webhookDocumentId(webhookId),
      ),
    );
    const host = await failing.host;
    try {
      isUnavailable(await host.api('PATCH', path, { token, body: { description: 'renamed' } }));
      isUnavailable(await host.api('POST', `${path}/secret`, { token }));
      isUnavailable(await host.api('DELETE', path, { token }));
      expect(failing.tries()).toBe(3);
    } finally {
      await host.close({ keepDatabase: true });
    }
    const after = await app.api('GET', path, { token });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(await webhookActions(token)).toEqual(['webhook-created']);
  });
});

describe('a secret rotation racing a change', () => {
  it('tells a rotation that read the endpoint before the change to read it again: 409 in plain words, the change kept', async () => {
    const { partner, webhookId, path } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const slow = await holdingHost(app, webhookDocumentId(webhookId));
    try {
      const late = slow.host.api('POST', `${path}/secret`, { token });
      await slow.held.reached;
      const changed = await app.api('PATCH', path, { token, body: { description: 'meanwhile' } });
      expect(changed.status).toBe(200);
      slow.held.open();
      const refused = await late;
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The webhook endpoint changed meanwhile; read it and try again.',
      });
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    expect((await app.api('GET', path, { token })).body.description).toBe('meanwhile');
    expect(await webhookActions(token)).toEqual(['webhook-changed', 'webhook-created']);
  });
});

describe('an endpoint that does not exist', () => {
  it('is answered 404 naming the webhook endpoint, by every route that reads it', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${randomUUID()}`;
    for (const [method, route, body] of [
      ['GET', path, undefined],
      ['PATCH', path, { description: 'gone' }],
      ['DELETE', path, undefined],
      ['POST', `${path}/secret`, undefined],
      ['POST', `${path}/test`, undefined],
      ['GET', `${path}/deliveries`, undefined],
    ] as const) {
      const answer = await app.api(method, route, { token, ...(body ? { body } : {}) });
      expect(answer.status, `${method} ${route}`).toBe(404);
      expect(answer.body, `${method} ${route}`).toMatchObject({
        code: 'not-found',
        detail: 'This webhook endpoint was not found.',
      });
    }
  });
});

describe('an endpoint changed while it is behind on its feed', () => {
  it('is still sent the events published before a change that does not enable it', async () => {
    const { partner, hook, path } = await partnerWithEndpoint();
    const token = partner.adminToken;
    for (let n = 0; n < 2; n += 1) {
      expect(
        (await app.api('POST', '/api/me/customers', { token, body: newCustomer() })).status,
      ).toBe(201);
    }
    await app.runTimer('deliverEvents'); // both published; one sent (its share of a run)
    expect(hook.received).toHaveLength(1);
    const changed = await app.api('PATCH', path, { token, body: { description: 'renamed' } });
    expect(changed.status).toBe(200);
    await app.runTimer('deliverEvents');
    const feed = await app.api('GET', '/api/me/events', { token });
    const published = (feed.body.items as { id: string }[]).map((event) => event.id);
    expect(published).toHaveLength(2);
    expect(hook.received.map((received) => received.id)).toEqual(published);
  });
});

describe('what a change of an endpoint costs', () => {
  it('reads the feed position only to enable it: any other change reads the endpoint and writes one batch', async () => {
    const { partner, path } = await partnerWithEndpoint();
    const token = partner.adminToken;
    const costOf = async (body: Record<string, unknown>) => {
      let status = 0;
      const requests = await app.cosmosRequests!.during(async () => {
        ({ status } = await app.api('PATCH', path, { token, body }));
      });
      expect(status).toBe(200);
      const { pointReads, singlePartitionQueries, crossPartitionQueries, batches, writes } =
        roundTrips(requests);
      return { pointReads, singlePartitionQueries, crossPartitionQueries, batches, writes };
    };
    const plain = {
      pointReads: 1,
      singlePartitionQueries: 0,
      crossPartitionQueries: 0,
      batches: 1,
      writes: 0,
    };
    expect(await costOf({ description: 'active, renamed' })).toEqual(plain);
    expect(await costOf({ status: 'active' })).toEqual(plain);
    expect(await costOf({ status: 'disabled' })).toEqual(plain);
    expect(await costOf({ description: 'disabled, renamed' })).toEqual(plain);
    expect(await costOf({ status: 'disabled' })).toEqual(plain);
    expect(await costOf({ status: 'active' })).toEqual({ ...plain, pointReads: 2 });
  });
});

describe("an endpoint's changes in the activity log, one at a time", () => {
  it('logs a change of an active endpoint, and enabling one already active, as changes, never as a disabling', async () => {
    const { partner, path } = await partnerWithEndpoint();
    const token = partner.adminToken;
    expect((await app.api('PATCH', path, { token, body: { description: 'ours' } })).status).toBe(
      200,
    );
    expect(await webhookActions(token)).toEqual(['webhook-changed', 'webhook-created']);
    expect((await app.api('PATCH', path, { token, body: { status: 'active' } })).status).toBe(200);
    expect(await webhookActions(token)).toEqual([
      'webhook-changed',
      'webhook-changed',
      'webhook-created',
    ]);
    expect((await app.api('PATCH', path, { token, body: { status: 'disabled' } })).status).toBe(
      200,
    );
    expect(await webhookActions(token)).toEqual([
      'webhook-changed',
      'webhook-changed',
      'webhook-created',
      'webhook-disabled',
    ]);
  });
});
