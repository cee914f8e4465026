import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRepository } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { eventSequenceId, feedStream, type FeedEvent } from '../../shared/domain/events';
import { deliveryLeaseSeconds, webhookStream } from '../../shared/domain/webhooks';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { roundTripsByPartition } from '../support/cosmos-requests';
import { newCustomer } from '../support/customers';
import { storedEvents } from '../support/events';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * deliverEvents' batched writes (docs/testing.md, Races, crashes and edges): a publication
 * round's events written to the feed in one transactional batch, and a take's delivered
 * deliveries settled together after the take is sent; each raced by a second host and crashed
 * at the write.
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

type Partner = Awaited<ReturnType<typeof createPartnerWithProfile>>;

/** A partner with a webhook endpoint for every event (created before any of its events). */
async function partnerWithEndpoint() {
  const partner = await createPartnerWithProfile(app);
  // The partner's own events so far (its profile) are published and sent before the test's.
  await app.runTimer('deliverEvents');
  const secrets: string[] = [];
  const hook = await startWebhookReceiver({ secrets });
  receivers.push(hook);
  const created = await app.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events: ['customer.created'] },
  });
  expect(created.status).toBe(201);
  secrets.push(created.body.secret);
  return { partner, hook, webhookId: created.body.webhookId as string };
}

/** `count` customers created: as many customer.created events waiting to be published. */
async function changes(partner: Partner, count: number): Promise<void> {
  for (let n = 0; n < count; n += 1) {
    const created = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer({ companyName: `Customer ${n}` }),
    });
    expect(created.status).toBe(201);
  }
}

/** The feed as a reader pages through it from `after`: each event's number, in order. */
async function feedNumbers(partner: Partner, after = 0): Promise<number[]> {
  const numbers: number[] = [];
  let cursor = String(after);
  for (;;) {
    const page = await app.api('GET', `/api/me/events?pageSize=7&after=${cursor}`, {
      token: partner.adminToken,
    });
    expect(page.status).toBe(200);
    const count = page.body.items.length as number;
    if (count === 0) return numbers;
    // The cursor is the page's last number: a page whose numbers skip one shows as NaN here.
    const last = Number(page.body.cursor);
    const contiguous = last - Number(cursor) === count;
    for (let i = count - 1; i >= 0; i -= 1) numbers.push(contiguous ? last - i : NaN);
    cursor = page.body.cursor;
  }
}

