import { DomainError } from '../domain/errors';
import { operatorEventsPartition } from '../domain/events';
import { contactEmailOf, preferredLanguage } from '../domain/partner';
import {
  deliveryLeaseSeconds,
  deliveryRetryDelaySeconds,
  keptAttempts,
  retryWindowSeconds,
  settledDeliveryTtlSeconds,
  signingSecrets,
  webhookDocumentId,
  type DeliveryAttempt,
  type EventDelivery,
  type WebhookEndpoint,
} from '../domain/webhooks';
import { webhookDisabledEmail } from './emails/webhook-emails';
import type { EventsWritten } from './event-scope';
import { horizon, publishPartition, relayCustomerEvents, relayCustomerEventsIn } from './events';
import { landingLink } from './links';
import { queue } from './outbox';
import {
  WriteConflict,
  type Logger,
  type PartnerDocument,
  type Versioned,
  type WebhookDeliveryResult,
  type WriteOperation,
} from './ports';
import { addSeconds, eachBounded } from './bounded';
import { countEmails } from './rate-limit';
import type { Services } from './services';

export interface EventDeliveryReport {
  relayed: number;
  published: number;
  /** Partitions whose events could not be published this run. */
  unpublished: number;
  delivered: number;
  retried: number;
  failed: number;
  /**
   * Of those, deliveries to the operators' own endpoints: the platform's matter, which alerts.
   * A partner's endpoint failing is that partner's (docs/rules.md section 13).
   */
  platformFailed: number;
  /** Claimed by another host first. */
  skipped: number;
  /** Endpoints whose turn ended on an error of ours (logged): their deliveries wait. */
  unsent: number;
  /** Endpoints disabled by this run (410 Gone, or three days of failures). */
  disabled: number;
}

/** Endpoints served at once, and partitions published per run. */
const endpointsAtOnce = 16;
const partitionsPerRun = 200;
/** Reads of due deliveries per run (each past the endpoints that already have their share). */
const dueReadsPerRun = 3;
/**
 * No new attempt starts after this long in one run (the timer runs every minute), nor on one
 * endpoint after this long in its turn: an endpoint that answers slowly (10 s at worst) keeps
 * its slot for one turn at most, and leaves what it did not reach to the next run.
 */
const sendingBudgetMs = 40_000;
const endpointTurnMs = 10_000;

/** A report with nothing done yet (the bench adds runs up from it). */
export const emptyReport = (): EventDeliveryReport => ({
  relayed: 0,
  published: 0,
  unpublished: 0,
  delivered: 0,
  retried: 0,
  failed: 0,
  platformFailed: 0,
  skipped: 0,
  unsent: 0,
  disabled: 0,
});

/**
 * The deliverEvents timer (docs/api.md Timer functions): copies relayed events, publishes every
 * partition with events waiting, then sends the deliveries that are due. Each delivery is claimed
 * with its etag first (two hosts never send the same attempt), sent signed, and settled: a 2xx
 * delivers it; a `410 Gone`, or failures for three days, fail it for good and disable its
 * endpoint, emailing the owner; anything else retries with backoff and jitter. Endpoints are
 * served side by side and each takes only its share per run, so a slow one delays nobody else.
 */
export async function deliverEvents(
  services: Services,
  logger: Logger,
): Promise<EventDeliveryReport> {
  const report = emptyReport();
  const relayedTo = await relayCustomerEvents(services, services.config.webhooks.deliveriesPerRun);
  report.relayed = relayedTo.length;
  const partitions = new Set([
    ...relayedTo,
    ...(await services.events.partitionsToPublish(horizon(services.clock.now()), partitionsPerRun)),
  ]);
  await eachBounded([...partitions], 4, async (partnerId) => {
    // One partition that cannot be published holds up no other: the next run tries it again.
    try {
      const published = await publishPartition(services, partnerId);
      report.published += published;
    } catch (error) {
      report.unpublished += 1;
      logger.error('events could not be published; the next run tries again', {
        partnerId,
        error: (error as Error).message,
      });
    }
  });
  await sendDue(services, logger, report);
  return report;
}

/**
 * The deliveries due now, at most a share per endpoint (EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN),
 * oldest first: when one endpoint's backlog fills a read, the next read passes over the
 * endpoints that have their share, so one partner's flood never hides the others' deliveries.
 */
