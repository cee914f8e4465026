import * as z from 'zod';
import type { CountChange } from './transition-counts';

/**
 * Events for portals and automation (docs/rules.md section 11). An event document is written in
 * the same transactional batch as the change it reports, in the partition of the partner it is
 * for, so an event exists if and only if its change was written. It is then *published*: given
 * the next number of its partner's feed (the pull feed reads in that order, so a reader never
 * skips an event written late) and fanned out to the partner's webhook endpoints.
 */

const customerRef = { customerId: z.string(), companyName: z.string() };
const pair = { providerId: z.string(), resellerId: z.string() };
const transferData = z
  .object({
    transferId: z.string(),
    customerId: z.string(),
    ...pair,
    status: z.enum(['pending', 'completed', 'rejected', 'withdrawn', 'expired', 'cancelled']),
    subscriptionIds: z.array(z.string()),
    reason: z.string().nullable(),
  })
  .meta({ id: 'TransferEventData', description: 'The data of every transfer.* event' });

/** Each event type and the schema of its `data` (OpenAPI `webhooks` is generated from these). */
export const eventDataSchemas = {
  'enrollment.submitted': z.object({
    status: z.enum(['pending-approval', 'approved']),
    submittedAt: z.string(),
  }),
  'enrollment.approved': z.object({ approvedAt: z.string(), automatic: z.boolean() }),
  'enrollment.rejected': z.object({ rejectedAt: z.string(), reason: z.string() }),
  'enrollment.escalated': z.object({ submittedAt: z.string(), escalatedAt: z.string() }),
  'agreement.accepted': z.object({
    templateId: z.string(),
    version: z.string(),
    acceptedAt: z.string(),
  }),
  'partnership.invited': z.object({
    invitationId: z.string(),
    resellerMpnId: z.string(),
    expiresAt: z.string(),
  }),
  'partnership.accepted': z.object({ ...pair, invitationId: z.string() }),
  'partnership.revoked': z.object({ invitationId: z.string(), resellerMpnId: z.string() }),
  'partnership.ended': z.object({ ...pair, endedAt: z.string() }),
  'customer.created': z.object({
    ...customerRef,
    relationship: z.enum(['direct-bill', 'indirect-reseller', 'indirect-provider']),
  }),
  'customer-invitation.accepted': z.object({
    invitationId: z.string(),
    ...customerRef,
    ...pair,
  }),
  'relationship.extended': z.object({ ...customerRef, ...pair }),
  // A provider's acceptance completes the transfer in the same request: transfer.completed says
  // it; there is no transfer.accepted.
  'transfer.created': transferData,
  'transfer.rejected': transferData,
  'transfer.withdrawn': transferData,
  'transfer.expired': transferData,
  'transfer.cancelled': transferData,
  'transfer.completed': transferData,
  'order.placed': z.object({
    customerId: z.string(),
    orderId: z.string(),
    placedBy: z.string(),
    lineItems: z.array(
      z.object({
        offerId: z.string(),
        productType: z.string(),
        quantity: z.number().int(),
        subscriptionId: z.string(),
      }),
    ),
  }),
  'subscription.updated': z.object({
    customerId: z.string(),
    subscriptionId: z.string(),
    autoRenew: z.boolean(),
    quantity: z.number().int(),
  }),
  'incentives.invited': z.object({
    program: z.literal('indirect-reseller'),
    invitedAt: z.string(),
  }),
  'incentives.enrolled': z.object({
    program: z.enum(['indirect-reseller', 'direct-bill']),
    enrolledAt: z.string(),
  }),
  'webhook.test': z.object({ webhookId: z.string() }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;
export const eventTypes = Object.keys(eventDataSchemas) as EventType[];

/** What operators' subscriptions receive of every partner (docs/rules.md section 11). */
export function isOperatorEvent(type: EventType, data: unknown): boolean {
  if (type === 'enrollment.escalated') return true;
  return (
    type === 'enrollment.submitted' &&
    (data as EventData<'enrollment.submitted'>).status === 'pending-approval'
  );
}

/** The partition holding operators' webhook endpoints and the events they receive. */
export const operatorEventsPartition = 'platform-operators';

/** The payload a subscriber receives, and what the pull feed lists. */
export interface PublicEvent {
  id: string;
  type: EventType;
  occurredAt: string;
  partnerId: string;
  data: unknown;
}

export interface EventDocument {
  type: 'event';
  /** The event id (`evt_...`): the `webhook-id` header, the same on every retry. */
  id: string;
  /** The partition: the partner the event is for (or the operators' partition). */
  partnerId: string;
  /** The partner whose change it reports (differs only in the operators' partition). */
  subjectId: string;
  eventType: EventType;
  occurredAt: string;
  data: unknown;
  /** Its place in the partition's feed, given when published; absent until then. */
  sequence?: number;
  /** Present until published: when the publisher should take it (an indexed due date). */
  publishDueAt?: string;
  /** Other partitions that receive a copy (same id) before it is published here. */
  copyTo?: string[];
  /** Seconds it is kept once published (Cosmos TTL). */
  ttl?: number;
}

/**
 * A change that lives outside the partners container (an order, a subscription) writes its event
 * in its own partition; the publisher copies it to each partner in `copyTo` and deletes it.
 */
export interface RelayedEventDocument extends Omit<EventDocument, 'partnerId' | 'sequence'> {
  customerId: string;
  copyTo: string[];
  /**
   * What the change moves in a partner's transition counts (docs/rules.md section 14), applied
   * in the batch that writes that partner's copy: once, as the copy is.
   */
  counts?: Record<string, CountChange>;
}

/** An event numbered by a publication, still to be written to the feed. */
export interface ReservedEvent {
  id: string;
  sequence: number;
}

/**
 * Keeps the next feed number of one partition; replaced with its etag by each publication. A
 * publication first reserves the numbers of the events it takes (`publishing`), then writes them
 * to the feed in that order and removes them from the partition, clearing `publishing`: a
 * publisher that finds a reservation completes it before taking more, so the feed has no gap.
 */
export interface EventSequence {
  type: 'event-sequence';
  id: 'event-sequence';
  partnerId: string;
  next: number;
  publishing?: ReservedEvent[];
}

/**
 * The feed lives in the events container, one partition per partner (`feed:<partnerId>`), apart
 * from the partner's own partition: 30 days of events must not fill the partner's 20 GB, nor its
 * publication and expiry spend the RU of the partner's physical partition (docs/capacity.md).
 */
export const feedStream = (partnerId: string): string => `feed:${partnerId}`;

/** A published event as the feed keeps it, numbered, for 30 days. */
export interface FeedEvent extends Omit<EventDocument, 'publishDueAt' | 'copyTo'> {
  stream: string;
  sequence: number;
  ttl: number;
}

/** The feed's copy of an event numbered `sequence`. */
export function feedEventOf(event: EventDocument, sequence: number): FeedEvent {
  const { publishDueAt: _due, copyTo: _copyTo, ...rest } = event;
  return {
    ...rest,
    stream: feedStream(event.partnerId),
    sequence,
    ttl: publishedEventTtlSeconds,
  };
}

export const eventSequenceId = 'event-sequence';

export function newEventId(unique: string): string {
  return `evt_${unique.replace(/-/g, '')}`;
}

/** A new, unpublished event for a partner, written with the change it reports. */
export function eventFor<T extends EventType>(
  unique: string,
  partnerId: string,
  eventType: T,
  data: EventData<T>,
  at: Date,
): EventDocument {
  return {
    type: 'event',
    id: newEventId(unique),
    partnerId,
    subjectId: partnerId,
    eventType,
    occurredAt: at.toISOString(),
    data: eventDataSchemas[eventType].parse(data),
    publishDueAt: at.toISOString(),
  };
}

/**
 * A customer-partition change's event (written in the customer's batch), copied to each partner
 * named; `subjectId` is the partner whose action it reports.
 */
export function relayedEventFor<T extends EventType>(
  unique: string,
  customerId: string,
  subjectId: string,
  partnerIds: string[],
  eventType: T,
  data: EventData<T>,
  at: Date,
): RelayedEventDocument {
  const {
    partnerId: _p,
    sequence: _s,
    ...event
  } = eventFor(unique, subjectId, eventType, data, at);
  return { ...event, customerId, subjectId, copyTo: partnerIds };
}

export function publicEvent(event: EventDocument | FeedEvent): PublicEvent {
  return {
    id: event.id,
    type: event.eventType,
    occurredAt: event.occurredAt,
    partnerId: event.subjectId,
    data: event.data,
  };
}

/**
 * A published event stays in the feed 30 days (a Cosmos ttl set when it is published; one
 * waiting to be published never expires), as long as its deliveries are kept.
 */
export const publishedEventTtlSeconds = 30 * 24 * 3600;
