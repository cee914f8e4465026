import type { EventsWritten, Invocation } from './invocation';

export type { EventsWritten } from './invocation';

function writtenBy(invocation: Invocation): EventsWritten {
  return (invocation.eventsWritten ??= { partners: new Set(), customers: new Set() });
}

/** Called by the partner repository when a batch it committed created an event. */
export function noteEventsWritten(invocation: Invocation | null, partnerId: string): void {
  if (invocation) writtenBy(invocation).partners.add(partnerId);
}

/** Called by the customer repository when a batch it committed created an event to relay. */
export function noteEventsToRelay(invocation: Invocation | null, customerId: string): void {
  if (invocation) writtenBy(invocation).customers.add(customerId);
}
