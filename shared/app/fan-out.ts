import type { FeedEvent } from '../domain/events';
import {
  deliveryLeaseSeconds,
  subscribesTo,
  type EventDelivery,
  type WebhookCursor,
  type WebhookEndpoint,
} from '../domain/webhooks';
import { addSeconds } from './bounded';
import { newCursor, newDelivery } from './events';
import type { Versioned } from './ports';
import type { Services } from './services';

/**
 * Feed events taken per batch: the batch holds the endpoint's cursor and a delivery per event
 * (at most 100 operations), within 1.5 MB (an order's event grows with its line items).
 */
const eventsPerBatch = 50;
const maxBatchBytes = 1_500_000;

/** A delivery written already claimed by the run that writes it, which sends it at once. */
function claimedDelivery(endpoint: WebhookEndpoint, event: FeedEvent, now: Date): EventDelivery {
  return {
    ...newDelivery(endpoint, event, now),
    status: 'sending',
    attempts: 1,
    dueAt: addSeconds(now, deliveryLeaseSeconds),
    firstAttemptAt: now.toISOString(),
  };
}

/** As many of the events, in order, as fit in one batch beside their deliveries. */
function fitting(events: FeedEvent[]): FeedEvent[] {
  let bytes = 0;
  const fit: FeedEvent[] = [];
  for (const event of events) {
    bytes += 2 * Buffer.byteLength(JSON.stringify(event), 'utf8');
    if (bytes > maxBatchBytes && fit.length > 0) break;
    fit.push(event);
  }
  return fit;
}

const minuteOf = (now: Date): string => now.toISOString().slice(0, 16);

/** Deliveries prompt runs sent the endpoint this minute. */
const promptUsed = (cursor: WebhookCursor, now: Date): number =>
  cursor.prompt?.minute === minuteOf(now) ? cursor.prompt.count : 0;

function withoutDue(cursor: WebhookCursor): WebhookCursor {
  const { dueAt: _due, behindSince: _since, ...rest } = cursor;
  return rest;
}

/**
 * Takes up to `limit` of an endpoint's next events from its partner's feed: writes their
 * deliveries, already claimed by this run, and moves the endpoint's cursor past them, in one
 * batch guarded by the cursor's etag. Two hosts at once: one batch wins, the other takes nothing,
 * so each event gets one delivery. An endpoint still behind stays due, moved to the back of the
 * timer's queue (endpoints take turns); one caught up is due no more. `prompt`: a request's head
 * start, at most EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE a minute, the rest left to the
 * paced timer.
 * Returns the claimed deliveries, to be sent now.
 */
export async function takeFromFeed(
  services: Services,
  endpoint: WebhookEndpoint,
  limit: number,
  prompt: boolean,
): Promise<Versioned<EventDelivery>[]> {
  const taken: Versioned<EventDelivery>[] = [];
  const perMinute = services.config.webhooks.promptDeliveriesPerEndpointPerMinute;
  const promptAllowance = (cursor: WebhookCursor, now: Date): number =>
    Math.max(0, perMinute - promptUsed(cursor, now));
  let found = await services.events.cursor(endpoint.webhookId);
  // Until `limit` is taken: the allowance below is 0 then, and ends the loop.
  for (;;) {
    const now = services.clock.now();
    const cursor = found?.value ?? newCursor(endpoint);
    const allowance = Math.min(
      limit - taken.length,
      prompt ? promptAllowance(cursor, now) : Infinity,
    );
    if (allowance <= 0) break;
    const from = Math.max(cursor.through, endpoint.deliverFrom ?? 0);
    const events = await services.events.feed(
      endpoint.partnerId,
      from,
      Math.min(allowance, eventsPerBatch) + 1,
    );
    const batch = fitting(events.slice(0, Math.min(allowance, eventsPerBatch)));
    const behind = events[batch.length];
    // Nothing to take, and not due: nothing to write. (The cursor is there: a turn from the feed
    // found it due, or publication wrote it before telling the endpoint; none is deleted.)
    if (batch.length === 0 && cursor.dueAt === undefined) break;
    const deliveries = batch
      .filter((event) => subscribesTo(endpoint, event.eventType))
      .map((event) => claimedDelivery(endpoint, event, now));
    const through = batch.at(-1)?.sequence ?? from;
    const next: WebhookCursor = {
      ...withoutDue(cursor),
      through,
      ...(behind ? { dueAt: now.toISOString(), behindSince: behind.occurredAt } : {}),
      ...(prompt
        ? {
            prompt: { minute: minuteOf(now), count: promptUsed(cursor, now) + deliveries.length },
          }
        : {}),
    };
    const etags = await services.events.advance(next, found?.etag ?? null, deliveries);
    // Another host moved the cursor first: these events are its to send.
    if (!etags) break;
    taken.push(...deliveries.map((value, index) => ({ value, etag: etags[index + 1]! })));
    found = { value: next, etag: etags[0]! };
    if (behind) continue;
    // Caught up, and no longer due. A publication that wrote after the feed was read, and found
    // the cursor still due, told nobody: read the feed once more, and stay due if it did.
    const later = await services.events.feed(endpoint.partnerId, through, 1);
    if (later.length === 0) break;
    if (taken.length >= limit || (prompt && promptAllowance(next, now) <= 0)) {
      const due = { ...next, dueAt: now.toISOString(), behindSince: later[0]!.occurredAt };
      await services.events.advance(due, found.etag, []);
      break;
    }
  }
  return taken;
}

/** An endpoint disabled or deleted is due no more: nothing is taken from the feed for it. */
export async function quietCursor(services: Services, webhookId: string): Promise<void> {
  const found = await services.events.cursor(webhookId);
  if (found?.value.dueAt === undefined) return;
  await services.events.advance(withoutDue(found.value), found.etag, []);
}
