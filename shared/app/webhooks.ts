import { auditEvent } from '../domain/audit';
import { DomainError, notFound } from '../domain/errors';
import { newEventId, type EventDocument } from '../domain/events';
import { actorOf, type Principal } from '../domain/principal';
import type { RateCounter } from '../domain/rate-limit';
import {
  manualSendsPerMinute,
  maxWebhooksPerPartner,
  rotationOverlapSeconds,
  webhookDocumentId,
  webhookSlotId,
  webhookStream,
  type EventDelivery,
  type WebhookEndpoint,
  type WebhookSlot,
  type WebhookStatus,
} from '../domain/webhooks';
import { feedHead, newDelivery } from './events';
import {
  WriteConflict,
  type Page,
  type PageRequest,
  type Versioned,
  type WriteOperation,
} from './ports';
import { countPerMinute } from './rate-limit';
import type { Services } from './services';

/**
 * Webhook endpoints (docs/api.md Events): a partner's own (`/api/me/webhooks`) or the operators'
 * (`/api/operator/webhooks`), each in its owner's partition. The secret is shown once, at
 * creation and at rotation, and stored sealed with the server key.
 */
export interface WebhookOwner {
  /** The partition: the partner's id, or the operators' partition. */
  partitionId: string;
  principal: Principal;
  kind: 'user' | 'operator';
}

export interface NewWebhook {
  url: string;
  events: string[];
  description?: string | undefined;
}

export interface WebhookChange {
  url?: string | undefined;
  events?: string[] | undefined;
  description?: string | undefined;
  status?: WebhookStatus | undefined;
}

async function checkUrl(services: Services, url: string): Promise<void> {
  const refusal = await services.webhooks.refusal(url);
  if (refusal !== null) throw new DomainError('webhook-url-refused', refusal);
}

function audit(services: Services, owner: WebhookOwner, action: string, reason: string) {
  return auditEvent(
    services.ids.newId(),
    owner.partitionId,
    services.clock.now(),
    actorOf(owner.principal, owner.kind),
    action,
    { reason },
  );
}

export async function createWebhook(
  services: Services,
  owner: WebhookOwner,
  input: NewWebhook,
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  // The slots first: a partner with ten endpoints is answered without resolving anything.
  let free = await freeSlots(services, owner.partitionId);
  await checkUrl(services, input.url);
  const webhookId = services.ids.newId();
  const secret = services.webhooks.newSecret();
  const sealed = services.webhooks.seal(secret);
  // It receives the events published from now on (the feed keeps the earlier ones).
  const deliverFrom = await feedHead(services, owner.partitionId);
  // Registrations racing for the free slots each try every slot in turn: one that finds a
  // slot taken meanwhile takes the next, and gives up only once every slot is taken.
  for (let round = 0; round < 3; round += 1) {
    for (const slot of free) {
      const now = services.clock.now().toISOString();
      const endpoint: WebhookEndpoint = {
        type: 'webhook',
        id: webhookDocumentId(webhookId),
        partnerId: owner.partitionId,
        webhookId,
        url: input.url,
        events: input.events,
        description: input.description ?? null,
        status: 'active',
        disabledReason: null,
        secrets: [{ sealed, createdAt: now, expiresAt: null }],
        slot,
        deliverFrom,
        createdAt: now,
        updatedAt: now,
      };
      const claim: WebhookSlot = {
        type: 'webhook-slot',
        id: webhookSlotId(slot),
        partnerId: owner.partitionId,
        webhookId,
      };
      try {
        await services.partners.commit(owner.partitionId, [
          { op: 'create', document: claim },
          { op: 'create', document: endpoint },
          {
            op: 'create',
            document: audit(
              services,
              owner,
              'webhook-created',
              `webhook ${webhookId} to ${endpointHost(input.url)}`,
            ),
          },
        ]);
        return { endpoint, secret };
      } catch (error) {
        // Stryker disable next-line ConditionalExpression,LogicalOperator: writes 1 and 2 create documents under new ids, so only the slot's claim (0) can conflict
        if (!(error instanceof WriteConflict && error.index === 0)) throw error;
      }
    }
    // Every slot tried was taken meanwhile; one deleted since is found by reading again (none
    // free: freeSlots answers the 409).
    free = await freeSlots(services, owner.partitionId);
  }
  throw tooManyEndpoints();
}