async function dueByEndpoint(services: Services): Promise<Versioned<EventDelivery>[][]> {
  const { deliveriesPerRun, deliveriesPerEndpointPerRun } = services.config.webhooks;
  const byEndpoint = new Map<string, Versioned<EventDelivery>[]>();
  const full = new Set<string>();
  const seen = new Set<string>();
  for (let read = 0; read < dueReadsPerRun; read += 1) {
    const due = await services.events.deliveriesDue(services.clock.now(), deliveriesPerRun, [
      ...full,
    ]);
    for (const delivery of due) {
      if (seen.has(delivery.value.id)) continue;
      seen.add(delivery.value.id);
      const list = byEndpoint.get(delivery.value.webhookId) ?? [];
      if (list.length < deliveriesPerEndpointPerRun) list.push(delivery);
      if (list.length === deliveriesPerEndpointPerRun) full.add(delivery.value.webhookId);
      byEndpoint.set(delivery.value.webhookId, list);
    }
    if (due.length < deliveriesPerRun) break;
  }
  return [...byEndpoint.values()];
}

/** Sends the deliveries due now, endpoint by endpoint, side by side. */
export async function sendDue(
  services: Services,
  logger: Logger,
  report: EventDeliveryReport,
): Promise<void> {
  await sendDeliveries(services, logger, report, await dueByEndpoint(services));
}

/**
 * Right after a request that wrote events (EVENTS_PROMPT_DELIVERY): the same work as the timer,
 * for the partitions that request wrote only, each through single-partition queries: its
 * customers' events relayed, its partners' (and the copies' partitions) published, their due
 * deliveries sent. Whatever this leaves, the timer does.
 */
export async function deliverWritten(
  services: Services,
  logger: Logger,
  written: EventsWritten,
): Promise<EventDeliveryReport> {
  const report = emptyReport();
  const partitions = new Set(written.partners);
  for (const customerId of written.customers) {
    for (const partnerId of await relayCustomerEventsIn(services, customerId)) {
      partitions.add(partnerId);
      report.relayed += 1;
    }
  }
  const copiedTo = new Set<string>();
  for (const partnerId of partitions) {
    report.published += await publishPartition(services, partnerId, copiedTo);
  }
  for (const partnerId of copiedTo) {
    if (!partitions.has(partnerId)) report.published += await publishPartition(services, partnerId);
    partitions.add(partnerId);
  }
  const share = services.config.webhooks.deliveriesPerEndpointPerRun;
  const groups = new Map<string, Versioned<EventDelivery>[]>();
  for (const partnerId of partitions) {
    for (const delivery of await services.events.deliveriesDueIn(
      partnerId,
      services.clock.now(),
      share,
    )) {
      const list = groups.get(delivery.value.webhookId) ?? [];
      list.push(delivery);
      groups.set(delivery.value.webhookId, list);
    }
  }
  await sendDeliveries(services, logger, report, [...groups.values()]);
  return report;
}

async function sendDeliveries(
  services: Services,
  logger: Logger,
  report: EventDeliveryReport,
  groups: Versioned<EventDelivery>[][],
): Promise<void> {
  const started = performance.now();
  await eachBounded(groups, endpointsAtOnce, async (deliveries) => {
    const first = deliveries[0]!.value;
    const turn = performance.now();
    // One endpoint's failure (a throttled write, a secret that no longer opens) is logged and
    // costs only its own turn: the other endpoints are served, and the run still reports.
    try {
      let endpoint = await services.partners.getDocument<WebhookEndpoint>(
        first.partnerId,
        webhookDocumentId(first.webhookId),
      );
      for (const delivery of deliveries) {
        const now = performance.now();
        if (now - started > sendingBudgetMs || now - turn > endpointTurnMs) return;
        const outcome = await attempt(services, logger, endpoint, delivery);
        report[outcome.counted] += 1;
        if (outcome.counted === 'failed' && first.partnerId === operatorEventsPartition)
          report.platformFailed += 1;
        if (outcome.disabled && endpoint) {
          report.disabled += 1;
          endpoint = { ...endpoint, value: { ...endpoint.value, status: 'disabled' } };
        }
      }
    } catch (error) {
      report.unsent += 1;
      logger.error(
        'webhook deliveries of an endpoint could not be sent; the next run tries again',
        {
          partnerId: first.partnerId,
          webhookId: first.webhookId,
          error: (error as Error).message,
        },
      );
    }
  });
}

