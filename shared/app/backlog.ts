import {
  backlogAfterRetry,
  backlogId,
  operationsPartition,
  outboxItemType,
  publicItemId,
  type FailedItem,
  type OutboxBacklog,
  type OutboxName,
} from '../domain/operations';
import type { Logger } from './ports';
import type { Services } from './services';

/** Failures are kept 30 days (their ttl): the most recent are listed from within that. */
const failuresKeptSeconds = 30 * 24 * 3600;

export interface BacklogReport {
  /**
   * Items this run marked failed for good that are the platform's matter (alerts fire on them):
   * emails, and deliveries to the operators' own endpoints.
   */
  newlyFailed: number;
}

/**
 * Counts an outbox's backlog (cross-partition, timer only: COUNT and MIN queries, and a few
 * properties of the most recent failures, never the items) and records it in the operations
 * partition, where the status page and the health check read it (docs/rules.md section 12). Each
 * delivery timer calls it at the end of its run:
 * `reportBacklog(services, logger, 'emails' | 'events', { newlyFailed })`.
 */
export async function reportBacklog(
  services: Services,
  logger: Logger,
  outbox: OutboxName,
  report: BacklogReport,
): Promise<OutboxBacklog> {
  const now = services.clock.now();
  const counts = await services.operations.counts(
    outbox,
    new Date(now.getTime() - failuresKeptSeconds * 1000),
  );
  const failures: FailedItem[] = counts.recentFailures.map((item) => ({
    id: publicItemId(item.partnerId, item.id),
    kind: item.kind ?? item.eventType ?? outboxItemType[outbox],
    failedAt: item.failedAt ?? null,
  }));
  const oldestPendingAt = counts.oldestWaitingAt;
  const pending = counts.waiting;
  // Deliveries to a failing endpoint count apart (docs/rules.md section 13).
  const endpointsFailing = counts.endpointsFailing;
  const backlog: OutboxBacklog = {
    type: 'outbox-backlog',
    id: backlogId(outbox),
    partnerId: operationsPartition,
    outbox,
    reportedAt: now.toISOString(),
    pending,
    // Counted, not read: the count is exact whatever the backlog.
    pendingCapped: false,
    failed: counts.failed,
    oldestPendingAt,
    // The repository returns at most recentFailuresShown (its query's TOP): no slice needed.
    recentFailures: failures,
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
