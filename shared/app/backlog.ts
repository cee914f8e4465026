import { operatorEventsPartition } from '../domain/events';
import {
  backlogAfterRetry,
  backlogId,
  backlogOf,
  operationsPartition,
  outboxItemType,
  publicItemId,
  recentFailuresShown,
  type FailedItem,
  type OutboxBacklog,
  type OutboxName,
  type WaitingItem,
} from '../domain/operations';
import type { Logger } from './ports';
import type { Services } from './services';

/**
 * Most waiting items one run counts: past it, `pending` is a lower bound (`pendingCapped`) and
 * the oldest is the oldest of those counted (far past the 15 minutes that alert by then: the
 * send budget allows 100 an hour).
 */
export const backlogCountLimit = 5000;

/** Most failed items one run reads (they are kept 30 days, or until retried). */
const failedReadLimit = 1000;

export interface BacklogReport {
  /**
   * Items this run marked failed for good that are the platform's matter (alerts fire on them):
   * emails, and deliveries to the operators' own endpoints.
   */
  newlyFailed: number;
}

/**
 * Counts an outbox's backlog from its items (cross-partition, timer only) and records it in
 * the operations partition, where the status page and the health check read it
 * (docs/rules.md section 12). Each delivery timer calls it at the end of its run:
 * `reportBacklog(services, logger, 'emails' | 'events', { newlyFailed })`.
 */
export async function reportBacklog(
  services: Services,
  logger: Logger,
  outbox: OutboxName,
  report: BacklogReport,
): Promise<OutboxBacklog> {
  const type = outboxItemType[outbox];
  const waiting: WaitingItem[] = [];
  for await (const item of services.operations.waiting(type, backlogCountLimit)) waiting.push(item);
  // Deliveries to a failing endpoint count apart (docs/rules.md section 13).
  const { pending, oldestPendingAt, endpointsFailing } = backlogOf(waiting);
  const failures: FailedItem[] = [];
  // An email failed for good is the platform's; a delivery only when it is to the operators'
  // own endpoints: a partner's endpoint that fails for good is disabled and its owner told.
  const failed =
    outbox === 'events'
      ? services.operations.failedIn(operatorEventsPartition, type, failedReadLimit)
      : services.operations.failed(type, failedReadLimit);
  for await (const item of failed) {
    failures.push({
      id: publicItemId(item.partnerId, item.id),
      kind: item.kind ?? item.eventType ?? type,
      failedAt: item.failedAt ?? null,
    });
  }
  failures.sort((a, b) => (b.failedAt ?? '').localeCompare(a.failedAt ?? ''));
  const backlog: OutboxBacklog = {
    type: 'outbox-backlog',
    id: backlogId(outbox),
    partnerId: operationsPartition,
    outbox,
    reportedAt: services.clock.now().toISOString(),
    pending,
    pendingCapped: waiting.length >= backlogCountLimit,
    failed: failures.length,
    oldestPendingAt,
    recentFailures: failures.slice(0, recentFailuresShown),
    ...(outbox === 'events' ? { endpointsFailing } : {}),
  };
  await services.operations.save(backlog);
  const oldestPendingAgeSeconds =
    oldestPendingAt === null
      ? null
      : Math.floor((services.clock.now().getTime() - Date.parse(oldestPendingAt)) / 1000);
  logger.info('outbox backlog', {
    outbox,
    pending,
    failed: backlog.failed,
    newlyFailed: report.newlyFailed,
    oldestPendingAgeSeconds,
    ...(outbox === 'events' ? { endpointsFailing } : {}),
  });
  return backlog;
}

/**
 * After an operator put a failed item back in the outbox: the recorded backlog shows it at
 * once. A lost race is harmless: the next run of the delivery timer counts again.
 */
export async function noteRetried(
  services: Services,
  outbox: OutboxName,
  publicId: string,
): Promise<void> {
  const found = await services.operations.backlog(outbox);
  if (!found) return;
  await services.operations.save(
    backlogAfterRetry(found.value, publicId, services.clock.now()),
    found.etag,
  );
}
