import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverEvents, deliverWritten } from '../../shared/app/deliver-events';
import { publishPartition } from '../../shared/app/events';
import {
  DependencyUnavailable,
  WriteConflict,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import { eventFor, operatorEventsPartition, type EventSequence } from '../../shared/domain/events';
import { transitionCountsId } from '../../shared/domain/transition-counts';
import { webhookStream } from '../../shared/domain/webhooks';
import {
  failingPartnerWrites,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import type { CosmosRequest } from '../support/cosmos-requests';
import { directCustomer, newCustomer } from '../support/customers';
import { submitEnrollment } from '../support/enrollment';
import { relayedEvents, storedEvents } from '../support/events';
import { recordingLogger } from '../support/recording-logger';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * The edges of publication (docs/rules.md sections 11, 13 and 14; docs/api.md Events): a copy
 * that cannot be written holds its event back, and an order's event is never dropped; a
 * reservation or a completion that fails is counted and logged, and the next run publishes
 * whole what it left, each event once; another host that numbered the events first is no
 * failure, and one that completed a reservation first leaves nothing more to write; an endpoint
 * is told only of the events it is sent, and one already behind is left to the paced timer; an
 * endpoint whose cursor other writers changed under each of three tries leaves the publication
 * to the next run; the transition report is read once per publication, never for the operators.
 * (What a publication costs is asserted where a cost is all that tells a rule apart, as
 * test/integration/round-trip-budgets.)
 */
let app: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    countCosmosRequests: true,
  });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await app.close();
});

type Party = { partnerId: string; adminToken: string };

/** A receiver behind a new endpoint of `token`'s partner (or the operators', by `path`). */
async function endpoint(token: string, events: string[], path = '/api/me/webhooks') {
  const hook = await startWebhookReceiver();
  receivers.push(hook);
  const created = await app.api('POST', path, { token, body: { url: hook.url, events } });
  expect(created.status, created.text).toBe(201);
  return { hook, webhookId: created.body.webhookId as string };
}

async function customerCreated(party: Party): Promise<string> {
  const created = await app.api('POST', '/api/me/customers', {
    token: party.adminToken,
    body: newCustomer(),
  });
  expect(created.status, created.text).toBe(201);
  return created.body.customerId as string;
}

/** The partner's pull feed from the start, as its systems read it. */
async function feed(party: Party) {
  const page = await app.api('GET', '/api/me/events?pageSize=100', { token: party.adminToken });
  expect(page.status).toBe(200);
  return page.body as { items: { id: string; type: string; data: any }[]; cursor: string };
}

/** Every event already published when a test starts: what it counts is then its own. */
const publishedSoFar = () => app.runTimer('deliverEvents');

const errorsAbout = (logger: ReturnType<typeof recordingLogger>, partnerId: string) =>
  logger.lines.filter((line) => line.level === 'error' && line.properties?.partnerId === partnerId);

/** A batch reserving feed numbers: the partition's sequence written with events to publish. */
const reserves = (operations: WriteOperation<PartnerDocument>[]): boolean =>
  operations.some(
    (operation) =>
      'document' in operation &&
      operation.document.type === 'event-sequence' &&
      ((operation.document as EventSequence).publishing?.length ?? 0) > 0,
  );

/** The requests a run sent to one endpoint's own partition (its cursor, its deliveries). */
const onStream = (requests: CosmosRequest[], webhookId: string) =>
  requests.filter((request) => request.partitionKey === webhookStream(webhookId));

