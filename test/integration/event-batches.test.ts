import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventRepository } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { eventFor, eventSequenceId, feedStream, type FeedEvent } from '../../shared/domain/events';
import { deliveryLeaseSeconds, webhookStream } from '../../shared/domain/webhooks';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { roundTripsByPartition } from '../support/cosmos-requests';
import { newCustomer } from '../support/customers';
import { expireFromFeed, rewriteCursor, storedEvents } from '../support/events';
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

/**
 * A partner with a webhook endpoint for `events` (created before any of its events), on `on`
 * (the file's app unless given).
 */
async function partnerWithEndpoint(on: TestApp = app, events: string[] = ['customer.created']) {
  const partner = await createPartnerWithProfile(on);
  // The partner's own events so far (its profile) are published and sent before the test's.
  await on.runTimer('deliverEvents');
  const secrets: string[] = [];
  const hook = await startWebhookReceiver({ secrets });
  receivers.push(hook);
  const created = await on.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events },
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

type Kind = 'agreement.accepted' | 'enrollment.rejected';

/**
 * Events written in the partner's partition as a change writes them (waiting to be published),
 * in this order, each `padding` characters larger than its smallest: their ids. The clock then
 * moves a second, so that events written later come after them in the feed.
 */
async function written(
  on: TestApp,
  partner: Partner,
  kinds: readonly Kind[],
  padding = 0,
): Promise<string[]> {
  const at = on.clock.now();
  const filler = 'x'.repeat(padding);
  const documents = kinds.map((kind, index) => ({
    ...(kind === 'agreement.accepted'
      ? eventFor(
          randomUUID(),
          partner.partnerId,
          kind,
          { templateId: 'terms', version: `1.${index}${filler}`, acceptedAt: at.toISOString() },
          at,
        )
      : eventFor(
          randomUUID(),
          partner.partnerId,
          kind,
          { rejectedAt: at.toISOString(), reason: `not yet ${index}${filler}` },
          at,
        )),
    publishDueAt: new Date(at.getTime() + index).toISOString(),
  }));
  // A batch holds 2 MB: large events one at a time.
  const perBatch = padding > 0 ? 1 : 100;
  for (let from = 0; from < documents.length; from += perBatch) {
    await on.services.partners.commit(
      partner.partnerId,
      documents.slice(from, from + perBatch).map((document) => ({
        op: 'create' as const,
        document,
      })),
    );
  }
  on.clock.advance({ seconds: 1 });
  return documents.map((document) => document.id);
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

/**
 * An endpoint's next events taken from its partner's feed (shared/app/fan-out.ts): a share per
 * run (EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN, 4 on the paced app here), the claims of a take
 * within a transactional batch's 2 MB, and an event published while a run was taking those
 * before it never left unsent.
 */
describe("an endpoint's events taken from its partner's feed", () => {
  const pacedEnv = { EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '4' };
  let paced: TestApp;
  beforeAll(async () => {
    paced = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: pacedEnv,
    });
  });
  afterAll(() => paced.close());

  /** The figures of the events backlog on the operators' status page. */
  async function eventsBacklog(on: TestApp) {
    const response = await on.api('GET', '/api/operator/status', {
      token: await on.operatorToken(),
    });
    expect(response.status).toBe(200);
    return response.body.events as { pending: number; oldestPendingAgeSeconds: number | null };
  }

  /** A run of a host that publishes and sends nothing: the endpoints told stay due. */
  async function publishOnly(on: TestApp): Promise<void> {
    const host = await startSecondHost(on, (services) => ({
      ...services,
      events: override(services.events, {
        cursorsDue: async () => [],
        deliveriesDue: async () => [],
      }),
    }));
    try {
      await host.runTimer('deliverEvents');
    } finally {
      await host.close({ keepDatabase: true });
    }
  }

  /**
   * A host (with \`env\`) whose first take from the partner's feed is followed, before it writes
   * the take, by one more event of the partner published by another host (its id in \`late\`):
   * the endpoint is still due then, so that publication tells it nothing.
   */
  function racedHost(
    on: TestApp,
    partner: Partner,
    late: string[],
    env: Record<string, string> = pacedEnv,
  ) {
    let armed = true;
    return startSecondHost(
      on,
      (services) => ({
        ...services,
        events: override(services.events, {
          feed: async (partnerId: string, after: number, limit: number) => {
            const events = await services.events.feed(partnerId, after, limit);
            if (armed && partnerId === partner.partnerId && limit > 1) {
              armed = false;
              late.push(...(await written(on, partner, ['agreement.accepted'])));
              await publishOnly(on);
            }
            return events;
          },
        }),
      }),
      env,
    );
  }

  /**
   * Disables an endpoint left behind, and runs the timer that quiets it: the status page counts
   * every endpoint's backlog, and the tests after this one count from theirs.
   */
  async function setAside(on: TestApp, partner: Partner, webhookId: string): Promise<void> {
    const disabled = await on.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    await on.runTimer('deliverEvents');
  }

  async function arrival(hook: WebhookReceiver, count: number): Promise<void> {
    for (let waited = 0; hook.received.length < count && waited < 200; waited += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('sends an endpoint behind its share a run, in feed order, passing over the events it does not subscribe to, until it is caught up', async () => {
    const { partner, hook } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const kinds = Array.from({ length: 20 }, (_, index): Kind =>
      index % 2 === 0 ? 'agreement.accepted' : 'enrollment.rejected',
    );
    const ids = await written(paced, partner, kinds);
    const sent: number[] = [];
    for (let run = 0; run < 4; run += 1) {
      await paced.runTimer('deliverEvents');
      sent.push(hook.received.length);
    }
    // 4 a run, though a take of 4 from the feed holds only 2 of the endpoint's events.
    expect(sent).toEqual([4, 8, 10, 10]);
    expect(hook.received.map((received) => received.id)).toEqual(
      ids.filter((_, index) => kinds[index] === 'agreement.accepted'),
    );
  });

  it('counts on the status page the events an endpoint behind has yet to be sent: 10, then 6, 2 and none as its share is sent each run', async () => {
    const { partner, hook } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    await written(paced, partner, Array<Kind>(10).fill('agreement.accepted'));
    await publishOnly(paced);
    const pending = [(await eventsBacklog(paced)).pending - before];
    for (let run = 0; run < 3; run += 1) {
      await paced.runTimer('deliverEvents');
      pending.push((await eventsBacklog(paced)).pending - before);
    }
    expect(pending).toEqual([10, 6, 2, 0]);
    expect(hook.received).toHaveLength(10);
  });

  it('counts on the status page every event an endpoint has yet to be sent, those published while it was already behind too', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    // Two events (the endpoint told of them, due), then ten more while it is due already.
    await written(paced, partner, Array<Kind>(2).fill('agreement.accepted'));
    await publishOnly(paced);
    await written(paced, partner, Array<Kind>(10).fill('agreement.accepted'));
    await publishOnly(paced);
    const pending = [(await eventsBacklog(paced)).pending - before];
    await paced.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(4);
    pending.push((await eventsBacklog(paced)).pending - before);
    // 12 waiting, then 8 once its share of 4 is sent.
    expect(pending).toEqual([12, 8]);
    await setAside(paced, partner, webhookId);
    expect((await eventsBacklog(paced)).pending).toBe(before);
  });

  it('counts on the status page every event of a flood an endpoint has yet to be sent, past the first publication round of 50', async () => {
    const { partner, webhookId } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    await written(paced, partner, Array<Kind>(60).fill('agreement.accepted'));
    await publishOnly(paced);
    expect((await eventsBacklog(paced)).pending - before).toBe(60);
    await setAside(paced, partner, webhookId);
    expect((await eventsBacklog(paced)).pending).toBe(before);
  });

  it('counts none, never fewer, for an endpoint behind whose cursor is past its feed head or at it', async () => {
    const { partner, webhookId } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    await written(paced, partner, Array<Kind>(2).fill('agreement.accepted'));
    await publishOnly(paced);
    expect((await eventsBacklog(paced)).pending).toBe(before + 2);
    const head = (await paced.pointRead(partner.partnerId, eventSequenceId)).next - 1;
    const pending: number[] = [];
    for (const through of [head + 3, head]) {
      // Still due, with nothing (or less than nothing) left to send; a run that sends nothing
      // counts the backlog again.
      await rewriteCursor(paced, webhookId, { through });
      await publishOnly(paced);
      pending.push((await eventsBacklog(paced)).pending - before);
    }
    expect(pending).toEqual([0, 0]);
    await setAside(paced, partner, webhookId);
  });

  it('sends in the same run an event published while the run was taking the events before it', async () => {
    const { partner, hook } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const ids = await written(paced, partner, ['agreement.accepted', 'agreement.accepted']);
    await publishOnly(paced);
    const late: string[] = [];
    const host = await racedHost(paced, partner, late);
    try {
      await host.runTimer('deliverEvents');
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(late).toHaveLength(1);
    expect(hook.received.map((received) => received.id)).toEqual([...ids, ...late]);
    await paced.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(3);
  });

  it('leaves the endpoint due when an event is published while a run takes exactly its share: the next run sends it', async () => {
    const { partner, hook } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const ids = await written(paced, partner, Array<Kind>(4).fill('agreement.accepted'));
    await publishOnly(paced);
    const late: string[] = [];
    const host = await racedHost(paced, partner, late);
    try {
      await host.runTimer('deliverEvents');
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(hook.received.map((received) => received.id)).toEqual(ids);
    await paced.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.id)).toEqual([...ids, ...late]);
  });

  /**
   * A customer created through a host that delivers promptly (with `env`), raced as racedHost
   * says, with an endpoint for both kinds of event: what it received once `arrivals` came, and
   * the late event's id.
   */
  async function createdWhilePromptRunRaced(env: Record<string, string>, arrivals: number) {
    const { partner, hook } = await partnerWithEndpoint(paced, [
      'customer.created',
      'agreement.accepted',
    ]);
    const late: string[] = [];
    const host = await racedHost(paced, partner, late, {
      ...pacedEnv,
      EVENTS_PROMPT_DELIVERY: 'true',
      ...env,
    });
    try {
      const created = await host.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(created.status).toBe(201);
      await arrival(hook, arrivals);
    } finally {
      await host.close({ keepDatabase: true });
    }
    return { hook, late };
  }

  it('sends promptly, within its allowance, an event published while a prompt run was taking the one before it', async () => {
    const { hook, late } = await createdWhilePromptRunRaced({}, 2);
    expect(hook.received.map((received) => received.type)).toEqual([
      'customer.created',
      'agreement.accepted',
    ]);
    expect(hook.received[1]!.id).toBe(late[0]);
  });

  it('leaves the endpoint due for the timer when an event is published while a prompt run takes the last of its allowance', async () => {
    const { hook, late } = await createdWhilePromptRunRaced(
      { EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE: '1' },
      1,
    );
    expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);
    await paced.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.id)).toEqual([hook.received[0]!.id, late[0]]);
  });

  it('makes an endpoint whose waiting events expired from the feed (30 days) due no more: the backlog stops counting them', async () => {
    const { partner, hook } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    const ids = await written(paced, partner, Array<Kind>(6).fill('agreement.accepted'));
    await publishOnly(paced);
    expect((await eventsBacklog(paced)).pending).toBe(before + 6);
    await expireFromFeed(paced, partner.partnerId, ids);
    await paced.runTimer('deliverEvents');
    expect(hook.received).toEqual([]);
    expect((await eventsBacklog(paced)).pending).toBe(before);
  });

  it('makes an endpoint disabled while behind due no more: the backlog stops counting the events it would have been sent', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const before = (await eventsBacklog(paced)).pending;
    await written(paced, partner, Array<Kind>(6).fill('agreement.accepted'));
    await paced.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(4);
    expect((await eventsBacklog(paced)).pending).toBe(before + 2);
    const disabled = await paced.api('PATCH', `/api/me/webhooks/${webhookId}`, {
      token: partner.adminToken,
      body: { status: 'disabled' },
    });
    expect(disabled.status).toBe(200);
    await paced.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(4);
    expect((await eventsBacklog(paced)).pending).toBe(before);
  });

  it('writes nothing for an endpoint another host caught up while this run waited to take its events', async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint(paced, ['agreement.accepted']);
    const ids = await written(paced, partner, ['agreement.accepted', 'agreement.accepted']);
    await publishOnly(paced);
    const held = gate();
    let armed = true;
    const cursorWrites: unknown[] = [];
    const slow = await startSecondHost(
      paced,
      (services) => ({
        ...services,
        events: override(services.events, {
          cursor: async (id: string) => {
            if (armed && id === webhookId) {
              armed = false;
              await held.hold();
            }
            return services.events.cursor(id);
          },
          advance: async (cursor, etag, deliveries) => {
            if (cursor.webhookId === webhookId) cursorWrites.push(cursor);
            return services.events.advance(cursor, etag, deliveries);
          },
        }),
      }),
      pacedEnv,
    );
    const run = slow.runTimer('deliverEvents');
    try {
      await held.reached;
      await paced.runTimer('deliverEvents');
      expect(hook.received.map((received) => received.id)).toEqual(ids);
    } finally {
      held.open();
      await run;
      await slow.close({ keepDatabase: true });
    }
    expect(hook.received).toHaveLength(2);
    expect(cursorWrites).toEqual([]);
  });

  it("sends an endpoint 25 events behind in one run, two takes, each writing the endpoint's cursor with its claims in one batch: no write of the cursor alone", async () => {
    const { partner, hook, webhookId } = await partnerWithEndpoint(app, ['agreement.accepted']);
    const ids = await written(app, partner, Array<Kind>(25).fill('agreement.accepted'));
    const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    expect(hook.received.map((received) => received.id)).toEqual(ids);
    // Two takes (20, then 5), each claimed in one batch and settled in another; the one write
    // is the cursor's creation, when publication told the endpoint.
    expect(roundTripsByPartition(requests).get(webhookStream(webhookId))).toMatchObject({
      batches: 4,
      writes: 1,
    });
  });

  it('claims two events in one batch when, with their deliveries, they come to 1.5 MB exactly; one byte more and each is claimed alone', async () => {
    const claimBatches: number[] = [];
    for (const over of [0, 1]) {
      const { partner, hook, webhookId } = await partnerWithEndpoint(app, ['agreement.accepted']);
      /** An event written and published (the endpoint told, nothing sent): its size as taken. */
      const feedBytes = new Map<string, number>();
      const published = async (padding: number): Promise<number> => {
        const [id] = await written(app, partner, ['agreement.accepted'], padding);
        await publishOnly(app);
        const feed = await app.services.events.feed(partner.partnerId, 0, 100);
        const event = feed.find((candidate) => candidate.id === id)!;
        feedBytes.set(id!, Buffer.byteLength(JSON.stringify(event), 'utf8'));
        return feedBytes.get(id!)!;
      };
      // A, then B and C each sized so that A + B and B + C are half of 1.5 MB (and `over`).
      const a = await published(370_000);
      const half = 750_000 + over;
      const b = await published(370_000 + (half - a) - a);
      const c = await published(370_000 + (half - b) - a);
      expect([a + b, b + c]).toEqual([half, half]);
      const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
      expect(hook.received.map((received) => received.id)).toEqual([...feedBytes.keys()]);
      // Less the one batch that settles the three, delivered, together.
      claimBatches.push(roundTripsByPartition(requests).get(webhookStream(webhookId))!.batches - 1);
    }
    // At 1.5 MB: A and B, then C. One byte over: each alone.
    expect(claimBatches).toEqual([2, 3]);
  });

  it('takes events too large for 20 to a batch a few at a time, each batch within 1.5 MB, one larger than that alone: each sent once, in order', async () => {
    const { partner, hook } = await partnerWithEndpoint(app, ['agreement.accepted']);
    const ids = [
      ...(await written(app, partner, Array<Kind>(12).fill('agreement.accepted'), 200_000)),
      ...(await written(app, partner, ['agreement.accepted'], 900_000)),
      ...(await written(app, partner, Array<Kind>(2).fill('agreement.accepted'), 200_000)),
    ];
    const logged = app.logs.length;
    await app.runTimer('deliverEvents');
    expect(app.logs.slice(logged).filter((entry) => entry.level === 'error')).toEqual([]);
    expect(hook.received.map((received) => received.id)).toEqual(ids);
  });
});
