import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverEvents, deliverWritten, emptyReport } from '../../shared/app/deliver-events';
import { publishPartition } from '../../shared/app/events';
import type { Versioned } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { operatorEventsPartition } from '../../shared/domain/events';
import type { EventDelivery, WebhookCursor } from '../../shared/domain/webhooks';
import { override, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { indirectCustomer, newCustomer } from '../support/customers';
import { submitEnrollment } from '../support/enrollment';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { recordingLogger } from '../support/recording-logger';

/**
 * The deliverEvents timer's edges (docs/api.md Timer functions, docs/rules.md section 13): a
 * partition that cannot be published and an endpoint whose turn fails are counted and logged,
 * holding up nothing else; the deliveries due again are read a share per endpoint, in at most
 * three reads, each past the endpoints that have their share.
 */

/**
 * What the test puts in front of the app's own stores: a backlog of deliveries due again (of
 * endpoints that no longer exist, so each attempt fails them without a request), partitions
 * and endpoints whose reads fail.
 */
interface Staged {
  backlog: Versioned<EventDelivery>[] | null;
  /** Each read of due deliveries: the endpoints passed over. */
  reads: string[][];
  /** The deliveries of the backlog attempted (written), in order. */
  written: string[];
  /** Run at each write of a delivery of the backlog (time passing, as a slow endpoint makes it). */
  onWrite: (() => void) | null;
  brokenPartitions: string[];
  brokenCursors: WebhookCursor[];
  /** Each read of a partner's feed, by partner. */
  feedReads: string[];
  /** Each read of an endpoint's cursor, by endpoint. */
  cursorReads: string[];
}

/** Nothing staged: each test starts from it. */
const nothingStaged = (): Staged => ({
  backlog: null,
  reads: [],
  written: [],
  onWrite: null,
  brokenPartitions: [],
  brokenCursors: [],
  feedReads: [],
  cursorReads: [],
});

const staged: Staged = nothingStaged();

function staging(services: Services): Services {
  const broken = (partnerId: string) =>
    staged.brokenPartitions.includes(partnerId) ||
    staged.brokenCursors.some((cursor) => cursor.partnerId === partnerId);
  return {
    ...services,
    events: override(services.events, {
      partitionsToPublish: async (now, limit) => [
        ...(await services.events.partitionsToPublish(now, limit)),
        ...staged.brokenPartitions,
      ],
      cursorsDue: async (now, limit) => [
        ...(await services.events.cursorsDue(now, limit)),
        ...staged.brokenCursors.map((value) => ({ value, etag: 'staged' })),
      ],
      cursor: async (webhookId) => {
        staged.cursorReads.push(webhookId);
        return services.events.cursor(webhookId);
      },
      feed: async (partnerId, from, limit) => {
        staged.feedReads.push(partnerId);
        return services.events.feed(partnerId, from, limit);
      },
      deliveriesDue: async (now, limit, passOver) => {
        if (!staged.backlog) return services.events.deliveriesDue(now, limit, passOver);
        staged.reads.push([...passOver].sort());
        return staged.backlog
          .filter((delivery) => !passOver.includes(delivery.value.webhookId))
          .slice(0, limit);
      },
      replaceDelivery: async (delivery, etag) => {
        if (!staged.backlog?.some((due) => due.value.id === delivery.id))
          return services.events.replaceDelivery(delivery, etag);
        staged.written.push(delivery.id);
        staged.onWrite?.();
        return null;
      },
    }),
    partners: override(services.partners, {
      getDocument: async (partnerId, id) => {
        if (broken(partnerId)) throw new Error(`${partnerId} cannot be read`);
        return services.partners.getDocument(partnerId, id);
      },
    }),
  };
}

/** Due deliveries oldest first, each named `<endpoint><n>` (endpoint `a`'s first is `a1`). */
function backlog(
  names: string[],
  of?: { webhookId: string; partnerId: string },
): Versioned<EventDelivery>[] {
  return names.map((name) => {
    const webhookId = of?.webhookId ?? `wh-${name.replace(/\d+$/, '')}`;
    return {
      value: {
        type: 'delivery',
        id: name,
        stream: webhookId,
        partnerId: of?.partnerId ?? `p-gone-${webhookId}`,
        webhookId,
        eventId: `evt-${name}`,
        eventType: 'customer.created',
        body: '{}',
        status: 'pending',
        attempts: 1,
        dueAt: '2026-03-02T08:59:00.000Z',
        firstAttemptAt: '2026-03-02T08:58:00.000Z',
        createdAt: '2026-03-02T08:58:00.000Z',
        updatedAt: '2026-03-02T08:58:00.000Z',
        history: [],
      } as EventDelivery,
      etag: `etag-${name}`,
    };
  });
}

/**
 * The run's clock (performance.now), frozen for each test of the calling describe and moved by
 * hand. It starts at a whole millisecond: with a fraction, (start + 10 000) - start can come out a
 * hair over 10 000 in floating point, and an edge would be tried a hair past it.
 */
function frozenRunClock(): { advance(ms: number): void } {
  let now = 0;
  beforeEach(() => {
    now = Math.floor(performance.now());
    vi.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return {
    advance(ms) {
      now += ms;
    },
  };
}

describe('deliverEvents edges', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_DELIVERIES_PER_RUN: '4', EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '3' },
      decorate: staging,
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    Object.assign(staged, nothingStaged());
  });

  it('counts a partition that cannot be published as unpublished and logs it with its partner', async () => {
    staged.brokenPartitions = ['p-broken'];
    const logger = recordingLogger();
    const report = await deliverEvents(app.services, logger);
    expect(report).toEqual({ ...emptyReport(), unpublished: 1 });
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'events could not be published; the next run tries again',
        properties: { partnerId: 'p-broken', error: 'p-broken cannot be read' },
      },
    ]);
  });

  it('counts an endpoint whose turn failed on an error of ours as unsent and logs it with its endpoint', async () => {
    staged.brokenCursors = [{ webhookId: 'wh-unsent', partnerId: 'p-unsent' } as WebhookCursor];
    const logger = recordingLogger();
    const report = await deliverEvents(app.services, logger);
    expect(report).toEqual({ ...emptyReport(), unsent: 1 });
    expect(logger.lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'webhook deliveries of an endpoint could not be sent; the next run tries again',
        properties: {
          partnerId: 'p-unsent',
          webhookId: 'wh-unsent',
          error: 'p-unsent cannot be read',
        },
      },
    ]);
  });

  it('tries again at most its share of each endpoint, in three reads at most, each past the endpoints that have their share', async () => {
    // 4 a read (EVENTS_DELIVERIES_PER_RUN), 3 an endpoint: a, b and c fill a read each.
    staged.backlog = backlog([
      'a1',
      'a2',
      'a3',
      'b1',
      'a4',
      'b2',
      'b3',
      'c1',
      'b4',
      'c2',
      'c3',
      'd1',
      'c4',
      'd2',
      'd3',
    ]);
    const report = await deliverEvents(app.services, recordingLogger());
    expect(staged.reads).toEqual([[], ['wh-a'], ['wh-a', 'wh-b']]);
    expect([...staged.written].sort()).toEqual(
      ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c1', 'c2', 'c3', 'd1'].sort(),
    );
    // Their endpoints are gone: each tried once, and failed.
    expect(report).toMatchObject({ failed: 10, delivered: 0, unsent: 0 });
    // None of them is behind on its feed: no turn reads a cursor.
    expect(staged.cursorReads).toEqual([]);
  });

  it('stops reading due deliveries at the first read that finds fewer than it asked for', async () => {
    staged.backlog = backlog(['a1', 'a2', 'a3', 'b1', 'a4', 'a5', 'b2', 'c1']);
    const report = await deliverEvents(app.services, recordingLogger());
    expect(staged.reads).toEqual([[], ['wh-a']]);
    expect([...staged.written].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].sort());
    expect(report).toMatchObject({ failed: 6 });
  });

  describe("an endpoint's turn of 10 s (the run's clock, performance.now)", () => {
    const clock = frozenRunClock();

    it('still starts an attempt at 10 s exactly into the turn', async () => {
      staged.backlog = backlog(['a1', 'a2']);
      staged.onWrite = () => {
        if (staged.written.length === 1) clock.advance(10_000);
      };
      const report = await deliverEvents(app.services, recordingLogger());
      expect(staged.written).toEqual(['a1', 'a2']);
      expect(report.failed).toBe(2);
    });

    it('starts none past 10 s: the rest waits for the next run', async () => {
      staged.backlog = backlog(['a1', 'a2']);
      staged.onWrite = () => {
        if (staged.written.length === 1) clock.advance(10_001);
      };
      const report = await deliverEvents(app.services, recordingLogger());
      expect(staged.written).toEqual(['a1']);
      expect(report.failed).toBe(1);
    });
  });
});

