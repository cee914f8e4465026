import type { EventType } from './events';

/**
 * Webhook endpoints and their deliveries (docs/rules.md section 11, docs/api.md Events). An
 * endpoint lives in the partition of the partner that owns it (or the operators' partition); its
 * deliveries and its cursor in the feed live in the events container, in a partition of the
 * endpoint's own (`webhook:<webhookId>`), so one partner's ten busy endpoints spread their writes
 * and storage over ten partitions (docs/capacity.md).
 */
export interface WebhookSecret {
  /** The secret sealed with the server key (AES-256-GCM): a database reader cannot sign. */
  sealed: string;
  createdAt: string;
  /** After a rotation the previous secret still signs until then (24 hours). */
  expiresAt: string | null;
}

export type WebhookStatus = 'active' | 'disabled';

export interface WebhookEndpoint {
  type: 'webhook';
  id: string;
  partnerId: string;
  webhookId: string;
  url: string;
  /** Event types, or `['*']` for all. */
  events: string[];
  description: string | null;
  status: WebhookStatus;
  /** Why it was disabled: by its owner, a `410 Gone`, or three days of failures. */
  disabledReason: string | null;
  secrets: WebhookSecret[];
  /** The slot it holds (0 to 9): see WebhookSlot. */
  slot: number;
  /**
   * The feed number it receives events after: the feed's last when it was created or enabled
   * again (events published while it was disabled are in the feed, not sent to it).
   */
  deliverFrom?: number;
  createdAt: string;
  updatedAt: string;
}

/** The events container's partition of one endpoint: its cursor and its deliveries. */
export const webhookStream = (webhookId: string): string => `webhook:${webhookId}`;

/**
 * Where an endpoint is in its partner's feed: every event numbered up to `through` has had its
 * delivery written (or was of a type it does not take). Deliveries are written from the feed as
 * they are sent, a share per endpoint per run, so a flood of events waits in the feed rather than
 * as millions of deliveries, and the writes of webhook delivery follow the sending pace. The events
 * it has yet to be sent are those of its partner's feed past `through`, up to the feed head (the
 * partner's event sequence), as the backlog counts them: a cursor behind is not written when more
 * events are published. (A cursor written before kept a `head`, the feed's last number when it was
 * written, which lagged: nothing reads it.)
 */
export interface WebhookCursor {
  type: 'webhook-cursor';
  id: 'cursor';
  stream: string;
  partnerId: string;
  webhookId: string;
  through: number;
  /** Present while the endpoint has events to catch up on: the timer takes the oldest first. */
  dueAt?: string;
  /** When the oldest event it has not yet been sent was published (the backlog's age). */
  behindSince?: string;
  /** Prompt deliveries in the current minute (a head start, capped per endpoint). */
  prompt?: { minute: string; count: number };
}

export const webhookCursorId = 'cursor';

/**
 * One of a partner's ten endpoint slots, created with its endpoint in one batch and deleted with
 * it: two registrations at once cannot both take the last slot, so the limit holds under races.
 */
export interface WebhookSlot {
  type: 'webhook-slot';
  id: string;
  partnerId: string;
  webhookId: string;
}

export const webhookSlotId = (slot: number): string => `webhook-slot-${slot}`;

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  outcome: 'delivered' | 'failed' | 'gone' | 'refused' | 'endpoint-disabled';
  responseStatus: number | null;
  durationMs: number | null;
  /** A short excerpt of the answer or the error, never the whole body. */
  detail: string | null;
}

export interface EventDelivery {
  type: 'delivery';
  id: string;
  /** The endpoint's partition in the events container (webhookStream). */
  stream: string;
  /** The partner that owns the endpoint (or the operators' partition). */
  partnerId: string;
  webhookId: string;
  eventId: string;
  eventType: EventType;
  /** The JSON body sent (the public event), kept so a delivery needs no second read. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due (for `sending`: when its claim lapses); absent once settled. */
  dueAt?: string;
  /** Retries stop three days after this (docs/api.md Events). */
  firstAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** The last attempts, newest last (at most `keptAttempts`). */
  history: DeliveryAttempt[];
  /** When it failed for good (the status page lists recent failures). */
  failedAt?: string;
  /** Seconds to keep a settled delivery (Cosmos TTL); unset while it waits. */
  ttl?: number;
}

export const webhookDocumentId = (webhookId: string): string => `webhook-${webhookId}`;
export const deliveryDocumentId = (webhookId: string, eventId: string): string =>
  `delivery-${webhookId}-${eventId}`;

/** At most this many endpoints per partner. */
export const maxWebhooksPerPartner = 10;
/** `test` and `redeliver` send at most this many requests a minute to one endpoint. */
export const manualSendsPerMinute = 10;
export const keptAttempts = 10;
/** A delivery is retried for three days, then fails for good and disables its endpoint. */
export const retryWindowSeconds = 3 * 24 * 3600;
/** The old secret signs for 24 hours after a rotation. */
export const rotationOverlapSeconds = 24 * 3600;
/** How long a claimed delivery stays claimed (a sender that died leaves it after this). */
export const deliveryLeaseSeconds = 60;
/** Settled deliveries are kept 30 days. */
export const settledDeliveryTtlSeconds = 30 * 24 * 3600;

export function subscribesTo(endpoint: WebhookEndpoint, type: EventType): boolean {
  if (type === 'webhook.test') return false;
  return endpoint.events.includes('*') || endpoint.events.includes(type);
}

/**
 * Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at 6 hours, each between half
 * and all of that (`random` in [0, 1)), so endpoints that failed together do not retry together.
 */
export function deliveryRetryDelaySeconds(attempts: number, random: number): number {
  const ceiling = Math.min(30 * 2 ** Math.max(0, attempts - 1), 6 * 3600);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** The secrets that still sign at `now`: the current one first. */
export function signingSecrets(endpoint: WebhookEndpoint, now: Date): WebhookSecret[] {
  return endpoint.secrets.filter(
    (secret) => secret.expiresAt === null || Date.parse(secret.expiresAt) > now.getTime(),
  );
}
