import type { EventsWritten, Invocation } from './invocation';

export type { EventsWritten } from './invocation';

/**
 * Which partitions an invocation wrote events to, so that they can be published and delivered
 * right after it answers (EVENTS_PROMPT_DELIVERY) instead of at the deliverEvents timer's next
 * run. Kept on the invocation the repositories are bound to (app/invocation.ts).
 */
function writtenBy(invocation: Invocation): EventsWritten {
  return (invocation.eventsWritten ??= {
    partners: new Set(),
    customers: new Set(),
    webhooks: new Set(),
  });
}

/** Called by the partner repository when a batch it committed created an event. */
export function noteEventsWritten(invocation: Invocation | null, partnerId: string): void {
  if (invocation) writtenBy(invocation).partners.add(partnerId);
}

/** Called by the customer repository when a batch it committed created an event to relay. */
export function noteEventsToRelay(invocation: Invocation | null, customerId: string): void {
  if (invocation) writtenBy(invocation).customers.add(customerId);
}

/** Called by the event repository when it wrote a delivery to send (a test, a redelivery). */
export function noteDeliveriesWritten(invocation: Invocation | null, webhookId: string): void {
  if (invocation) writtenBy(invocation).webhooks.add(webhookId);
}