describe("deliverEvents: each endpoint's share of the run, within the run's budget", () => {
  let app: TestApp;
  const receivers: WebhookReceiver[] = [];
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_DELIVERIES_PER_RUN: '4', EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '3' },
      decorate: staging,
    });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await app.close();
  });
  beforeEach(() => {
    Object.assign(staged, nothingStaged());
  });

  /** A partner with an endpoint for every event, and `events` customers created since. */
  async function endpointBehind(events: number) {
    const partner = await createPartnerWithProfile(app);
    const hook = await startWebhookReceiver({ secrets: [] });
    receivers.push(hook);
    const created = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: hook.url, events: ['*'], description: 'edges' },
    });
    expect(created.status).toBe(201);
    for (let n = 0; n < events; n += 1) {
      const customer = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(customer.status).toBe(201);
    }
    return { partner, hook, webhookId: created.body.webhookId as string };
  }

  it("counts an endpoint that answered 410 Gone as failed and disabled, a partner's matter", async () => {
    const { partner, hook, webhookId } = await endpointBehind(0);
    hook.answer({ status: 410 });
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    expect(queued.status).toBe(202);
    const report = await deliverEvents(app.services, recordingLogger());
    expect(report).toMatchObject({ failed: 1, disabled: 1, platformFailed: 0, delivered: 0 });
  });

  it("counts a failed delivery to the operators' own endpoint as the platform's", async () => {
    staged.backlog = backlog(['ops1'], {
      webhookId: 'wh-ops-gone',
      partnerId: operatorEventsPartition,
    });
    const report = await deliverEvents(app.services, recordingLogger());
    expect(report).toMatchObject({ failed: 1, platformFailed: 1 });
  });

  it("sends an endpoint behind its share of the run's events (EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN), the rest on the next runs", async () => {
    const { partner, hook, webhookId } = await endpointBehind(5);
    let report = await deliverEvents(app.services, recordingLogger());
    expect(report.delivered).toBe(3);
    expect(hook.received).toHaveLength(3);
    // Having its share, its turn ends: it reads the feed no more this run (one read for the one
    // take), nor its cursor over and over until the turn's time is out.
    expect(staged.feedReads.filter((id) => id === partner.partnerId)).toHaveLength(1);
    expect(staged.cursorReads.filter((id) => id === webhookId).length).toBeLessThanOrEqual(2);
    app.clock.advance({ minutes: 1 });
    report = await deliverEvents(app.services, recordingLogger());
    expect(report.delivered).toBe(2);
    expect(hook.received).toHaveLength(5);
  });

  it('stops sending a take to an endpoint that answered 410 Gone: the rest of it is not sent', async () => {
    const { hook } = await endpointBehind(3);
    hook.answer({ status: 410 });
    const report = await deliverEvents(app.services, recordingLogger());
    expect(report).toMatchObject({ failed: 1, disabled: 1, delivered: 0 });
    expect(hook.received).toHaveLength(1);
  });

  it("counts an endpoint's deliveries tried again against its share: it takes only the rest from the feed", async () => {
    const { partner, hook, webhookId } = await endpointBehind(5);
    // One of its deliveries is due again (another host claims it first: skipped).
    staged.backlog = backlog(['mine1'], { webhookId, partnerId: partner.partnerId });
    const report = await deliverEvents(app.services, recordingLogger());
    expect(report).toMatchObject({ skipped: 1, delivered: 2 });
    expect(hook.received).toHaveLength(2);
  });

  it("counts the deliveries tried again against the run's budget (EVENTS_DELIVERIES_PER_RUN): the feed gets the rest", async () => {
    await endpointBehind(5);
    // 3 of the run's 4 are deliveries of other endpoints, due again: one event is taken from
    // the feeds of all the endpoints behind together (this one, and those the tests above left).
    staged.backlog = backlog(['x1', 'y1', 'z1']);
    const report = await deliverEvents(app.services, recordingLogger());
    expect(report).toMatchObject({ failed: 3, delivered: 1 });
    // The budget spent, the turns end: no endpoint's cursor is read over and over meanwhile.
    expect(staged.cursorReads.length).toBeLessThanOrEqual(4);
  });
});