describe("copies to other partitions (the operators', an order's partners)", () => {
  it("holds an enrollment waiting for review back while its operators' copy cannot be written: the next run publishes it, and the operators receive it", async () => {
    await publishedSoFar();
    const operators = await endpoint(
      await app.operatorToken(),
      ['enrollment.submitted'],
      '/api/operator/webhooks',
    );
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, partner)).body.status).toBe('pending-approval');
    const unavailable = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === operatorEventsPartition ? new DependencyUnavailable('Cosmos DB') : null,
      ),
    );
    const logger = recordingLogger();
    try {
      const report = await deliverEvents(unavailable.services, logger);
      expect(report).toMatchObject({ published: 0, unpublished: 1 });
    } finally {
      await unavailable.close({ keepDatabase: true });
    }
    expect(errorsAbout(logger, partner.partnerId)).toEqual([
      {
        level: 'error',
        message: 'events could not be published; the next run tries again',
        properties: { partnerId: partner.partnerId, error: 'Cosmos DB is unavailable' },
      },
    ]);
    // Not published without its copy: still waiting, and not in the partner's feed.
    expect((await feed(partner)).items).toEqual([]);
    expect(await app.documents(partner.partnerId, 'event')).toHaveLength(1);

    await app.runTimer('deliverEvents');
    await app.runTimer('deliverEvents');
    expect((await feed(partner)).items.map((event) => event.type)).toEqual([
      'enrollment.submitted',
    ]);
    const forPartner = operators.hook.received.filter(
      (received) => JSON.parse(received.body).partnerId === partner.partnerId,
    );
    expect(forPartner.map((received) => received.type)).toEqual(['enrollment.submitted']);
  });

  it("keeps an order's event in the customer's partition while its partner's copy and counts are refused: the next run gives the partner both, once", async () => {
    await publishedSoFar();
    const { partner, customerId } = await directCustomer(app);
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: partner.adminToken,
      body: {
        lineItems: [
          { offerId: 'microsoft-365-business-basic', productType: 'license', quantity: 3 },
        ],
      },
    });
    expect(order.status, order.text).toBe(201);
    // A store that keeps refusing the patch of the partner's counts, written with the copy.
    const refusing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId, operations) => {
        const patch = operations.findIndex(
          (operation) => operation.op === 'patch' && operation.id === transitionCountsId,
        );
        return partnerId === partner.partnerId && patch >= 0
          ? new WriteConflict('missing', patch)
          : null;
      }),
    );
    try {
      await expect(refusing.runTimer('deliverEvents')).rejects.toThrow('refused: missing');
    } finally {
      await refusing.close({ keepDatabase: true });
    }
    expect(await relayedEvents(app, customerId, 'order.placed')).toHaveLength(1);
    expect((await feed(partner)).items.filter((event) => event.type === 'order.placed')).toEqual(
      [],
    );

    await app.runTimer('deliverEvents');
    await app.runTimer('deliverEvents');
    expect(await relayedEvents(app, customerId, 'order.placed')).toEqual([]);
    const placed = (await feed(partner)).items.filter((event) => event.type === 'order.placed');
    expect(placed).toHaveLength(1);
    expect(placed[0]!.data).toMatchObject({ customerId, orderId: order.body.orderId });
    const transition = await app.api('GET', '/api/me/transition', { token: partner.adminToken });
    expect(transition.body.counts.subscriptions).toMatchObject({ directBillActive: 1 });
  });
});

describe('a publication that fails halfway', () => {
  it('counts a partition whose feed numbers cannot be reserved as unpublished, logs it, and the next run publishes its events whole', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    await customerCreated(partner);
    await customerCreated(partner);
    const unavailable = await startSecondHost(
      app,
      failingPartnerWrites((partnerId, operations) =>
        partnerId === partner.partnerId && reserves(operations)
          ? new DependencyUnavailable('Cosmos DB')
          : null,
      ),
    );
    const logger = recordingLogger();
    try {
      const report = await deliverEvents(unavailable.services, logger);
      expect(report).toMatchObject({ published: 0, unpublished: 1 });
    } finally {
      await unavailable.close({ keepDatabase: true });
    }
    expect(errorsAbout(logger, partner.partnerId)).toEqual([
      {
        level: 'error',
        message: 'events could not be published; the next run tries again',
        properties: { partnerId: partner.partnerId, error: 'Cosmos DB is unavailable' },
      },
    ]);
    expect((await feed(partner)).items).toEqual([]);
    expect(await app.documents(partner.partnerId, 'event')).toHaveLength(2);

    await app.runTimer('deliverEvents');
    const after = await feed(partner);
    expect(after.items.map((event) => event.type)).toEqual([
      'customer.created',
      'customer.created',
    ]);
    expect(after.cursor).toBe('2');
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
  });

  it('counts a publication that could not be completed as unpublished; the next run completes it, sending nothing twice and writing nothing to the endpoint', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    const { hook, webhookId } = await endpoint(partner.adminToken, ['customer.created']);
    await customerCreated(partner);
    // The batch that removes the published events from the partition (with the reservation).
    const unavailable = await startSecondHost(
      app,
      failingPartnerWrites((partnerId, operations) =>
        partnerId === partner.partnerId && operations.some((operation) => operation.op === 'delete')
          ? new DependencyUnavailable('Cosmos DB')
          : null,
      ),
    );
    const logger = recordingLogger();
    try {
      const report = await deliverEvents(unavailable.services, logger);
      // In the feed, and sent: only its removal from the partition failed.
      expect(report).toMatchObject({ published: 0, unpublished: 1, delivered: 1 });
    } finally {
      await unavailable.close({ keepDatabase: true });
    }
    expect(errorsAbout(logger, partner.partnerId)).toEqual([
      {
        level: 'error',
        message: 'events could not be published; the next run tries again',
        properties: { partnerId: partner.partnerId, error: 'Cosmos DB is unavailable' },
      },
    ]);
    expect((await feed(partner)).items.map((event) => event.type)).toEqual(['customer.created']);
    expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);

    const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
    expect(hook.received).toHaveLength(1);
    expect((await feed(partner)).cursor).toBe('1');
    // The endpoint has been sent the event already: its cursor is read, not written again.
    expect(onStream(requests, webhookId).map((request) => request.kind)).toEqual(['point-read']);
  });

  it('reports nothing published and nothing wrong when another host numbered the waiting events first', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    await customerCreated(partner);
    await customerCreated(partner);
    // A host that stops once it has read the partner's waiting events, before numbering them.
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        toPublish: async (partnerId, now, limit) => {
          const waiting = await services.events.toPublish(partnerId, now, limit);
          if (partnerId === partner.partnerId && armed) {
            armed = false;
            await held.hold();
          }
          return waiting;
        },
      }),
    }));
    const logger = recordingLogger();
    try {
      const slowRun = deliverEvents(slow.services, logger);
      await held.reached;
      await app.runTimer('deliverEvents');
      held.open();
      expect(await slowRun).toMatchObject({ published: 0, unpublished: 0 });
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([]);
    const numbers = (await storedEvents(app, partner.partnerId))
      .map((event) => event.sequence)
      .sort();
    expect(numbers).toEqual([1, 2]);
    expect((await feed(partner)).items).toHaveLength(2);
  });
});

