import type { InvocationContext } from '@azure/functions';
import { deliverWritten } from '../app/deliver-events';
import type { EventsWritten } from '../app/event-scope';
import type { Services } from '../app/services';
import { measured } from './invocation-log';
import { loggerFor } from './logger';

/**
 * After a request that wrote events has answered, the events of the partitions it wrote are
 * published and delivered in this process (single-partition queries only), so subscribers hear
 * of the change in seconds rather than at the timer's next minute. At most one runs at a time;
 * partitions written meanwhile are owed to the next. It is a head start, never the
 * guarantee: a host may stop the process once the answer is sent, and the timer (claims with
 * etags) delivers whatever this did not.
 */
const runs = new WeakMap<Services, { owed: EventsWritten | null }>();

function merge(into: EventsWritten | null, more: EventsWritten): EventsWritten {
  if (!into) {
    return {
      partners: new Set(more.partners),
      customers: new Set(more.customers),
      webhooks: new Set(more.webhooks),
    };
  }
  for (const partnerId of more.partners) into.partners.add(partnerId);
  for (const customerId of more.customers) into.customers.add(customerId);
  for (const webhookId of more.webhooks) into.webhooks.add(webhookId);
  return into;
}

export function deliverPromptly(
  services: Services,
  context: InvocationContext,
  written: EventsWritten,
): void {
  const current = runs.get(services);
  if (current) {
    current.owed = merge(current.owed, written);
    return;
  }
  const run: { owed: EventsWritten | null } = { owed: merge(null, written) };
  runs.set(services, run);
  void (async () => {
    try {
      while (run.owed) {
        const next = run.owed;
        run.owed = null;
        await measured(context, services.config.cosmos.deadlineMs.timer, () =>
          deliverWritten(services, loggerFor(context), next),
        );
      }
    } catch (error) {
      context.warn(
        `prompt event delivery failed; the deliverEvents timer will deliver: ${(error as Error).message}`,
      );
    } finally {
      runs.delete(services);
    }
  })();
}