describe("deliverEvents: the run's 40 s for new attempts (performance.now)", () => {
  let app: TestApp;
  const clock = frozenRunClock();
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_DELIVERIES_PER_RUN: '20', EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '2' },
      decorate: staging,
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    Object.assign(staged, nothingStaged());
  });

  /**
   * 16 endpoints served at once, then a 17th (q, two retries) whose turn begins `first` ms into
   * the run: the first attempt written takes that long (the turns still waiting then find their
   * own 10 s over and stop), so whichever of the 16 ends first, q's turn begins at `first`. q's
   * first attempt takes 10 s. Whether its second starts.
   */
  async function secondAttemptOfLateTurn(first: number): Promise<boolean> {
    staged.backlog = backlog(
      [...'abcdefghijklmnop'].map((letter) => `${letter}1`).concat('q1', 'q2'),
    );
    staged.onWrite = () => {
      if (staged.written.length === 1) clock.advance(first);
      if (staged.written.at(-1) === 'q1') clock.advance(10_000);
    };
    await deliverEvents(app.services, recordingLogger());
    expect(staged.written).toContain('q1');
    return staged.written.includes('q2');
  }

  it('still starts an attempt at 40 s exactly into the run', async () => {
    expect(await secondAttemptOfLateTurn(30_000)).toBe(true);
  });

  it('starts none past 40 s into the run, though the endpoint is within its own 10 s', async () => {
    expect(await secondAttemptOfLateTurn(30_001)).toBe(false);
  });
});