const tooManyEndpoints = (): DomainError =>
  new DomainError(
    'conflict',
    `You have ${maxWebhooksPerPartner} webhook endpoints already: delete one before adding another.`,
  );

/** The slots no endpoint holds (by the endpoints' own record of theirs); 409 when none. */
async function freeSlots(services: Services, partitionId: string): Promise<number[]> {
  const taken = new Set(
    (await services.events.webhooks(partitionId)).map((found) => found.value.slot),
  );
  const free = Array.from({ length: maxWebhooksPerPartner }, (_, n) => n).filter(
    (n) => !taken.has(n),
  );
  if (free.length === 0) throw tooManyEndpoints();
  return free;
}

/**
 * Only the host reaches the audit trail: a URL's path or query may carry the partner's token.
 * The URL parses: checkUrl refused it otherwise.
 */
const endpointHost = (url: string): string => new URL(url).host;

export async function listWebhooks(
  services: Services,
  partitionId: string,
): Promise<WebhookEndpoint[]> {
  return (await services.events.webhooks(partitionId)).map((found) => found.value);
}

export async function readWebhook(
  services: Services,
  partitionId: string,
  webhookId: string,
): Promise<Versioned<WebhookEndpoint>> {
  const found = await services.partners.getDocument<WebhookEndpoint>(
    partitionId,
    webhookDocumentId(webhookId),
  );
  // Stryker disable next-line ConditionalExpression: webhookId is a uuid (the route's schema), so no other document is named webhook-<it>
  if (!found || found.value.type !== 'webhook') throw notFound('This webhook endpoint');
  return found;
}

async function replaceWebhook(
  services: Services,
  owner: WebhookOwner,
  found: Versioned<WebhookEndpoint>,
  updated: WebhookEndpoint,
  action: string,
): Promise<WebhookEndpoint> {
  try {
    await services.partners.commit(owner.partitionId, [
      { op: 'replace', document: updated, etag: found.etag },
      { op: 'create', document: audit(services, owner, action, `webhook ${updated.webhookId}`) },
    ]);
  } catch (error) {
    // Stryker disable next-line ConditionalExpression: write 1 creates the audit event under a new id, so only the endpoint's replace (0) can conflict
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
    throw new DomainError(
      'conflict',
      'The webhook endpoint changed meanwhile; read it and try again.',
    );
  }
  return updated;
}

export async function changeWebhook(
  services: Services,
  owner: WebhookOwner,
  webhookId: string,
  change: WebhookChange,
): Promise<WebhookEndpoint> {
  const found = await readWebhook(services, owner.partitionId, webhookId);
  if (change.url !== undefined) await checkUrl(services, change.url);
  const endpoint = found.value;
  const status = change.status ?? endpoint.status;
  const enabled = status === 'active' && endpoint.status === 'disabled';
  const updated: WebhookEndpoint = {
    ...endpoint,
    // Enabled again: it receives the events published from now on; those published while it was
    // disabled are in the feed.
    ...(enabled ? { deliverFrom: await feedHead(services, owner.partitionId) } : {}),
    url: change.url ?? endpoint.url,
    events: change.events ?? endpoint.events,
    description: change.description ?? endpoint.description,
    status,
    // Re-enabled by its owner: the reason it was disabled no longer holds.
    disabledReason:
      status === 'active'
        ? null
        : change.status === 'disabled'
          ? 'disabled by its owner'
          : endpoint.disabledReason,
    updatedAt: services.clock.now().toISOString(),
  };
  const action =
    change.status === 'active' && endpoint.status === 'disabled'
      ? 'webhook-enabled'
      : change.status === 'disabled' && endpoint.status === 'active'
        ? 'webhook-disabled'
        : 'webhook-changed';
  return replaceWebhook(services, owner, found, updated, action);
}