/** The customer.created events of the partner in the feed container, by number. */
async function inFeed(partner: Partner): Promise<number[]> {
  return (await storedEvents(app, partner.partnerId, 'customer.created'))
    .flatMap((event) => (event.sequence === undefined ? [] : [event.sequence]))
    .sort((a, b) => a - b);
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** The published events' ids, in feed order, and the ids an endpoint received, in order. */
async function feedIds(partner: Partner): Promise<string[]> {
  const page = await app.api('GET', '/api/me/events?pageSize=100', { token: partner.adminToken });
  return page.body.items
    .filter((event: { type: string }) => event.type === 'customer.created')
    .map((event: { id: string }) => event.id);
}

async function publicationDone(partner: Partner): Promise<void> {
  const sequence = await app.pointRead(partner.partnerId, eventSequenceId);
  expect(sequence?.publishing).toBeUndefined();
  expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
}

describe("a publication round's events written to the feed in one batch", () => {
  it('writes a round of 50 events to the feed in one round trip, numbered in order, each once', async () => {
    const { partner, hook } = await partnerWithEndpoint();
    const before = (await feedNumbers(partner)).length;
    await changes(partner, 50);
    const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    expect(roundTripsByPartition(requests).get(feedStream(partner.partnerId))).toMatchObject({
      batches: 1,
      writes: 0,
    });
    expect(await feedNumbers(partner)).toEqual(range(1, before + 50));
    expect(await inFeed(partner)).toEqual(range(before + 1, before + 50));
    expect(hook.received.map((received) => received.id)).toEqual(await feedIds(partner));
  });

  /**
   * A second host whose publication stops in its feed write until the test opens the gate:
   * before its batch (the feed events not yet there) or after it (there, the reservation not
   * yet removed).
   */
  async function heldPublisher(when: 'before' | 'after') {
    const held = gate();
    let armed = true;
    const host = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        addToFeed: async (events: readonly FeedEvent[]) => {
          const hold = armed && events.length > 0;
          if (hold) armed = false;
          if (hold && when === 'before') await held.hold();
          await services.events.addToFeed(events);
          if (hold && when === 'after') await held.hold();
        },
      }),
    }));
    return { host, held };
  }

  for (const when of ['before', 'after'] as const) {
    it(`gives the feed each event once, in order and without a gap, when two publishers complete one reservation at once (one held ${when} its feed batch)`, async () => {
      const { partner, hook } = await partnerWithEndpoint();
      const before = (await feedNumbers(partner)).length;
      await changes(partner, 5);
      const slow = await publisherRun(when);
      // Meanwhile another host finds the reservation, completes it and sends the events.
      const logged = app.logs.length;
      await app.runTimer('deliverEvents');
      expect(app.logs.slice(logged).filter((entry) => entry.level === 'error')).toEqual([]);
      expect(await feedNumbers(partner)).toEqual(range(1, before + 5));
      // Its feed write finds the events there: it completes quietly, nothing for an operator.
      expect(await slow.finish()).toEqual([]);
      await app.runTimer('deliverEvents');
      expect(await feedNumbers(partner)).toEqual(range(1, before + 5));
      expect(await inFeed(partner)).toEqual(range(before + 1, before + 5));
      await publicationDone(partner);
      const ids = await feedIds(partner);
      expect(ids).toHaveLength(5);
      expect(hook.received.map((received) => received.id)).toEqual(ids);
    });
  }

  async function publisherRun(when: 'before' | 'after') {
    const { host, held } = await heldPublisher(when);
    const run = host.runTimer('deliverEvents');
    await held.reached;
    return {
      /** Lets the held publisher go on; answers what its run logged as errors. */
      finish: async () => {
        held.open();
        try {
          await run;
          return host.logs.filter((entry) => entry.level === 'error').map((entry) => entry.message);
        } finally {
          await host.close({ keepDatabase: true });
        }
      },
    };
  }

  it('completes, nothing doubled, the round of a publisher that died right after its feed batch; later events are published after it', async () => {
    const { partner, hook } = await partnerWithEndpoint();
    const before = (await feedNumbers(partner)).length;
    await changes(partner, 5);
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        addToFeed: async (events: readonly FeedEvent[]) => {
          await services.events.addToFeed(events);
          if (events.length > 0) throw new Error('process killed');
        },
      }),
    }));
    try {
      await dying.runTimer('deliverEvents');
    } finally {
      await dying.close({ keepDatabase: true });
    }
    // Its reservation is left: the feed holds the round, the partition still the events.
    expect((await app.pointRead(partner.partnerId, eventSequenceId))?.publishing).toHaveLength(5);
    expect(await inFeed(partner)).toEqual(range(before + 1, before + 5));
    await app.runTimer('deliverEvents');
    await publicationDone(partner);
    await changes(partner, 1);
    await app.runTimer('deliverEvents');
    expect(await feedNumbers(partner)).toEqual(range(1, before + 6));
    expect(await inFeed(partner)).toEqual(range(before + 1, before + 6));
    const ids = await feedIds(partner);
    expect(ids).toHaveLength(6);
    expect(hook.received.map((received) => received.id)).toEqual(ids);
  });

  it('writes the rest of a round, one by one in order, after a publisher that wrote only its first events died: a reader between two writes sees no gap', async () => {
    const { partner, hook } = await partnerWithEndpoint();
    const before = (await feedNumbers(partner)).length;
    await changes(partner, 5);
    // A publisher of the version before (one write per event) that died after two of five.
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        addToFeed: async (events: readonly FeedEvent[]) => {
          await services.events.addToFeed(events.slice(0, 2));
          throw new Error('process killed');
        },
      }),
    }));
    try {
      await dying.runTimer('deliverEvents');
    } finally {
      await dying.close({ keepDatabase: true });
    }
    expect(await inFeed(partner)).toEqual(range(before + 1, before + 2));
    // The next publisher's batch finds the first two there: it writes the others one at a
    // time, and a reader reads the feed before each of those writes.
    const seen: number[][] = [];
    const reading = await startSecondHost(app, (services) => ({
      ...services,
      events: readBeforeEachFeedWrite(services.events, async () => {
        seen.push(await feedNumbers(partner));
      }),
    }));
    try {
      await reading.runTimer('deliverEvents');
    } finally {
      await reading.close({ keepDatabase: true });
    }
    // Every read saw the feed's numbers from 1 on without a hole: 2 events of the round (before
    // the batch's first two, already there, and the third), then 3, then 4.
    expect(seen).toEqual([
      range(1, before + 2),
      range(1, before + 2),
      range(1, before + 2),
      range(1, before + 3),
      range(1, before + 4),
    ]);
    expect(await feedNumbers(partner)).toEqual(range(1, before + 5));
    expect(await inFeed(partner)).toEqual(range(before + 1, before + 5));
    await publicationDone(partner);
    await app.runTimer('deliverEvents');
    const ids = await feedIds(partner);
    expect(ids).toHaveLength(5);
    expect(hook.received.map((received) => received.id)).toEqual(ids);
  });
});