describe('deliverWritten (EVENTS_PROMPT_DELIVERY): the run right after a request that wrote events', () => {
  let app: TestApp;
  const receivers: WebhookReceiver[] = [];
  beforeAll(async () => {
    app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((receiver) => receiver.close()));
    await app.close();
  });

  /** Every event published to a feed so far, of every partner. */
  const inFeeds = async (): Promise<number> =>
    (
      await app.query<number>(
        'events',
        "SELECT VALUE COUNT(1) FROM c WHERE STARTSWITH(c.stream, 'feed:') AND c.type = 'event'",
      )
    )[0]!;

  it("reports the customer's events it relayed and every event it published, the operators' copies included", async () => {
    const { provider, customerId } = await indirectCustomer(app);
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: provider.adminToken,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    });
    expect(order.status).toBe(201);
    const before = await inFeeds();
    const report = await deliverWritten(app.services, recordingLogger(), {
      partners: new Set([provider.partnerId]),
      customers: new Set([customerId]),
      webhooks: new Set(),
    });
    // order.placed, relayed to the provider and to the reseller that see it.
    expect(report.relayed).toBe(2);
    expect(report.published).toBeGreaterThan(0);
    expect(report.published).toBe((await inFeeds()) - before);
    // Published, a partition has nothing more for a second run.
    expect(
      (
        await deliverWritten(app.services, recordingLogger(), {
          partners: new Set([provider.partnerId]),
          customers: new Set([customerId]),
          webhooks: new Set(),
        })
      ).published,
    ).toBe(0);
  });

  it("publishes the operators' copy of an enrollment waiting for review, and counts it", async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    const before = await inFeeds();
    const report = await deliverWritten(app.services, recordingLogger(), {
      partners: new Set([partner.partnerId]),
      customers: new Set(),
      webhooks: new Set(),
    });
    // enrollment.submitted in the partner's feed, and its copy in the operators' feed.
    expect(report.published).toBe(2);
    expect(await inFeeds()).toBe(before + 2);
  });

  it("sends a request's test event to an endpoint already behind, and leaves its feed to the paced timer", async () => {
    const partner = await createPartnerWithProfile(app);
    const hook = await startWebhookReceiver({ secrets: [] });
    receivers.push(hook);
    const created = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: hook.url, events: ['*'], description: 'edges' },
    });
    expect(created.status).toBe(201);
    const webhookId = created.body.webhookId as string;
    for (let n = 0; n < 2; n += 1) {
      const customer = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(customer.status).toBe(201);
    }
    // Published by an earlier run: the endpoint is behind on two events.
    expect(await publishPartition(app.services, partner.partnerId)).toBeGreaterThanOrEqual(2);
    const queued = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    expect(queued.status).toBe(202);
    const report = await deliverWritten(app.services, recordingLogger(), {
      partners: new Set(),
      customers: new Set(),
      // An endpoint with nothing due is passed over.
      webhooks: new Set([webhookId, 'wh-nothing-due']),
    });
    expect(report.delivered).toBe(1);
    expect(hook.received.map((received) => received.id)).toEqual([queued.body.eventId]);
  });
});
