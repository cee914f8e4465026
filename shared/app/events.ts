import { DomainError } from '../domain/errors';
import {
  eventFor,
  relayedEventFor,
  eventSequenceId,
  feedEventOf,
  isOperatorEvent,
  operatorEventsPartition,
  publicEvent,
  type EventData,
  type EventDocument,
  type EventSequence,
  type EventType,
  type FeedEvent,
  type RelayedEventDocument,
} from '../domain/events';
import {
  deliveryDocumentId,
  subscribesTo,
  webhookCursorId,
  webhookStream,
  type EventDelivery,
  type WebhookCursor,
  type WebhookEndpoint,
} from '../domain/webhooks';
import { WriteConflict, type Versioned } from './ports';
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
  // eventFor makes it due at `at`: position 0 leaves it so.
  return { ...event, publishDueAt: new Date(at.getTime() + position).toISOString() };
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

/** Events read, numbered and written to the feed per publication round. */
const eventsPerRound = 50;

/** A delivery of one event to one endpoint, waiting to be sent now (a test event). */
export function newDelivery(
  endpoint: WebhookEndpoint,
  event: EventDocument | FeedEvent,
  now: Date,
): EventDelivery {
  const at = now.toISOString();
  return {
    type: 'delivery',
    id: deliveryDocumentId(endpoint.webhookId, event.id),
    stream: webhookStream(endpoint.webhookId),
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
  // Stryker disable next-line LogicalOperator,ArrayDeclaration: no event in a partner's partition is written with copyTo (relayed events are copied by relay, with none)
  const targets = new Set(event.copyTo ?? []);
  if (isOperatorEvent(event.eventType, event.data)) targets.add(operatorEventsPartition);
  // An event of the operators' own partition is published there, not copied to it.
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
    // Stryker disable next-line LogicalOperator: every event copied is due at its occurrence (an operators' event is the first of its batch; a relayed one is due when it occurs)
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
 * a relayed event's partners), then reserves their feed numbers in the partition's sequence
 * document (guarded by its etag), writes them to the feed in that order, tells the endpoints
 * subscribed to them that they have events to catch up on, and removes them from the partition.
 * A publisher that finds a reservation completes it before reserving more; two publishers at
 * once: one reservation wins, the other reads again. So an event is numbered once, the feed's
 * numbers are written in order (no reader skips one written late), and each endpoint is sent
 * each event once, from its cursor (deliver-events.ts). Returns how many it published.
 */
export async function publishPartition(
  services: Services,
  partnerId: string,
  copiedTo?: Set<string>,
  told?: Map<string, Versioned<WebhookEndpoint>>,
): Promise<number> {
  let published = 0;
  let recorded = false;
  for (let round = 0; round < 20; round += 1) {
    const sequence = await services.partners.getDocument<EventSequence>(partnerId, eventSequenceId);
    if (sequence?.value.publishing?.length) {
      await completePublication(services, partnerId, [], told);
      continue;
    }
    const now = services.clock.now();
    const waiting = await services.events.toPublish(partnerId, horizon(now), eventsPerRound);
    if (waiting.length === 0) return published;
    for (const { value: event } of waiting) {
      for (const target of copyTargets(event)) {
        await copyEvent(services, event, target);
        copiedTo?.add(target);
      }
    }
    // The operators' transition report counts what the changes behind these events reached,
    // before they are numbered: a crash in between counts it on the next attempt, once. (Each
    // is a partner's change: a webhook's test event is written as a delivery, never here.)
    if (!recorded && partnerId !== operatorEventsPartition) {
      await recordTransition(services, partnerId);
      recorded = true;
    }
    const next = sequence?.value.next ?? 1;
    const reserved: EventSequence = {
      type: 'event-sequence',
      id: eventSequenceId,
      partnerId,
      next: next + waiting.length,
      publishing: waiting.map(({ value }, index) => ({ id: value.id, sequence: next + index })),
    };
    try {
      await services.partners.commit(partnerId, [
        sequence
          ? { op: 'replace', document: reserved, etag: sequence.etag }
          : { op: 'create', document: reserved },
      ]);
    } catch (error) {
      // Another publisher numbered them first (or meanwhile): read again.
      if (!(error instanceof WriteConflict)) throw error;
      continue;
    }
    await completePublication(services, partnerId, waiting, told);
    published += waiting.length;
    // Everything waiting fitted in this round: nothing is left to read.
    if (waiting.length < eventsPerRound) return published;
  }
  return published;
}

/**
 * Writes the reserved events to the feed in their numbers' order, at once (an event is in the
 * feed only once every number before it is), tells their endpoints, and removes them
 * from the partition with the reservation, in one batch guarded by the sequence's etag. Safe to
 * run twice at once, or again after a crash: a feed write or an endpoint's notice is written
 * once, and only one removal passes the guard.
 */
async function completePublication(
  services: Services,
  partnerId: string,
  inHand: Versioned<EventDocument>[],
  told?: Map<string, Versioned<WebhookEndpoint>>,
): Promise<void> {
  const sequence = await services.partners.getDocument<EventSequence>(partnerId, eventSequenceId);
  const reserved = sequence?.value.publishing ?? [];
  if (!sequence || reserved.length === 0) return;
  const known = new Map(inHand.map((event) => [event.value.id, event]));
  const events: { event: EventDocument; sequence: number }[] = [];
  for (const { id, sequence: number } of reserved) {
    const found =
      known.get(id) ?? (await services.partners.getDocument<EventDocument>(partnerId, id));
    // Gone: another publisher completed this reservation and removed it, after writing it to
    // the feed.
    // Stryker disable next-line ConditionalExpression: a reserved id is an event's (evt_<uuid>), which no other document is named
    if (!found || found.value.type !== 'event') continue;
    events.push({ event: found.value, sequence: number });
  }
  await services.events.addToFeed(
    events.map(({ event, sequence: number }) => feedEventOf(event, number)),
  );
  await tellEndpoints(services, partnerId, events, told);
  const { publishing: _done, ...published } = sequence.value;
  try {
    await services.partners.commit(partnerId, [
      { op: 'replace', document: published, etag: sequence.etag },
      ...events.map(({ event }) => ({ op: 'delete' as const, id: event.id })),
    ]);
  } catch (error) {
    // Another publisher completed it first.
    if (!(error instanceof WriteConflict)) throw error;
  }
}

/**
 * Marks the cursor of each active endpoint subscribed to one of these events as due, so that the
 * timer (or a prompt run) sends them: written only when the endpoint was caught up (an endpoint
 * already behind is due already), so a flood of events costs one read per endpoint and round.
 * The endpoints it marked, caught up until now, are added to `told` (a prompt run sends them
 * their new events; those behind are left to the paced timer). Throws when one could not be
 * marked (markDue): the publication then stays unfinished and the next run tells it again.
 */
async function tellEndpoints(
  services: Services,
  partnerId: string,
  published: { event: EventDocument; sequence: number }[],
  told?: Map<string, Versioned<WebhookEndpoint>>,
): Promise<void> {
  const last = published.at(-1);
  if (!last) return;
  const endpoints = (await services.events.webhooks(partnerId)).filter(
    ({ value: endpoint }) =>
      endpoint.status === 'active' &&
      published.some(({ event }) => subscribesTo(endpoint, event.eventType)),
  );
  const at = services.clock.now().toISOString();
  for (const endpoint of endpoints) {
    if (!(await markDue(services, endpoint, last.sequence, at, told))) {
      // Other writers changed its cursor under each of three tries: the publication is left
      // unfinished (its reservation stays, its events stay in the partition), so that the next
      // run tells this endpoint again, rather than its events waiting for a later one.
      throw new Error(
        `the cursor of webhook ${endpoint.value.webhookId} changed under each of 3 tries to mark it due`,
      );
    }
  }
}

/**
 * Marks one endpoint's cursor due unless it is due already or has the events: false when other
 * writers changed the cursor between each of three reads and the write that followed.
 */
async function markDue(
  services: Services,
  endpoint: Versioned<WebhookEndpoint>,
  through: number,
  at: string,
  told?: Map<string, Versioned<WebhookEndpoint>>,
): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const found = await services.events.cursor(endpoint.value.webhookId);
    if (found && (found.value.dueAt !== undefined || found.value.through >= through)) return true;
    const cursor: WebhookCursor = {
      ...(found?.value ?? newCursor(endpoint.value)),
      dueAt: at,
      behindSince: at,
    };
    if (await services.events.advance(cursor, found?.etag ?? null, [])) {
      told?.set(endpoint.value.webhookId, endpoint);
      return true;
    }
  }
  return false;
}

/** An endpoint's cursor before its first event: at the feed number it receives events after. */
export function newCursor(endpoint: WebhookEndpoint): WebhookCursor {
  return {
    type: 'webhook-cursor',
    id: webhookCursorId,
    stream: webhookStream(endpoint.webhookId),
    partnerId: endpoint.partnerId,
    webhookId: endpoint.webhookId,
    through: endpoint.deliverFrom ?? 0,
  };
}

/** The last feed number a partition has given (its events up to it are published or being so). */
export async function feedHead(services: Services, partnerId: string): Promise<number> {
  const sequence = await services.partners.getDocument<EventSequence>(partnerId, eventSequenceId);
  return (sequence?.value.next ?? 1) - 1;
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
