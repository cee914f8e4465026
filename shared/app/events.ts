import {
  eventFor,
  relayedEventFor,
  type EventData,
  type EventDocument,
  type EventType,
  type RelayedEventDocument,
} from '../domain/events';
import type { Services } from './services';

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