describe('two hosts completing one reservation', () => {
  it('reads the reservation again and writes nothing more when another host completed it first: the event is in the feed once', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    await customerCreated(partner);
    // A host that stops right after it reserved the event's feed number.
    const held = gate();
    let armed = true;
    const slow = await startTestApp({
      clock: app.clock,
      env: { COSMOS_DATABASE: app.config.cosmos.database },
      countCosmosRequests: true,
      decorate: (services) => ({
        ...services,
        partners: override(services.partners, {
          commit: async (partnerId, operations) => {
            const etag = await services.partners.commit(partnerId, operations);
            if (armed && partnerId === partner.partnerId && reserves(operations)) {
              armed = false;
              await held.hold();
            }
            return etag;
          },
        }),
      }),
    });
    try {
      const slowRun = publishPartition(slow.services, partner.partnerId);
      await held.reached;
      // Meanwhile another host finds the reservation and completes it.
      await app.runTimer('deliverEvents');
      const requests = await slow.cosmosRequests!.during(async () => {
        held.open();
        await slowRun;
      });
      expect(
        requests
          .filter((request) => request.partitionKey === partner.partnerId)
          .map((request) => request.kind),
      ).toEqual(['point-read']);
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
    const after = await feed(partner);
    expect(after.items.map((event) => event.type)).toEqual(['customer.created']);
    expect(after.cursor).toBe('1');
    expect(await app.pointRead(partner.partnerId, 'event-sequence')).toMatchObject({ next: 2 });
  });
});

describe('the endpoints a publication tells', () => {
  it('sends a new event to the active endpoint subscribed to it, and costs nothing to one disabled or one subscribed to other types', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    const subscribed = await endpoint(partner.adminToken, ['customer.created']);
    const disabled = await endpoint(partner.adminToken, ['customer.created']);
    const disabling = await app.api('PATCH', `/api/me/webhooks/${disabled.webhookId}`, {
      token: partner.adminToken,
      body: { status: 'disabled' },
    });
    expect(disabling.status).toBe(200);
    const other = await endpoint(partner.adminToken, ['agreement.accepted']);
    await customerCreated(partner);
    const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    expect(subscribed.hook.received.map((received) => received.type)).toEqual(['customer.created']);
    expect(disabled.hook.received).toEqual([]);
    expect(other.hook.received).toEqual([]);
    expect(onStream(requests, disabled.webhookId)).toEqual([]);
    expect(onStream(requests, other.webhookId)).toEqual([]);
  });

  it('leaves an endpoint already behind to the paced timer: the run right after a request sends it nothing, the timer sends it everything in order', async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    const { hook } = await endpoint(partner.adminToken, ['customer.created']);
    await customerCreated(partner);
    await customerCreated(partner);
    // Published by an earlier run, not sent yet: the endpoint is behind on two events.
    expect(await publishPartition(app.services, partner.partnerId)).toBe(2);
    const third = await customerCreated(partner);
    const report = await deliverWritten(app.services, recordingLogger(), {
      partners: new Set([partner.partnerId]),
      customers: new Set(),
      webhooks: new Set(),
    });
    expect(report).toMatchObject({ published: 1, delivered: 0 });
    expect(hook.received).toEqual([]);

    await app.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.type)).toEqual([
      'customer.created',
      'customer.created',
      'customer.created',
    ]);
    expect(JSON.parse(hook.received[2]!.body).data.customerId).toBe(third);
  });
});

