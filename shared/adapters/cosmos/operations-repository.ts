import type { SqlParameter } from '@azure/cosmos';
import { eachBounded } from '../../app/bounded';
import { eventSequenceId, operatorEventsPartition, type EventSequence } from '../../domain/events';
import type {
  FailedOutboxItem,
  OperationsRepository,
  OutboxCounts,
  Versioned,
} from '../../app/ports';
import { WriteConflict } from '../../app/ports';
import {
  backlogId,
  heartbeatId,
  outboxItemType,
  recentFailuresShown,
  operationsPartition,
  type OperationsDocument,
  type OutboxBacklog,
  type OutboxName,
  type TimerHeartbeat,
} from '../../domain/operations';
import {
  queryPartitionPage,
  readOne,
  type ScopedContainer,
  valuesAcrossPartitions,
  writeInPartition,
} from './operations';
import { backlogQueries, eventQueries, partnerQueries, type OutboxBacklogQueries } from './queries';

/**
 * Operations documents live in a partition of their own in the partners container; the outboxes
 * they watch are emails (partners) and webhook deliveries (events).
 */
export class CosmosOperationsRepository implements OperationsRepository {
  constructor(
    private readonly container: ScopedContainer,
    private readonly events: ScopedContainer,
  ) {}

  async documents(): Promise<OperationsDocument[]> {
    // A handful of documents (one per timer, one per outbox): one page holds them all.
    const page = await queryPartitionPage<OperationsDocument>(
      this.container,
      partnerQueries.operationsDocuments,
      [],
      { pageSize: 100 },
      operationsPartition,
    );
    return page.items.map((item) => item.value);
  }

  async heartbeat(timerName: string): Promise<TimerHeartbeat | null> {
    const found = await readOne<TimerHeartbeat>(
      this.container,
      heartbeatId(timerName),
      operationsPartition,
    );
    return found?.value ?? null;
  }

  async backlog(outbox: OutboxName): Promise<Versioned<OutboxBacklog> | null> {
    return readOne<OutboxBacklog>(this.container, backlogId(outbox), operationsPartition);
  }

  async save(document: OperationsDocument, etag?: string): Promise<boolean> {
    try {
      await writeInPartition(this.container, operationsPartition, [
        etag === undefined ? { op: 'upsert', document } : { op: 'replace', document, etag },
      ]);
      return true;
    } catch (error) {
      if (error instanceof WriteConflict) return false;
      throw error;
    }
  }

  async counts(outbox: OutboxName, since: Date): Promise<OutboxCounts> {
    const type = outboxItemType[outbox];
    if (outbox === 'emails') {
      return this.countsIn(
        this.container,
        backlogQueries.partners,
        [{ name: '@type', value: type }],
        since,
      );
    }
    // Deliveries: a failing endpoint's wait apart (docs/rules.md section 13), and only the
    // operators' own endpoints' failures are the platform's.
    const failing = await valuesAcrossPartitions<string>(
      this.events,
      eventQueries.failingEndpoints,
      [],
      failingEndpointsRead,
      failingEndpointsRead,
    );
    const apart = [{ name: '@failing', value: failing }];
    const [counted, behind] = await Promise.all([
      this.countsIn(
        this.events,
        backlogQueries.events,
        [
          { name: '@type', value: type },
          { name: '@operators', value: operatorEventsPartition },
        ],
        since,
        apart,
      ),
      this.eventsBehind(apart),
    ]);
    const oldest = [counted.oldestWaitingAt, behind.since].filter((at) => at !== null).sort()[0];
    return {
      ...counted,
      waiting: counted.waiting + behind.count,
      oldestWaitingAt: oldest ?? null,
      endpointsFailing: failing.length,
    };
  }

  private async countsIn(
    container: ScopedContainer,
    queries: OutboxBacklogQueries,
    parameters: SqlParameter[],
    since: Date,
    apart: SqlParameter[] = [],
  ): Promise<OutboxCounts> {
    const failedParameters = parameters;
    const waitingParameters = [...parameters.filter((p) => p.name === '@type'), ...apart];
    const [[waiting], [oldestWaitingAt], [failed], recentFailures] = await Promise.all([
      valuesAcrossPartitions<number>(container, queries.waitingCount, waitingParameters, 1),
      valuesAcrossPartitions<string>(container, queries.oldestWaiting, waitingParameters, 1),
      valuesAcrossPartitions<number>(container, queries.failedCount, failedParameters, 1),
      valuesAcrossPartitions<FailedOutboxItem>(
        container,
        queries.recentFailures,
        [...failedParameters, { name: '@since', value: since.toISOString() }],
        recentFailuresShown,
        recentFailuresShown,
      ),
    ]);
    return {
      waiting: waiting ?? 0,
      oldestWaitingAt: oldestWaitingAt ?? null,
      failed: failed ?? 0,
      recentFailures,
      endpointsFailing: 0,
    };
  }

  /**
   * Feed events that endpoints behind have yet to be sent, and since when the oldest waits. Each
   * endpoint behind waits for its partner's events numbered past its cursor's `through`, up to
   * the partner's feed head (the sequence document's `next − 1`, as app/events.ts feedHead), read
   * once per partner: publication writes nothing to a cursor already behind (a replace per
   * endpoint behind per round would cost too much), so no cursor knows the events published
   * while it is behind. At most `cursorsBehindRead` endpoints are counted.
   */
  private async eventsBehind(
    apart: SqlParameter[],
  ): Promise<{ count: number; since: string | null }> {
    const [cursors, [since]] = await Promise.all([
      valuesAcrossPartitions<{ partnerId: string; through: number }>(
        this.events,
        eventQueries.cursorsBehind,
        apart,
        cursorsBehindRead,
        cursorsBehindRead,
      ),
      valuesAcrossPartitions<string>(this.events, eventQueries.oldestBehind, apart, 1),
    ]);
    const heads = new Map<string, number>();
    const partners = [...new Set(cursors.map((cursor) => cursor.partnerId))];
    await eachBounded(partners, sequencesReadAtOnce, async (id) => {
      const sequence = await readOne<EventSequence>(this.container, eventSequenceId, id);
      heads.set(id, (sequence?.value.next ?? 1) - 1);
    });
    let count = 0;
    for (const { partnerId, through } of cursors) {
      count += Math.max(0, (heads.get(partnerId) ?? 0) - through);
    }
    return { count, since: since ?? null };
  }
}

/**
 * Most failing endpoints one run reads: past it, the deliveries of those not read count in the
 * backlog (far more than the operators would read one by one: the count says enough).
 */
const failingEndpointsRead = 1000;

/**
 * Most endpoints behind one count reads (one point read per partner of theirs): past it, the
 * events of those not read are left out, and the backlog is at least the figure shown.
 */
const cursorsBehindRead = 1000;

/** The event sequences (one per partner behind) a count reads at once. */
const sequencesReadAtOnce = 16;
