import type { InvocationContext, Timer } from '@azure/functions';
import type { Services } from './app/services';
import type { HttpFunctionDefinition } from './http/define';
import { measured } from './adapters/invocation-log';
import { redactSecrets } from './redact';

export type TimerHandler = (
  timer: Timer,
  context: InvocationContext,
  services: Services,
) => Promise<void>;

/** A row of the function table for a timer trigger. */
export interface TimerFunctionDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB, six fields with seconds first, as the Functions host reads it. */
  schedule: string;
  description: string;
  handler: TimerHandler;
}

export type FunctionDefinition = HttpFunctionDefinition | TimerFunctionDefinition;

export function defineTimer(
  definition: Omit<TimerFunctionDefinition, 'kind'>,
): TimerFunctionDefinition {
  return {
    kind: 'timer',
    ...definition,
    async handler(timer, context, services) {
      try {
        await measured(context, services.config.cosmos.deadlineMs.timer, () =>
          definition.handler(timer, context, services),
        );
      } catch (error) {
        // The Functions host logs a failed timer's error as it is: only its redacted text leaves,
        // and no cause, which would carry the text unredacted.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(redactSecrets(error instanceof Error ? error.message : String(error)));
      }
    },
  };
}
