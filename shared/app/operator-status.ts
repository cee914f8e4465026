import {
  backedUpSeconds,
  backlogFigures,
  isStale,
  type BacklogFigures,
  type FailedItem,
  type OperationsDocument,
  type OutboxBacklog,
  type OutboxName,
  type TimerHeartbeat,
  type TimerSummary,
} from '../domain/operations';
import type { Services } from './services';

/** A timer as the function table declares it. */
export interface WatchedTimer {
  name: string;
  periodSeconds: number;
}

export interface TimerStatus {
  name: string;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  lastOutcome: 'succeeded' | 'failed' | null;
  lastSummary: TimerSummary | null;
  stale: boolean;
}

export interface OperatorStatus {
  timers: TimerStatus[];
  emails: BacklogFigures & { reportedAt: string | null; recentFailures: FailedItem[] };
  /** `endpointsFailing`: partners' endpoints waiting for a retry, apart from the backlog. */
  events: BacklogFigures & {
    reportedAt: string | null;
    recentFailures: FailedItem[];
    endpointsFailing: number;
  };
  enrollmentsPastReviewWindow: number | null;
  incentiveInvitationsOverdue: number | null;
  partnersWithoutMpnEmail: number | null;
}

/** Where each figure of the status page comes from: a timer and a field of its summary. */
const summaryFigures = {
  enrollmentsPastReviewWindow: ['escalatePendingEnrollments', 'enrollmentsPastReviewWindow'],
  incentiveInvitationsOverdue: ['sendIncentiveInvitations', 'overdue'],
  partnersWithoutMpnEmail: ['sendIncentiveInvitations', 'held'],
} as const;

/**
 * The operators' status page (docs/rules.md section 12), from the operations partition alone:
 * one single-partition query, whatever the number of partners. Each figure is as of the last
 * run of the timer that counts it.
 */
export async function operatorStatus(
  services: Services,
  timers: readonly WatchedTimer[],
): Promise<OperatorStatus> {
  return statusFrom(await services.operations.documents(), timers, services);
}

export function statusFrom(
  documents: OperationsDocument[],
  timers: readonly WatchedTimer[],
  services: Pick<Services, 'clock' | 'startedAt'>,
): OperatorStatus {
  const now = services.clock.now();
  // The partition holds these two kinds only: one test of the kind sorts each.
  const heartbeats = new Map<string, TimerHeartbeat>();
  const backlogs = new Map<OutboxName, OutboxBacklog>();
  for (const document of documents) {
    if (document.type === 'timer-heartbeat') heartbeats.set(document.name, document);
    else backlogs.set(document.outbox, document);
  }
  const outbox = (name: OutboxName): OperatorStatus['emails'] => {
    const backlog = backlogs.get(name) ?? null;
    return {
      ...backlogFigures(backlog, now),
      reportedAt: backlog?.reportedAt ?? null,
      recentFailures: backlog?.recentFailures ?? [],
    };
  };
  const figure = ([timer, field]: readonly [string, string]): number | null => {
    const value = heartbeats.get(timer)?.lastSummary?.[field];
    return typeof value === 'number' ? value : null;
  };
  return {
    timers: timers.map(({ name, periodSeconds }) => {
      const heartbeat = heartbeats.get(name) ?? null;
      return {
        name,
        lastRunAt: heartbeat?.lastRunAt ?? null,
        lastSuccessAt: heartbeat?.lastSuccessAt ?? null,
        lastOutcome: heartbeat?.lastOutcome ?? null,
        lastSummary: heartbeat?.lastSummary ?? null,
        stale: isStale(heartbeat, periodSeconds, now, services.startedAt),
      };
    }),
    emails: outbox('emails'),
    events: {
      ...outbox('events'),
      endpointsFailing: backlogs.get('events')?.endpointsFailing ?? 0,
    },
    enrollmentsPastReviewWindow: figure(summaryFigures.enrollmentsPastReviewWindow),
    incentiveInvitationsOverdue: figure(summaryFigures.incentiveInvitationsOverdue),
    partnersWithoutMpnEmail: figure(summaryFigures.partnersWithoutMpnEmail),
  };
}

export interface Degradations {
  staleTimers: string[];
  backedUpOutboxes: OutboxName[];
}

/** What makes the health check say `degraded`: a stale timer, a backed-up outbox. */
export function degradations(status: OperatorStatus): Degradations {
  return {
    staleTimers: status.timers.filter((timer) => timer.stale).map((timer) => timer.name),
    backedUpOutboxes: (['emails', 'events'] as const).filter(
      (name) => (status[name].oldestPendingAgeSeconds ?? 0) > backedUpSeconds,
    ),
  };
}