export async function deleteWebhook(
  services: Services,
  owner: WebhookOwner,
  webhookId: string,
): Promise<void> {
  const found = await readWebhook(services, owner.partitionId, webhookId);
  try {
    await services.partners.commit(owner.partitionId, [
      { op: 'delete', id: found.value.id, etag: found.etag },
      { op: 'delete', id: webhookSlotId(found.value.slot) },
      { op: 'create', document: audit(services, owner, 'webhook-deleted', `webhook ${webhookId}`) },
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict)) throw error;
    throw new DomainError(
      'conflict',
      'The webhook endpoint changed meanwhile; read it and try again.',
    );
  }
}

/** A new secret; the previous one still signs for 24 hours, then only the new one does. */
export async function rotateWebhookSecret(
  services: Services,
  owner: WebhookOwner,
  webhookId: string,
): Promise<string> {
  const found = await readWebhook(services, owner.partitionId, webhookId);
  const now = services.clock.now();
  const secret = services.webhooks.newSecret();
  const expiresAt = new Date(now.getTime() + rotationOverlapSeconds * 1000).toISOString();
  // Stryker disable next-line ConditionalExpression: the secret without expiry is written first, at creation and at each rotation, so the first secret is the one found
  const current = found.value.secrets.find((s) => s.expiresAt === null);
  await replaceWebhook(
    services,
    owner,
    found,
    {
      ...found.value,
      // Only the newest previous secret keeps signing: two signatures at most.
      secrets: [
        { sealed: services.webhooks.seal(secret), createdAt: now.toISOString(), expiresAt: null },
        ...(current ? [{ ...current, expiresAt }] : []),
      ],
      updatedAt: now.toISOString(),
    },
    'webhook-secret-rotated',
  );
  return secret;
}

/**
 * `test` and `redeliver` each send a signed request to the endpoint's URL: at most
 * `manualSendsPerMinute` a minute per endpoint (429 with Retry-After past it), counted in the
 * endpoint's stream, where its deliveries are, so the platform is no reflector (docs/security.md).
 */
function countManualSend(
  services: Services,
  partitionId: string,
  webhookId: string,
): Promise<WriteOperation<RateCounter>> {
  return countPerMinute(
    services,
    (id) => services.events.streamCounter(webhookId, id),
    { partnerId: partitionId, stream: webhookStream(webhookId) },
    `webhook-${webhookId}`,
    manualSendsPerMinute,
    `An endpoint is sent at most ${manualSendsPerMinute} test events and redeliveries a minute`,
  );
}

/** Queues a `webhook.test` event to this endpoint only (it is in no feed); tried once. */
export async function testWebhook(
  services: Services,
  owner: WebhookOwner,
  webhookId: string,
): Promise<{ eventId: string }> {
  const found = await readWebhook(services, owner.partitionId, webhookId);
  const now = services.clock.now();
  const event: EventDocument = {
    type: 'event',
    id: newEventId(services.ids.newId()),
    partnerId: owner.partitionId,
    subjectId: owner.partitionId,
    eventType: 'webhook.test',
    occurredAt: now.toISOString(),
    data: { webhookId },
  };
  await commitCounted(services, owner.partitionId, webhookId, {
    op: 'create',
    document: newDelivery(found.value, event, now),
  });
  return { eventId: event.id };
}

export async function listDeliveries(
  services: Services,
  partitionId: string,
  webhookId: string,
  page: PageRequest,
): Promise<Page<EventDelivery>> {
  await readWebhook(services, partitionId, webhookId);
  return services.events.deliveries(webhookId, page);
}

