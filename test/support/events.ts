import type { EventDocument, EventType, RelayedEventDocument } from '../../shared/domain/events';
import type { TestApp } from './app';

/** The events stored in a partner's partition (published or not), of one type when given. */
export async function storedEvents(
  app: TestApp,
  partnerId: string,
  type?: EventType,
): Promise<EventDocument[]> {
  const events = await app.documents<EventDocument>(partnerId, 'event');
  return events.filter((event) => type === undefined || event.eventType === type);
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