interface AttemptOutcome {
  counted: 'delivered' | 'retried' | 'failed' | 'skipped';
  disabled: boolean;
}

async function attempt(
  services: Services,
  logger: Logger,
  endpoint: Versioned<WebhookEndpoint> | null,
  found: Versioned<EventDelivery>,
): Promise<AttemptOutcome> {
  const now = services.clock.now();
  const delivery = found.value;
  if (!endpoint || endpoint.value.status !== 'active') {
    // Deleted or disabled: nothing is sent; the owner may redeliver once it is enabled again.
    await settle(services, found, now, 'failed', {
      attempt: delivery.attempts,
      at: now.toISOString(),
      outcome: 'endpoint-disabled',
      responseStatus: null,
      durationMs: null,
      detail: endpoint ? 'the endpoint is disabled' : 'the endpoint was deleted',
    });
    return { counted: 'failed', disabled: false };
  }
  const claimed: EventDelivery = {
    ...delivery,
    status: 'sending',
    attempts: delivery.attempts + 1,
    dueAt: addSeconds(now, deliveryLeaseSeconds),
    firstAttemptAt: delivery.firstAttemptAt ?? now.toISOString(),
    updatedAt: now.toISOString(),
  };
  // Another host claimed it first: it sends this attempt, not us.
  const claimEtag = await services.events.replaceDelivery(claimed, found.etag);
  if (claimEtag === null) return { counted: 'skipped', disabled: false };
  const result = await send(services, endpoint.value, claimed, now);
  const record: DeliveryAttempt = {
    attempt: claimed.attempts,
    at: now.toISOString(),
    outcome: result.outcome,
    responseStatus: result.status ?? null,
    durationMs: result.durationMs,
    detail: result.excerpt ?? result.error ?? null,
  };
  const current = { value: claimed, etag: claimEtag };
  if (result.outcome === 'delivered') {
    await settle(services, current, now, 'delivered', record);
    return { counted: 'delivered', disabled: false };
  }
  if (result.outcome !== 'gone' && claimed.eventType === 'webhook.test') {
    // A test shows how the endpoint answers now: it is tried once, never retried, so that a
    // `test` call sends one request (docs/security.md).
    await settle(services, current, now, 'failed', record);
    return { counted: 'failed', disabled: false };
  }
  const windowEnded =
    Date.parse(claimed.firstAttemptAt!) + retryWindowSeconds * 1000 <= now.getTime();
  if (result.outcome === 'gone' || windowEnded) {
    const reason =
      result.outcome === 'gone' ? 'it answered 410 Gone' : 'a delivery to it failed for three days';
    const disabled = await disable(services, logger, endpoint, current, now, record, reason);
    logger.error('webhook endpoint disabled', {
      partnerId: delivery.partnerId,
      webhookId: delivery.webhookId,
      eventId: delivery.eventId,
      reason,
    });
    return { counted: 'failed', disabled };
  }
  const delay = deliveryRetryDelaySeconds(claimed.attempts, Math.random());
  await write(services, current, {
    ...claimed,
    status: 'pending',
    dueAt: addSeconds(now, delay),
    history: kept([...claimed.history, record]),
  });
  logger.warn('webhook delivery failed; retrying', {
    partnerId: delivery.partnerId,
    webhookId: delivery.webhookId,
    eventId: delivery.eventId,
    attempt: claimed.attempts,
    responseStatus: result.status ?? null,
    retryInSeconds: delay,
  });
  return { counted: 'retried', disabled: false };
}

async function send(
  services: Services,
  endpoint: WebhookEndpoint,
  delivery: EventDelivery,
  now: Date,
): Promise<WebhookDeliveryResult> {
  let secrets: string[];
  try {
    secrets = signingSecrets(endpoint, now).map((secret) => services.webhooks.open(secret.sealed));
  } catch {
    // A secret sealed under another server key (IDEMPOTENCY_SECRET changed): an attempt that
    // failed, so it is retried and, if it lasts, the endpoint is disabled and its owner told.
    return { outcome: 'failed', durationMs: 0, error: 'its signing secret cannot be opened' };
  }
  return services.webhooks.deliver({
    url: endpoint.url,
    secrets,
    eventId: delivery.eventId,
    body: delivery.body,
  });
}

const kept = (history: DeliveryAttempt[]): DeliveryAttempt[] => history.slice(-keptAttempts);

