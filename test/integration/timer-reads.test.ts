import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { queuedEmail, settledEmail, type OutboxEmail } from '../../shared/domain/email';
import { operatorEventsPartition } from '../../shared/domain/events';
import { webhookStream, type EventDelivery } from '../../shared/domain/webhooks';
import { startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';
import { rangeOf } from '../support/ranges';

/**
 * What each timer run reads from Cosmos DB, on the stand-in's two partition key ranges: the
 * documents (or values) every range answered, counted at the wire. On Azure the SDK asks every
 * physical partition for a page at once, and a timer runs every minute: a run reads what it
 * needs, in pages of its own size, and counts a backlog without reading it (docs/capacity.md).
 */
let proxy: CosmosProxy;
let app: TestApp;
const ranges = 2;

beforeAll(async () => {
  proxy = await startCosmosProxy(inject('cosmosEndpoint'));
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    env: { COSMOS_ENDPOINT: proxy.url, EVENTS_DELIVERIES_PER_RUN: '50' },
  });
});
afterAll(async () => {
  await app.close();
  await proxy.close();
});

/** The documents and values the ranges answered a timer's queries during one run. */
async function readDuring(timer: string): Promise<{ items: number; pages: number }> {
  proxy.seen.length = 0;
  await app.runTimer(timer);
  const queries = proxy.seen.filter((request) => request.kind === 'query');
  return {
    items: queries.reduce((sum, request) => sum + (request.items ?? 0), 0),
    pages: queries.length,
  };
}

/** Four partitions, spread over both ranges. */
function partitions(): string[] {
  for (;;) {
    const ids = Array.from({ length: 4 }, () => randomUUID());
    if (new Set(ids.map(rangeOf)).size === ranges) return ids;
  }
}

const tomorrow = '2026-03-03T09:00:00.000Z';
const body = 'x'.repeat(4_000);

function email(partnerId: string, failed: boolean): OutboxEmail {
  const queued = queuedEmail(
    randomUUID(),
    partnerId,
    'partner-invitation',
    { to: 'someone@example.com', subject: 'An invitation', text: body, html: body, links: [] },
    app.clock.now(),
  );
  return failed
    ? settledEmail(queued, 'failed', app.clock.now(), 'refused')
    : { ...queued, dueAt: tomorrow };
}

function delivery(partnerId: string, webhookId: string, failed: boolean): EventDelivery {
  const at = app.clock.now().toISOString();
  const eventId = `evt_${randomUUID().replace(/-/g, '')}`;
  return {
    type: 'delivery',
    id: `delivery-${webhookId}-${eventId}`,
    stream: webhookStream(webhookId),
    partnerId,
    webhookId,
    eventId,
    eventType: 'customer.created',
    body: JSON.stringify({ id: eventId, data: body.slice(0, 1000) }),
    status: failed ? 'failed' : 'pending',
    attempts: 3,
    ...(failed ? { failedAt: at } : { dueAt: tomorrow }),
    firstAttemptAt: at,
    createdAt: at,
    updatedAt: at,
    history: [],
  };
}

/** Deliveries written in batches beside their endpoint's cursor (caught up: not due). */
async function seedDeliveries(
  partnerId: string,
  webhookId: string,
  deliveries: EventDelivery[],
): Promise<void> {
  let etag: string | null = null;
  for (let start = 0; start < deliveries.length; start += 90) {
    const cursor = {
      type: 'webhook-cursor' as const,
      id: 'cursor' as const,
      stream: webhookStream(webhookId),
      partnerId,
      webhookId,
      through: start,
    };
    const etags = await app.services.events.advance(
      cursor,
      etag,
      deliveries.slice(start, start + 90),
    );
    etag = etags![0]!;
  }
}

describe('what a timer run reads, on two partition key ranges', () => {
  it('counts an outbox of 100 failed and 100 waiting emails without reading them', async () => {
    for (const partnerId of partitions()) {
      await app.services.partners.commit(
        partnerId,
        Array.from({ length: 50 }, (_, index) => ({
          op: 'create' as const,
          document: email(partnerId, index % 2 === 0),
        })),
      );
    }
    const read = await readDuring('deliverEmails');
    // Per range: a due page per lane (none due), the waiting COUNT and MIN, the failed COUNT
    // and at most 20 recent failures (a few properties each, never their bodies).
    expect(read.items).toBeLessThanOrEqual(ranges * (1 + 1 + 1 + 20));
    const status = await app.api('GET', '/api/operator/status', {
      token: await app.operatorToken(),
    });
    expect(status.body.emails).toMatchObject({ pending: 100, failed: 100 });
    expect(status.body.emails.recentFailures).toHaveLength(20);
  });

  it("counts 100 failed and 100 waiting deliveries without reading them, a failing endpoint's apart", async () => {
    for (const [index, partnerId] of partitions().entries()) {
      const webhookId = `hook-${index}-${randomUUID()}`;
      // Failures for good of the operators' own endpoints (the platform's), and deliveries
      // waiting for their first attempt.
      await seedDeliveries(
        partnerId,
        webhookId,
        Array.from({ length: 50 }, (_, item) =>
          item % 2 === 0
            ? delivery(operatorEventsPartition, webhookId, true)
            : { ...delivery(partnerId, webhookId, false), attempts: 0 },
        ),
      );
      // A partner's endpoint failing: its deliveries wait for a retry, counted apart.
      const failingId = `hook-failing-${index}-${randomUUID()}`;
      await seedDeliveries(
        partnerId,
        failingId,
        Array.from({ length: 10 }, () => delivery(partnerId, failingId, false)),
      );
    }
    const read = await readDuring('deliverEvents');
    // Per range: the relayed events', the partitions', the retries' and the endpoints' pages
    // (none due), the failing endpoints' ids (one each), the deliveries' COUNT, MIN, failed COUNT
    // and 20 recent failures, the endpoints behind (none: a row each) and their oldest (MIN).
    expect(read.items).toBeLessThanOrEqual(ranges * (1 + 1 + 1 + 20 + 1 + 1) + partitions().length);
    const status = await app.api('GET', '/api/operator/status', {
      token: await app.operatorToken(),
    });
    expect(status.body.events).toMatchObject({
      pending: 100,
      failed: 100,
      endpointsFailing: partitions().length,
    });
  });

  it('reads deliveries to try again in pages of its run, not of every range at once', async () => {
    const [partnerId] = partitions();
    // 120 retries of one endpoint due now (the endpoint is gone: each is settled failed).
    const webhookId = `hook-gone-${randomUUID()}`;
    await seedDeliveries(
      partnerId!,
      webhookId,
      Array.from({ length: 120 }, () => ({
        ...delivery(partnerId!, webhookId, false),
        dueAt: app.clock.now().toISOString(),
      })),
    );
    proxy.seen.length = 0;
    await app.runTimer('deliverEvents');
    const retries = proxy.seen.filter(
      (request) =>
        request.kind === 'query' && /c\.type = 'delivery' AND c\.dueAt/.test(request.query ?? ''),
    );
    const read = retries.reduce((sum, request) => sum + (request.items ?? 0), 0);
    // EVENTS_DELIVERIES_PER_RUN (50) per read, three reads at most: each read asks every range
    // for a page of 50, not of the whole run.
    expect(read).toBeLessThanOrEqual(3 * 50 * ranges);
    expect(Math.max(...retries.map((request) => request.items ?? 0))).toBeLessThanOrEqual(50);
  });
});
