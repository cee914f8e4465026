import type { InvocationContext } from '@azure/functions';
import { deliverEvents } from '../app/deliver-events';
import type { Services } from '../app/services';
import { measured } from './invocation-log';
import { loggerFor } from './logger';

/**
 * After a request that wrote events has answered, one run of deliverEvents in this process, so
 * subscribers hear of the change in seconds rather than at the timer's next minute. At most one
 * runs at a time, and one more is owed when writes come meanwhile. It is a head start, never the
 * guarantee: a host may stop the process once the answer is sent, and the timer (claims with
 * etags) delivers whatever this did not.
 */
const runs = new WeakMap<Services, { owed: boolean }>();

export function deliverPromptly(services: Services, context: InvocationContext): void {
  const current = runs.get(services);
  if (current) {
    current.owed = true;
    return;
  }
  const run = { owed: false };
  runs.set(services, run);
  void (async () => {
    try {
      do {
        run.owed = false;
        await measured(context, services.config.cosmos.deadlineMs.timer, () =>
          deliverEvents(services, loggerFor(context)),
        );
      } while (run.owed);
    } catch (error) {
      context.warn(
        `prompt event delivery failed; the deliverEvents timer will deliver: ${(error as Error).message}`,
      );
    } finally {
      runs.delete(services);
    }
  })();
}