function settled(
  delivery: EventDelivery,
  now: Date,
  status: 'delivered' | 'failed',
  record: DeliveryAttempt,
): EventDelivery {
  const { dueAt: _due, ...rest } = delivery;
  return {
    ...rest,
    status,
    updatedAt: now.toISOString(),
    history: kept([...delivery.history, record]),
    ...(status === 'failed' ? { failedAt: now.toISOString() } : {}),
    ttl: settledDeliveryTtlSeconds,
  };
}

async function settle(
  services: Services,
  found: Versioned<EventDelivery>,
  now: Date,
  status: 'delivered' | 'failed',
  record: DeliveryAttempt,
): Promise<void> {
  await write(services, found, settled(found.value, now, status, record));
}

/** Writes a delivery's new state; another run that changed it meanwhile has the last word. */
async function write(
  services: Services,
  found: Versioned<EventDelivery>,
  delivery: EventDelivery,
): Promise<void> {
  await services.events.replaceDelivery(delivery, found.etag);
}

/**
 * Fails the delivery for good and disables its endpoint, with the email to its owner, in one
 * batch: the endpoint is disabled once, and its owner told once. A partner's email counts
 * against its hourly allowance (docs/rules.md section 13, first in the batch); past it the
 * endpoint is disabled all the same, without an email (its status and deliveries say why).
 */
async function disable(
  services: Services,
  logger: Logger,
  endpoint: Versioned<WebhookEndpoint>,
  delivery: Versioned<EventDelivery>,
  now: Date,
  record: DeliveryAttempt,
  reason: string,
): Promise<boolean> {
  const partitionId = endpoint.value.partnerId;
  const changes: WriteOperation<PartnerDocument>[] = [
    {
      op: 'replace',
      document: {
        ...endpoint.value,
        status: 'disabled',
        disabledReason: reason,
        updatedAt: now.toISOString(),
      },
      etag: endpoint.etag,
    },
    {
      op: 'replace',
      document: settled(delivery.value, now, 'failed', record),
      etag: delivery.etag,
    },
  ];
  const email = await disabledEmail(services, endpoint.value, reason);
  for (let attempt = 1; attempt <= countingAttempts; attempt += 1) {
    const counted =
      email && partitionId !== operatorEventsPartition
        ? await countOrSkip(services, logger, partitionId, now)
        : null;
    const writes = [
      ...(counted ? [counted] : []),
      ...changes,
      ...(email && (counted || partitionId === operatorEventsPartition)
        ? [{ op: 'create' as const, document: email }]
        : []),
    ];
    try {
      await services.partners.commit(partitionId, writes);
      return true;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      if (counted && error.index === 0) continue; // another action counted meanwhile
      // The endpoint changed meanwhile (its owner edited it): settle the delivery alone.
      await settle(services, delivery, now, 'failed', record);
      return false;
    }
  }
  await settle(services, delivery, now, 'failed', record);
  return false;
}

/** How often a disable is counted again when concurrent actions moved the hourly counter. */
const countingAttempts = 5;

/** The owner's counted email, or null (logged) when its hourly allowance is spent. */
async function countOrSkip(
  services: Services,
  logger: Logger,
  partnerId: string,
  now: Date,
): Promise<WriteOperation<PartnerDocument> | null> {
  try {
    return await countEmails(services, partnerId, now, { emails: 1 });
  } catch (error) {
    if (!(error instanceof DomainError && error.code === 'rate-limited')) throw error;
    logger.warn(
      "webhook endpoint disabled without an email: the partner's hourly email allowance is spent",
      { partnerId },
    );
    return null;
  }
}

async function disabledEmail(
  services: Services,
  endpoint: WebhookEndpoint,
  reason: string,
): Promise<PartnerDocument | null> {
  const link = landingLink(services.config, 'webhooks');
  if (endpoint.partnerId === operatorEventsPartition) {
    return queue(
      services,
      endpoint.partnerId,
      'webhook-disabled',
      webhookDisabledEmail(
        endpoint.url,
        reason,
        services.config.enrollment.reviewersEmail,
        'en',
        link,
      ),
    );
  }
  const partner = (await services.partners.get(endpoint.partnerId))?.value ?? null;
  const to = contactEmailOf(partner);
  if (!partner || !to) return null;
  return queue(
    services,
    endpoint.partnerId,
    'webhook-disabled',
    webhookDisabledEmail(endpoint.url, reason, to, preferredLanguage(partner), link),
  );
}
