import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which partitions a request wrote events to, so that they can be published and delivered right
 * after it answers (EVENTS_PROMPT_DELIVERY) instead of at the deliverEvents timer's next run:
 * partners' partitions, customers' partitions holding events to relay, and endpoints given a
 * delivery to send (a test event, a redelivery).
 */
export interface EventsWritten {
  partners: Set<string>;
  customers: Set<string>;
  webhooks: Set<string>;
}

const storage = new AsyncLocalStorage<EventsWritten>();

export async function withEventScope<T>(
  work: () => Promise<T>,
): Promise<{ result: T; written: EventsWritten | null }> {
  const written: EventsWritten = { partners: new Set(), customers: new Set(), webhooks: new Set() };
  const result = await storage.run(written, work);
  return {
    result,
    written:
      written.partners.size + written.customers.size + written.webhooks.size > 0 ? written : null,
  };
}

/** Called by the partner repository when a batch it committed created an event. */
export function noteEventsWritten(partnerId: string): void {
  storage.getStore()?.partners.add(partnerId);
}

/** Called by the customer repository when a batch it committed created an event to relay. */
export function noteEventsToRelay(customerId: string): void {
  storage.getStore()?.customers.add(customerId);
}

/** Called by the event repository when it wrote a delivery to send (a test, a redelivery). */
export function noteDeliveriesWritten(webhookId: string): void {
  storage.getStore()?.webhooks.add(webhookId);
}
