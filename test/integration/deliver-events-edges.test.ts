import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverEvents, emptyReport } from '../../shared/app/deliver-events';
import type { Logger, Versioned } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import type { EventDelivery, WebhookCursor } from '../../shared/domain/webhooks';
import { override, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';

/**
 * The deliverEvents timer's edges (docs/api.md Timer functions, docs/rules.md section 13): a
 * partition that cannot be published and an endpoint whose turn fails are counted and logged,
 * holding up nothing else; the deliveries due again are read a share per endpoint, in at most
 * three reads, each past the endpoints that have their share.
 */

interface Line {
  level: 'info' | 'warn' | 'error';
  message: string;
  properties?: Record<string, unknown>;
}

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  return {
    lines,
    info: (message, properties) => lines.push({ level: 'info', message, properties }),
    warn: (message, properties) => lines.push({ level: 'warn', message, properties }),
    error: (message, properties) => lines.push({ level: 'error', message, properties }),
  };
}

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
  brokenPartitions: string[];
  brokenCursors: WebhookCursor[];
}

const staged: Staged = {
  backlog: null,
  reads: [],
  written: [],
  brokenPartitions: [],
  brokenCursors: [],
};

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
      deliveriesDue: async (now, limit, passOver) => {
        if (!staged.backlog) return services.events.deliveriesDue(now, limit, passOver);
        staged.reads.push([...passOver].sort());
        return staged.backlog
          .filter((delivery) => !passOver.includes(delivery.value.webhookId))
          .slice(0, limit);
      },
      replaceDelivery: async (delivery, etag) => {
        if (!staged.backlog) return services.events.replaceDelivery(delivery, etag);
        staged.written.push(delivery.id);
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
function backlog(names: string[]): Versioned<EventDelivery>[] {
  return names.map((name) => {
    const webhookId = `wh-${name.replace(/\d+$/, '')}`;
    return {
      value: {
        type: 'delivery',
        id: name,
        stream: webhookId,
        partnerId: `p-gone-${webhookId}`,
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
    Object.assign(staged, {
      backlog: null,
      reads: [],
      written: [],
      brokenPartitions: [],
      brokenCursors: [],
    });
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
  });

  it('stops reading due deliveries at the first read that finds fewer than it asked for', async () => {
    staged.backlog = backlog(['a1', 'a2', 'a3', 'b1', 'a4', 'a5', 'b2', 'c1']);
    const report = await deliverEvents(app.services, recordingLogger());
    expect(staged.reads).toEqual([[], ['wh-a']]);
    expect([...staged.written].sort()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'c1'].sort());
    expect(report).toMatchObject({ failed: 6 });
  });
});
