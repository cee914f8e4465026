import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import {
  feedStream,
  type EventDocument,
  type EventType,
  type RelayedEventDocument,
} from '../../shared/domain/events';
import { webhookCursorId, webhookStream, type WebhookCursor } from '../../shared/domain/webhooks';
import type { TestApp } from './app';

/**
 * The events of a partner, of one type when given: those waiting in its partition, and those
 * published to its feed (the events container's `feed:<partnerId>` partition).
 */
export async function storedEvents(
  app: TestApp,
  partnerId: string,
  type?: EventType,
): Promise<EventDocument[]> {
  const waiting = await app.documents<EventDocument>(partnerId, 'event');
  const published = await app.query<EventDocument>(
    'events',
    `SELECT * FROM c WHERE c.stream = 'feed:${partnerId}' AND c.type = 'event'`,
  );
  const feedIds = new Set(published.map((event) => event.id));
  return [...published, ...waiting.filter((event) => !feedIds.has(event.id))].filter(
    (event) => type === undefined || event.eventType === type,
  );
}

/** The relayed events waiting in a customer's partition, of one type when given. */
export async function relayedEvents(
  app: TestApp,
  customerId: string,
  type?: EventType,
): Promise<RelayedEventDocument[]> {
  const events = await app.query<RelayedEventDocument>(
    'customers',
    `SELECT * FROM c WHERE c.customerId = '${customerId}' AND c.type = 'event'`,
  );
  return events.filter((event) => type === undefined || event.eventType === type);
}

/** Each partner's event types, sorted: what a refused or repeated change must leave as it was. */
export async function eventTypesOf(
  app: TestApp,
  partnerIds: readonly string[],
): Promise<Record<string, string[]>> {
  const entries = await Promise.all(
    partnerIds.map(
      async (partnerId) =>
        [
          partnerId,
          (await storedEvents(app, partnerId)).map((event) => event.eventType).sort(),
        ] as const,
    ),
  );
  return Object.fromEntries(entries);
}

/** The partition's events in feed order: by number once published, else by due date. */
export function inFeedOrder(events: readonly EventDocument[]): EventDocument[] {
  const key = (event: EventDocument): string =>
    event.sequence !== undefined
      ? String(event.sequence).padStart(12, '0')
      : `~${event.publishDueAt ?? event.occurredAt}`;
  return [...events].sort((a, b) => key(a).localeCompare(key(b)));
}

/** What the feed's 30-day ttl does: these published events of the partner are gone. */
export async function expireFromFeed(
  app: TestApp,
  partnerId: string,
  eventIds: readonly string[],
): Promise<void> {
  const client = await createCosmosClient(app.config.cosmos);
  try {
    const feed = client.database(app.config.cosmos.database).container('events');
    for (const id of eventIds) await feed.item(id, feedStream(partnerId)).delete();
  } finally {
    client.dispose();
  }
}

/**
 * An endpoint's cursor rewritten by hand, `change` applied to it (a state the app does not write
 * itself, to show what a count makes of it).
 */
export async function rewriteCursor(
  app: TestApp,
  webhookId: string,
  change: Partial<WebhookCursor>,
): Promise<void> {
  const client = await createCosmosClient(app.config.cosmos);
  try {
    const events = client.database(app.config.cosmos.database).container('events');
    const { resource } = await events.item(webhookCursorId, webhookStream(webhookId)).read();
    if (!resource) throw new Error(`no cursor for endpoint ${webhookId}`);
    await events.items.upsert({ ...resource, ...change });
  } finally {
    client.dispose();
  }
}