/**
 * Sends an event to the endpoint again, due at once. A settled one starts a new series of
 * attempts: a new three-day retry window and its backoff from the start (30 s, 1 min ...), as an
 * operator's retry of an email gets a fresh set of attempts; the past attempts stay in its history.
 * One waiting for its next retry is sent without waiting any longer, in its own window and series.
 * One being sent right now is left to that attempt.
 */
export async function redeliver(
  services: Services,
  owner: WebhookOwner,
  webhookId: string,
  eventId: string,
): Promise<void> {
  await readWebhook(services, owner.partitionId, webhookId);
  const found = await services.events.delivery(webhookId, eventId);
  // Stryker disable next-line ConditionalExpression: ids are a uuid and an evt_ id (the route's schema), so no other document is named delivery-<them>
  if (!found || found.value.type !== 'delivery') {
    // Only an attempted event can be sent again: one published while the endpoint was disabled,
    // or of a type it does not subscribe to, never had a delivery (none is written for it).
    throw new DomainError(
      'not-found',
      owner.kind === 'operator'
        ? 'This endpoint has no delivery of this event: events published while it was disabled are not sent to it. The enrollments waiting for review are listed by GET /api/operator/enrollments.'
        : 'This endpoint has no delivery of this event: events published while it was disabled, or of types it does not subscribe to, are not sent to it. Read them from the pull feed, GET /api/me/events.',
    );
  }
  if (found.value.status === 'sending') return;
  const now = services.clock.now().toISOString();
  const { ttl: _ttl, failedAt: _failedAt, ...delivery } = found.value;
  const waiting = found.value.status === 'pending';
  try {
    await commitCounted(services, owner.partitionId, webhookId, {
      op: 'replace',
      document: {
        ...delivery,
        status: 'pending',
        dueAt: now,
        // Waiting for a retry, it keeps its window and its series; settled, it starts new ones.
        attempts: waiting ? delivery.attempts : 0,
        firstAttemptAt: waiting ? delivery.firstAttemptAt : null,
        updatedAt: now,
      },
      etag: found.etag,
    });
  } catch (error) {
    if (!(error instanceof WriteConflict)) throw error;
    throw new DomainError('conflict', 'This delivery changed meanwhile; read it and try again.');
  }
}

/**
 * The delivery, written in one batch with this endpoint's count of manual sends (both or neither,
 * in the endpoint's stream): a conflict on the count (another test or redelivery at once) counts
 * again; one on the delivery is the caller's (index 0).
 */
async function commitCounted(
  services: Services,
  partitionId: string,
  webhookId: string,
  delivery: WriteOperation<EventDelivery>,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const counted = await countManualSend(services, partitionId, webhookId);
    try {
      await services.events.commitCountedDelivery(webhookId, counted, delivery);
      return;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      // Stryker disable next-line ArithmeticOperator: no caller reads the index of a conflict on the delivery (a test send answers any WriteConflict 409, redeliver turns any into its own 409) and none logs it
      if (error.index > 0) throw new WriteConflict(error.reason, error.index - 1);
      if (attempt >= 10)
        throw new DomainError('conflict', 'Too many sends to this endpoint at once; try again.');
    }
  }
}

/** What a caller sees of an endpoint: never its secrets. */
export function webhookView(endpoint: WebhookEndpoint) {
  return {
    webhookId: endpoint.webhookId,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    status: endpoint.status,
    disabledReason: endpoint.disabledReason,
    createdAt: endpoint.createdAt,
    updatedAt: endpoint.updatedAt,
  };
}

export function deliveryView(delivery: EventDelivery) {
  const last = delivery.history.at(-1);
  return {
    eventId: delivery.eventId,
    type: delivery.eventType,
    attempt: delivery.attempts,
    outcome: last?.outcome ?? delivery.status,
    status: delivery.status,
    responseStatus: last?.responseStatus ?? null,
    durationMs: last?.durationMs ?? null,
    at: last?.at ?? delivery.createdAt,
    nextAttemptAt: delivery.status === 'pending' ? (delivery.dueAt ?? null) : null,
  };
}
