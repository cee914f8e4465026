import { DomainError } from '../domain/errors';
import {
  eventFor,
  relayedEventFor,
  eventSequenceId,
  isOperatorEvent,
  operatorEventsPartition,
  publicEvent,
  publishedEventTtlSeconds,
  type EventData,
  type EventDocument,
  type EventSequence,
  type EventType,
  type RelayedEventDocument,
} from '../domain/events';
import {
  deliveryDocumentId,
  subscribesTo,
  type EventDelivery,
  type WebhookEndpoint,
} from '../domain/webhooks';
import { WriteConflict, type Versioned, type WriteOperation, type PartnerDocument } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch } from './transition-counts';
import { recordTransition } from './transition-report';
import type { CountChange } from '../domain/transition-counts';

/**
 * An event for one partner, to write in the very batch of the change it reports (docs/rules.md
 * section 11): the batch writes both or neither. `position` orders the events of one batch (an
 * auto-approval writes `enrollment.submitted` then `enrollment.approved` at the same instant):
 * the later one is due for publication that many milliseconds later, so it is published after.
 */
export function eventOf<T extends EventType>(
  services: Services,
  partnerId: string,
  type: T,
  data: EventData<T>,
  position = 0,
): EventDocument {
  const at = services.clock.now();
  const event = eventFor(services.ids.newId(), partnerId, type, data, at);
  return position === 0
    ? event
    : { ...event, publishDueAt: new Date(at.getTime() + position).toISOString() };
}

/**
 * The event of a change written in a customer's partition (an order, a subscription), in the
 * customer's batch; the publisher copies it to each partner in `partnerIds`.
 */
export function relayedEventOf<T extends EventType>(
  services: Services,
  customerId: string,
  subjectId: string,
  partnerIds: readonly string[],
  type: T,
  data: EventData<T>,
): RelayedEventDocument {
  return relayedEventFor(
    services.ids.newId(),
    customerId,
    subjectId,
    [...new Set(partnerIds)],
    type,
    data,
    services.clock.now(),
  );
}

/**
 * Events are published in the order of `publishDueAt` (eventOf's `position` sets it a few
 * milliseconds apart within one batch); any written up to a minute ahead is published now.
 */
export const horizon = (now: Date): Date => new Date(now.getTime() + 60_000);

/** Transactional batches hold at most 100 operations and 2 MB: publications keep under 1.5 MB. */
const maxBatchOperations = 100;
const maxBatchBytes = 1_500_000;
/** Events read per publication round. */
const eventsPerRound = 50;

/** A delivery of one event to one endpoint, waiting to be sent. */
export function newDelivery(
  endpoint: WebhookEndpoint,
  event: EventDocument,
  now: Date,
): EventDelivery {
  const at = now.toISOString();
  return {
    type: 'delivery',
    id: deliveryDocumentId(endpoint.webhookId, event.id),
    partnerId: endpoint.partnerId,
    webhookId: endpoint.webhookId,
    eventId: event.id,
    eventType: event.eventType,
    body: JSON.stringify(publicEvent(event)),
    status: 'pending',
    attempts: 0,
    dueAt: at,
    firstAttemptAt: null,
    createdAt: at,
    updatedAt: at,
    history: [],
  };
}

/** The partitions besides its own that receive a copy of an event before it is published. */
function copyTargets(event: EventDocument): string[] {
  const targets = new Set(event.copyTo ?? []);
  if (event.partnerId !== operatorEventsPartition && isOperatorEvent(event.eventType, event.data)) {
    targets.add(operatorEventsPartition);
  }
  targets.delete(event.partnerId);
  return [...targets];
}

/**
 * Writes a copy of an event in another partition, once (its id is the event's), with the count
 * changes it carries for that partner (written once with it: a copy already there refuses both).
 */
export async function copyEvent(
  services: Services,
  event: Omit<EventDocument, 'partnerId'>,
  partnerId: string,
  counts?: CountChange,
): Promise<void> {
  const { copyTo: _copyTo, sequence: _sequence, ...rest } = event as EventDocument;
  const copy: EventDocument = {
    ...rest,
    partnerId,
    publishDueAt: event.publishDueAt ?? event.occurredAt,
  };
  try {
    await commitCounting(services, partnerId, [
      { op: 'create', document: copy },
      ...(counts ? countsPatch(counts) : []),
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict && error.reason === 'exists')) throw error;
  }
}

/**
 * Publishes a partition's waiting events: copies those other partitions receive (operators',
 * a relayed event's partners), then, in one batch guarded by the partition's sequence document,
 * gives each the next feed number and writes a delivery for each active endpoint subscribed to
 * it. Two publishers at once: one batch wins, the other reads again, so an event is numbered
 * and fanned out exactly once, and the feed's numbers are committed in order (no reader skips
 * one written late). Returns how many it published.
 */
