import { InvocationContext } from '@azure/functions';
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
 *
 * It logs nothing. Its invocation has finished: the Functions host drops every line logged for
 * it and logs a warning in its place (shared/local/host.ts, lateLogWarning). What it does is kept
 * where the timer sees it: each delivery's attempts and outcome in the delivery itself, and what
 * it leaves undone is the deliverEvents timer's, whose runs are logged and alerted on.
 */
const runs = new WeakMap<Services, { owed: EventsWritten | null }>();

/**
 * Prompt runs start at most once a second in a process: under a bulk import the events of the
 * requests of that second are published together, so a busy partner's partition pays for one
 * publication round (its sequence, its endpoints) per second, not one per request
 * (docs/capacity.md, the largest tenant).
 */
const runIntervalMs = 1000;
const lastStarted = new WeakMap<Services, number>();

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
  const silent = new InvocationContext({
    functionName: context.functionName,
    invocationId: context.invocationId,
    logHandler: () => undefined,
  });
  void (async () => {
    try {
      while (run.owed) {
        const wait = (lastStarted.get(services) ?? -Infinity) + runIntervalMs - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        const next = run.owed;
        run.owed = null;
        lastStarted.set(services, performance.now());
        await measured(silent, services, services.config.cosmos.deadlineMs.timer, (run) =>
          deliverWritten(run, loggerFor(silent), next),
        );
      }
    } catch {
      // Left to the deliverEvents timer, which retries and logs.
    } finally {
      runs.delete(services);
    }
  })();
}