describe("an endpoint's cursor written by others while a publication tells it", () => {
  /**
   * A partner whose endpoint was sent its first event (its cursor is there, caught up), a second
   * event waiting, and a host on which another writer rewrites the endpoint's cursor between
   * each of the first `times` reads and the write that follows it.
   */
  async function contended(times: number) {
    const partner = await createPartnerWithProfile(app);
    const { hook, webhookId } = await endpoint(partner.adminToken, ['customer.created']);
    await customerCreated(partner);
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);
    await customerCreated(partner);
    let rewritten = 0;
    const host = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        cursor: async (id) => {
          const found = await services.events.cursor(id);
          if (id === webhookId && found && rewritten < times) {
            rewritten += 1;
            expect(await services.events.advance(found.value, found.etag, [])).not.toBeNull();
          }
          return found;
        },
      }),
    }));
    const logger = recordingLogger();
    try {
      const report = await deliverEvents(host.services, logger);
      return { partner, hook, webhookId, rewritten, report, logger };
    } finally {
      await host.close({ keepDatabase: true });
    }
  }

  it('tells the endpoint at its third try when the first two lost to another writer: the run sends it the event', async () => {
    await publishedSoFar();
    const { hook, rewritten } = await contended(2);
    expect(rewritten).toBe(2);
    expect(hook.received.map((received) => received.type)).toEqual([
      'customer.created',
      'customer.created',
    ]);
  });

  it('leaves the publication to the next run when three tries lost to other writers: the run logs it, and the next run sends the event without waiting for another', async () => {
    await publishedSoFar();
    const { partner, hook, webhookId, rewritten, report, logger } = await contended(3);
    expect(rewritten).toBe(3);
    expect(report).toMatchObject({ published: 0, unpublished: 1 });
    expect(errorsAbout(logger, partner.partnerId)).toEqual([
      {
        level: 'error',
        message: 'events could not be published; the next run tries again',
        properties: {
          partnerId: partner.partnerId,
          error: `the cursor of webhook ${webhookId} changed under each of 3 tries to mark it due`,
        },
      },
    ]);
    expect(hook.received).toHaveLength(1);

    // No new event: the next run finishes the publication, tells the endpoint and sends it.
    await app.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.type)).toEqual([
      'customer.created',
      'customer.created',
    ]);
    expect(new Set(hook.received.map((received) => received.id)).size).toBe(2);
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
  });
});

describe("the operators' transition report, read before numbering", () => {
  /** Point reads of a partner's record (its id is its partition's). */
  const recordReads = (requests: CosmosRequest[], partnerId: string) =>
    requests.filter(
      (request) =>
        request.kind === 'point-read' &&
        request.partitionKey === partnerId &&
        request.path.endsWith(`/docs/${partnerId}`),
    );

  it("reads the partner's record once per publication, however many rounds its events take (60 events: two rounds)", async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app);
    // A bulk import's events, as its batches write them.
    const at = app.clock.now();
    for (let batch = 0; batch < 2; batch += 1) {
      await app.services.partners.commit(
        partner.partnerId,
        Array.from({ length: 30 }, (_, index) => ({
          op: 'create' as const,
          document: {
            ...eventFor(
              `bulk-${partner.partnerId}-${batch}-${index}`,
              partner.partnerId,
              'agreement.accepted',
              { templateId: 'bulk', version: `${batch}.${index}`, acceptedAt: at.toISOString() },
              at,
            ),
            publishDueAt: new Date(at.getTime() + batch * 30 + index).toISOString(),
          },
        })),
      );
    }
    let published = 0;
    const requests = await app.cosmosRequests!.during(async () => {
      published = await publishPartition(app.services, partner.partnerId);
    });
    expect(published).toBe(60);
    expect((await feed(partner)).cursor).toBe('60');
    expect(recordReads(requests, partner.partnerId)).toHaveLength(1);
  });

  it("publishes the operators' copies without reading a partner record in their partition", async () => {
    await publishedSoFar();
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, partner)).body.status).toBe('pending-approval');
    expect(await publishPartition(app.services, partner.partnerId)).toBe(1);
    let published = 0;
    const requests = await app.cosmosRequests!.during(async () => {
      published = await publishPartition(app.services, operatorEventsPartition);
    });
    expect(published).toBe(1);
    expect(recordReads(requests, operatorEventsPartition)).toEqual([]);
  });
});