export async function publishPartition(
  services: Services,
  partnerId: string,
  copiedTo?: Set<string>,
): Promise<number> {
  let published = 0;
  let recorded = false;
  for (let round = 0; round < 20; round += 1) {
    const now = services.clock.now();
    // The sequence first: any publication meanwhile changes it, so if its etag still holds at
    // the commit, the events read after it were still waiting.
    const sequence = await services.partners.getDocument<EventSequence>(partnerId, eventSequenceId);
    const waiting = await services.events.toPublish(partnerId, horizon(now), eventsPerRound);
    if (waiting.length === 0) return published;
    for (const { value: event } of waiting) {
      for (const target of copyTargets(event)) {
        await copyEvent(services, event, target);
        copiedTo?.add(target);
      }
    }
    // The operators' transition report counts what the changes behind these events reached,
    // before they are numbered: a crash in between counts it on the next attempt, once.
    if (!recorded && partnerId !== operatorEventsPartition && waiting.some(movesTransition)) {
      await recordTransition(services, partnerId);
      recorded = true;
    }
    const endpoints = await services.events.webhooks(partnerId);
    const active = endpoints.map((endpoint) => endpoint.value).filter((e) => e.status === 'active');
    const operations = publication(partnerId, sequence, waiting, active, now);
    try {
      await services.partners.commit(partnerId, operations.writes);
      published += operations.count;
      // Everything waiting fitted in this batch: nothing is left to read.
      if (waiting.length < eventsPerRound && operations.count === waiting.length) return published;
    } catch (error) {
      // Another publisher numbered them first (or meanwhile): read again.
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
  return published;
}

/** Every event of a partner's change may move its transition, but a webhook's test. */
const movesTransition = ({ value }: Versioned<EventDocument>): boolean =>
  value.eventType !== 'webhook.test';

function publication(
  partnerId: string,
  sequence: Versioned<EventSequence> | null,
  waiting: Versioned<EventDocument>[],
  endpoints: WebhookEndpoint[],
  now: Date,
): { writes: WriteOperation<PartnerDocument>[]; count: number } {
  let next = sequence?.value.next ?? 1;
  const writes: WriteOperation<PartnerDocument>[] = [];
  let count = 0;
  let bytes = 0;
  for (const { value: event, etag } of waiting) {
    const subscribed = endpoints.filter((endpoint) => subscribesTo(endpoint, event.eventType));
    // The sequence document, this event and its deliveries must fit in the batch: 100
    // operations, and well under its 2 MB (an order's event grows with its line items).
    const size = Buffer.byteLength(JSON.stringify(event), 'utf8') * (2 + subscribed.length);
    const fits =
      1 + writes.length + 1 + subscribed.length <= maxBatchOperations &&
      bytes + size <= maxBatchBytes;
    if (!fits && count > 0) break;
    bytes += size;
    const { publishDueAt: _due, copyTo: _copyTo, ...rest } = event;
    writes.push({
      op: 'replace',
      document: { ...rest, sequence: next, ttl: publishedEventTtlSeconds },
      etag,
    });
    for (const endpoint of subscribed) {
      writes.push({ op: 'create', document: newDelivery(endpoint, event, now) });
    }
    next += 1;
    count += 1;
  }
  const counter: EventSequence = {
    type: 'event-sequence',
    id: eventSequenceId,
    partnerId,
    next,
  };
  writes.unshift(
    sequence
      ? { op: 'replace', document: counter, etag: sequence.etag }
      : { op: 'create', document: counter },
  );
  return { writes, count };
}

/**
 * Copies the events of customer-partition changes (orders, subscriptions) to their partners'
 * partitions, then removes them: a crash in between copies again, and the copy, named by the
 * event id, is written once. Returns the partitions that received events.
 */
export async function relayCustomerEvents(services: Services, limit: number): Promise<string[]> {
  return relay(services, await services.events.relayed(horizon(services.clock.now()), limit));
}

/** The same for one customer's partition (prompt delivery: no cross-partition query). */
export async function relayCustomerEventsIn(
  services: Services,
  customerId: string,
): Promise<string[]> {
  const now = horizon(services.clock.now());
  return relay(services, await services.events.relayedIn(customerId, now, eventsPerRound));
}

async function relay(
  services: Services,
  events: Versioned<RelayedEventDocument>[],
): Promise<string[]> {
  const touched = new Set<string>();
  for (const relayed of events) {
    for (const partnerId of relayed.value.copyTo) {
      const { customerId: _customerId, counts, ...event } = relayed.value;
      await copyEvent(
        services,
        { ...event, copyTo: [] } as Omit<EventDocument, 'partnerId'>,
        partnerId,
        counts?.[partnerId],
      );
      touched.add(partnerId);
    }
    await services.events.removeRelayed(relayed);
  }
  return [...touched];
}

/** The pull feed (docs/api.md `GET /api/me/events`): the cursor is the last feed number read. */
export async function readFeed(
  services: Services,
  partnerId: string,
  after: number,
  pageSize: number,
): Promise<{ items: ReturnType<typeof publicEvent>[]; cursor: string }> {
  // A GET writes nothing: events join the feed once published, by deliverEvents (right after
  // the request that wrote them, or at the timer's next run).
  const events = await services.events.feed(partnerId, after, pageSize);
  // Feed numbers are consecutive: a first event past `after + 1` means those between expired
  // (30 days), and reading on would skip them silently.
  const first = events[0]?.sequence;
  if (after > 0 && first !== undefined && first > after + 1) {
    throw new DomainError(
      'cursor-expired',
      `Events after this cursor expired (the feed keeps 30 days): read from the start (no after) and reconcile; the oldest kept is number ${first}.`,
    );
  }
  const last = events.at(-1)?.sequence ?? after;
  return { items: events.map(publicEvent), cursor: String(last) };
}
