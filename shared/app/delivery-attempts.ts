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
  type DeliveryAttempt,
  type EventDelivery,
  type WebhookEndpoint,
} from '../domain/webhooks';
import { addSeconds } from './bounded';
import { webhookDisabledEmail } from './emails/webhook-emails';
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
import { countEmails } from './rate-limit';
import type { Services } from './services';

/**
 * One attempt of a webhook delivery (docs/api.md Events): claimed with its etag first (two hosts
 * never send the same attempt), sent signed, and settled: a 2xx delivers it; a `410 Gone`, or
 * failures for three days, fail it for good and disable its endpoint, emailing the owner;
 * anything else is tried again with backoff and jitter.
 */
export interface AttemptOutcome {
  counted: 'delivered' | 'retried' | 'failed' | 'skipped';
  disabled: boolean;
}

/** Claims a delivery due to be tried (or settles it failed if its endpoint is gone), then sends it. */
export async function attempt(
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
  return sendClaimed(services, logger, endpoint, { value: claimed, etag: claimEtag });
}

/**
 * Sends a delivery this run holds the claim of, and settles it with what the endpoint said. A
 * delivered one goes to `delivered` when given (the caller writes them together), else is
 * written at once; any other outcome is written at once.
 */
export async function sendClaimed(
  services: Services,
  logger: Logger,
  endpoint: Versioned<WebhookEndpoint>,
  current: Versioned<EventDelivery>,
  delivered?: Versioned<EventDelivery>[],
): Promise<AttemptOutcome> {
  const now = services.clock.now();
  const claimed = current.value;
  const result = await send(services, endpoint.value, claimed, now);
  const record: DeliveryAttempt = {
    attempt: claimed.attempts,
    at: now.toISOString(),
    outcome: result.outcome,
    responseStatus: result.status ?? null,
    durationMs: result.durationMs,
    detail: result.excerpt ?? result.error ?? null,
  };
  if (result.outcome === 'delivered') {
    if (delivered) {
      delivered.push({ value: settled(claimed, now, 'delivered', record), etag: current.etag });
    } else await settle(services, current, now, 'delivered', record);
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
      partnerId: claimed.partnerId,
      webhookId: claimed.webhookId,
      eventId: claimed.eventId,
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
    partnerId: claimed.partnerId,
    webhookId: claimed.webhookId,
    eventId: claimed.eventId,
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
 * Disables the endpoint, with the email to its owner, in one batch guarded by the endpoint's
 * etag (the endpoint is disabled once, and its owner told once), then fails the delivery for
 * good. A partner's email counts against its hourly allowance (docs/rules.md section 13, the
 * counter first in the batch); past it the endpoint is disabled all the same, without an email
 * (its status and deliveries say why). A crash between the batch and the delivery leaves the
 * delivery claimed: tried again once its claim lapses, it finds the endpoint disabled and fails.
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
  const change: WriteOperation<PartnerDocument> = {
    op: 'replace',
    document: {
      ...endpoint.value,
      status: 'disabled',
      disabledReason: reason,
      updatedAt: now.toISOString(),
    },
    etag: endpoint.etag,
  };
  const email = await disabledEmail(services, endpoint.value, reason);
  const operators = partitionId === operatorEventsPartition;
  let disabled = false;
  for (let round = 1; round <= countingAttempts; round += 1) {
    const counted =
      email && !operators ? await countOrSkip(services, logger, partitionId, now) : null;
    const writes: WriteOperation<PartnerDocument>[] = [
      ...(counted ? [counted] : []),
      change,
      ...(email && (counted || operators) ? [{ op: 'create' as const, document: email }] : []),
    ];
    try {
      await services.partners.commit(partitionId, writes);
      disabled = true;
      break;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      // Stryker disable next-line ConditionalExpression,LogicalOperator: a batch whose endpoint changed fails again at every try (its etag is stale), so trying it again ends as the break does
      if (counted && error.index === 0) continue; // another action counted meanwhile
      // The endpoint changed meanwhile (its owner edited it): the delivery alone fails.
      break;
    }
  }
  await settle(services, delivery, now, 'failed', record);
  return disabled;
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
    // Stryker disable next-line ConditionalExpression: countEmails throws no DomainError but rate-limited
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