/**
 * The repository whose single feed writes (those after a batch that found some of its events
 * there) each wait for `read` first: an object over the repository, so that its own calls to
 * them come here.
 */
function readBeforeEachFeedWrite(
  events: EventRepository,
  read: () => Promise<void>,
): EventRepository {
  const repository = Object.getPrototypeOf(events) as Record<string, unknown>;
  const one = repository.addOneToFeed as (this: unknown, event: FeedEvent) => Promise<void>;
  expect(typeof one).toBe('function');
  const over = Object.create(events) as EventRepository & Record<string, unknown>;
  over.addOneToFeed = async function (this: unknown, event: FeedEvent) {
    await read();
    return one.call(this, event);
  };
  return over;
}

describe("a take's delivered deliveries settled together, after the take is sent", () => {
  const list = async (partner: Partner, webhookId: string) =>
    (
      await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, {
        token: partner.adminToken,
      })
    ).body.items as {
      eventId: string;
      status: string;
      attempt: number;
      outcome: string;
      responseStatus: number | null;
      nextAttemptAt: string | null;
    }[];
  const byEvent = async (partner: Partner, webhookId: string, ids: string[]) => {
    const items = await list(partner, webhookId);
    return ids.map((id) => items.find((item) => item.eventId === id));
  };

  it("settles a take of five delivered events in one round trip to the endpoint's partition", async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await changes(partner, 5);
    const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    expect(hook.received).toHaveLength(5);
    // The take's claims and its settlements a batch each, and no write of its own per delivery
    // (the one write is the endpoint's cursor, created at its first event).
    expect(roundTripsByPartition(requests).get(webhookStream(webhookId))).toMatchObject({
      batches: 2,
      writes: 1,
    });
    const ids = await feedIds(partner);
    expect(await byEvent(partner, webhookId, ids)).toEqual(
      ids.map((eventId) =>
        expect.objectContaining({ eventId, status: 'delivered', attempt: 1, responseStatus: 204 }),
      ),
    );
  });

  /** A second host whose settlement of delivered deliveries does `instead`. */
  const settling = (instead: (services: Services, settled: unknown[]) => Promise<void>) =>
    startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        settleDeliveries: (settled) => instead(services, [...settled]),
      }),
    }));

  it('sends a take again, with the same webhook-ids, when its host died after sending it and before settling it: once the lease lapses, not before; then settled', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await changes(partner, 3);
    const dying = await settling(async (_services, settled) => {
      if (settled.length > 0) throw new Error('process killed');
    });
    const sentAt = app.clock.now().getTime();
    try {
      await dying.runTimer('deliverEvents');
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const ids = await feedIds(partner);
    expect(hook.received.map((received) => received.id)).toEqual(ids);
    expect((await list(partner, webhookId)).map((item) => item.status)).toEqual(
      Array(3).fill('sending'),
    );
    app.clock.set(new Date(sentAt + deliveryLeaseSeconds * 1000 - 1));
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(3);
    app.clock.set(new Date(sentAt + deliveryLeaseSeconds * 1000));
    await app.runTimer('deliverEvents');
    // At least once (docs/api.md): sent again, each with its webhook-id, for the endpoint to drop.
    expect(hook.received.map((received) => received.id)).toEqual([...ids, ...ids]);
    expect(await byEvent(partner, webhookId, ids)).toEqual(
      ids.map((eventId) => expect.objectContaining({ eventId, status: 'delivered', attempt: 2 })),
    );
    app.clock.advance({ seconds: deliveryLeaseSeconds * 10 });
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(6);
  });

  it("leaves a delivery another run took over between this run's send and its settlement as that run made it", async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await changes(partner, 3);
    const held = gate();
    const slow = await settling(async (services, settled) => {
      if (settled.length > 0) await held.hold();
      await services.events.settleDeliveries(settled as never);
    });
    const sentAt = app.clock.now().getTime();
    const run = slow.runTimer('deliverEvents');
    try {
      await held.reached;
      expect(hook.received).toHaveLength(3);
      // The slow run's lease lapses; another run takes the three over, and they fail there.
      app.clock.set(new Date(sentAt + deliveryLeaseSeconds * 1000));
      hook.answer({ status: 500 }, { status: 500 }, { status: 500 });
      await app.runTimer('deliverEvents');
      expect(hook.received).toHaveLength(6);
    } finally {
      held.open();
      await run;
      await slow.close({ keepDatabase: true });
    }
    const ids = await feedIds(partner);
    expect(await byEvent(partner, webhookId, ids)).toEqual(
      ids.map((eventId) =>
        expect.objectContaining({
          eventId,
          status: 'pending',
          attempt: 2,
          outcome: 'failed',
          responseStatus: 500,
        }),
      ),
    );
  });

  it('writes a failed delivery in the middle of a take at once, as retried, while the others of the take are settled delivered together', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint();
    await changes(partner, 3);
    hook.answer({ status: 204 }, { status: 503 }, { status: 204 });
    const held = gate();
    const slow = await settling(async (services, settled) => {
      if (settled.length > 0) await held.hold();
      await services.events.settleDeliveries(settled as never);
    });
    const run = slow.runTimer('deliverEvents');
    let ids: string[];
    try {
      await held.reached;
      ids = await feedIds(partner);
      // The take is sent; its delivered ones are not written yet, the failed one already is.
      expect(await byEvent(partner, webhookId, ids)).toEqual([
        expect.objectContaining({ status: 'sending', attempt: 1 }),
        expect.objectContaining({
          status: 'pending',
          attempt: 1,
          outcome: 'failed',
          responseStatus: 503,
          nextAttemptAt: expect.any(String),
        }),
        expect.objectContaining({ status: 'sending', attempt: 1 }),
      ]);
    } finally {
      held.open();
      await run;
      await slow.close({ keepDatabase: true });
    }
    const after = await byEvent(partner, webhookId, ids);
    expect(after.map((item) => [item?.status, item?.responseStatus])).toEqual([
      ['delivered', 204],
      ['pending', 503],
      ['delivered', 204],
    ]);
    app.clock.set(after[1]!.nextAttemptAt!);
    await app.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.id)).toEqual([...ids, ids[1]]);
    expect((await byEvent(partner, webhookId, ids)).map((item) => item?.status)).toEqual(
      Array(3).fill('delivered'),
    );
  });
});
