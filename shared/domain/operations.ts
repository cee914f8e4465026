/**
 * What an operator watches (docs/rules.md section 12): each timer's last run, and the backlog of
 * each outbox (emails, webhook events). Small documents in one partition of their own, so the
 * status page and the health check read them all with one single-partition query.
 */
export const operationsPartition = 'platform-operations';

/** A timer is stale when it has not succeeded for this many of its periods. */
export const stalePeriods = 3;

/** An outbox is backed up when its oldest waiting item has waited longer than this. */
export const backedUpSeconds = 15 * 60;

/** What a run reports: counts and flags, never personal data. */
export type TimerSummary = Record<string, number | boolean | string | null>;

/** One document per timer, replaced at the end of each run. */
export interface TimerHeartbeat {
  type: 'timer-heartbeat';
  id: string;
  partnerId: typeof operationsPartition;
  name: string;
  /** The timer's period, from its schedule: staleness is judged against it. */
  periodSeconds: number;
  lastRunAt: string;
  lastEndedAt: string;
  lastOutcome: 'succeeded' | 'failed';
  lastSuccessAt: string | null;
  lastSummary: TimerSummary | null;
  /** The failed run's error, redacted. */
  lastError: string | null;
}

export const heartbeatId = (timerName: string): string => `timer-${timerName}`;

export interface TimerRun {
  name: string;
  periodSeconds: number;
  startedAt: Date;
  endedAt: Date;
  outcome: 'succeeded' | 'failed';
  summary: TimerSummary | null;
  error: string | null;
}

/** The heartbeat after a run: a failed run keeps the last success and its summary. */
export function heartbeatAfter(previous: TimerHeartbeat | null, run: TimerRun): TimerHeartbeat {
  const succeeded = run.outcome === 'succeeded';
  return {
    type: 'timer-heartbeat',
    id: heartbeatId(run.name),
    partnerId: operationsPartition,
    name: run.name,
    periodSeconds: run.periodSeconds,
    lastRunAt: run.startedAt.toISOString(),
    lastEndedAt: run.endedAt.toISOString(),
    lastOutcome: run.outcome,
    lastSuccessAt: succeeded ? run.endedAt.toISOString() : (previous?.lastSuccessAt ?? null),
    lastSummary: succeeded ? run.summary : (previous?.lastSummary ?? null),
    lastError: succeeded ? null : run.error,
  };
}

/**
 * Stale: no success within the last three periods. A timer that never succeeded counts from
 * `since` (when this instance started watching), so a fresh deployment is not stale at once.
 */
export function isStale(
  heartbeat: Pick<TimerHeartbeat, 'lastSuccessAt'> | null,
  periodSeconds: number,
  now: Date,
  since: Date,
): boolean {
  const from = heartbeat?.lastSuccessAt ? new Date(heartbeat.lastSuccessAt) : since;
  return now.getTime() - from.getTime() > stalePeriods * periodSeconds * 1000;
}

const fieldUnits = [1, 60, 3600] as const;

/**
 * The period of an NCRONTAB schedule (six fields, seconds first) of the forms timers use:
 * fixed values up to the first field that is `*` or `* /n` (every unit or every n units), then
 * `*` everywhere above it; fixed seconds, minutes and hours mean once a day.
 */
export function schedulePeriodSeconds(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 6) throw new Error(`schedule ${schedule}: six NCRONTAB fields expected`);
  const [second, minute, hour, ...calendar] = fields as [string, string, string, ...string[]];
  if (calendar.some((field) => field !== '*'))
    throw new Error(`schedule ${schedule}: only daily or shorter periods are supported`);
  const timeFields = [second, minute, hour];
  const first = timeFields.findIndex((field) => !/^\d+$/.test(field));
  if (first === -1) return 24 * 3600;
  if (timeFields.slice(first + 1).some((field) => field !== '*'))
    throw new Error(`schedule ${schedule}: a fixed field above a repeating one is not supported`);
  const step = /^\*(?:\/(\d+))?$/.exec(timeFields[first]!);
  if (!step) throw new Error(`schedule ${schedule}: '${timeFields[first]}' is not * or */n`);
  return Number(step[1] ?? '1') * fieldUnits[first as 0 | 1 | 2];
}

/** The outboxes whose backlog the status page shows: emails, and webhook event deliveries. */
export type OutboxName = 'emails' | 'events';

/** The document type each outbox's items have (in their partner's partition). */
export const outboxItemType: Readonly<Record<OutboxName, string>> = {
  emails: 'email',
  events: 'delivery',
};

/** An item that failed for good, for the operator to retry. */
export interface FailedItem {
  /** `<partnerId>.<id>`: names its partition, as the retry route needs. */
  id: string;
  kind: string;
  failedAt: string | null;
}

/** What an outbox's delivery timer saw on its last run, replaced each run. */
export interface OutboxBacklog {
  type: 'outbox-backlog';
  id: string;
  partnerId: typeof operationsPartition;
  outbox: OutboxName;
  reportedAt: string;
  pending: number;
  /**
   * True when `pending` is a lower bound. Backlogs are counted (COUNT), not read, so it is false;
   * kept for the status page's readers.
   */
  pendingCapped: boolean;
  failed: number;
  oldestPendingAt: string | null;
  /** The most recent failures, newest first (at most `recentFailuresShown`). */
  recentFailures: FailedItem[];
  /**
   * Events only: webhook endpoints whose deliveries wait for a retry (docs/rules.md section 13).
   * Their deliveries count here, not in `pending`: one partner's failing endpoint is its matter.
   */
  endpointsFailing?: number;
}

export const backlogId = (outbox: OutboxName): string => `outbox-backlog-${outbox}`;

export const recentFailuresShown = 20;

export interface BacklogFigures {
  pending: number;
  failed: number;
  oldestPendingAgeSeconds: number | null;
}

export function backlogFigures(backlog: OutboxBacklog | null, now: Date): BacklogFigures {
  if (!backlog) return { pending: 0, failed: 0, oldestPendingAgeSeconds: null };
  return {
    pending: backlog.pending,
    failed: backlog.failed,
    oldestPendingAgeSeconds:
      backlog.oldestPendingAt === null
        ? null
        : Math.max(0, Math.floor((now.getTime() - Date.parse(backlog.oldestPendingAt)) / 1000)),
  };
}

/**
 * The backlog after an operator put one failed item back in the outbox: the next run of the
 * delivery timer counts again from the items themselves.
 */
export function backlogAfterRetry(
  backlog: OutboxBacklog,
  itemId: string,
  now: Date,
): OutboxBacklog {
  const retriedAt = now.toISOString();
  return {
    ...backlog,
    failed: Math.max(0, backlog.failed - 1),
    pending: backlog.pending + 1,
    // The earlier of the two (ISO times sort as text).
    oldestPendingAt: [backlog.oldestPendingAt ?? retriedAt, retriedAt].sort()[0]!,
    recentFailures: backlog.recentFailures.filter((item) => item.id !== itemId),
  };
}

/** Joins a partition and an id into the public id of an outbox item, and back. */
export const publicItemId = (partnerId: string, id: string): string => `${partnerId}.${id}`;

export function parsePublicItemId(publicId: string): { partnerId: string; id: string } | null {
  const dot = publicId.indexOf('.');
  if (dot <= 0 || dot === publicId.length - 1) return null;
  return { partnerId: publicId.slice(0, dot), id: publicId.slice(dot + 1) };
}

export type OperationsDocument = TimerHeartbeat | OutboxBacklog;
