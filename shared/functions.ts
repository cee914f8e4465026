import type { InvocationContext, Timer } from '@azure/functions';
import type { Services } from './app/services';
import type { HttpFunctionDefinition } from './http/define';
import type { UnmatchedRouteDefinition } from './http/unmatched';
import { measured } from './adapters/invocation-log';
import { loggerFor } from './adapters/logger';
import { recordTimerRun } from './app/heartbeat';
import { schedulePeriodSeconds, type TimerSummary } from './domain/operations';
import { redactSecrets } from './redact';

/** A timer's work; what it returns is its run's summary on the status page (counts, no data). */
export type TimerHandler = (
  timer: Timer,
  context: InvocationContext,
  services: Services,
) => Promise<TimerSummary | void>;

/** A row of the function table for a timer trigger. */
export interface TimerFunctionDefinition {
  kind: 'timer';
  name: string;
  /** NCRONTAB, six fields with seconds first, as the Functions host reads it. */
  schedule: string;
  /** The schedule's period: a timer is stale after three without a success. */
  periodSeconds: number;
  description: string;
  handler: (timer: Timer, context: InvocationContext, services: Services) => Promise<void>;
}

export type FunctionDefinition =
  HttpFunctionDefinition | UnmatchedRouteDefinition | TimerFunctionDefinition;

/**
 * Declares a timer: each run gets its Cosmos deadline, its `invocation` log line and its
 * heartbeat (start, end, outcome, summary), whether it succeeds or throws.
 */
export function defineTimer(
  definition: Omit<TimerFunctionDefinition, 'kind' | 'periodSeconds' | 'handler'> & {
    handler: TimerHandler;
  },
): TimerFunctionDefinition {
  const periodSeconds = schedulePeriodSeconds(definition.schedule);
  return {
    kind: 'timer',
    ...definition,
    periodSeconds,
    async handler(timer, context, services) {
      try {
        await measured(context, services, services.config.cosmos.deadlineMs.timer, async (run) => {
          const startedAt = run.clock.now();
          let summary: TimerSummary | null = null;
          let failure: unknown;
          try {
            summary = (await definition.handler(timer, context, run)) ?? null;
          } catch (error) {
            failure = error ?? new Error('the timer failed');
          }
          await recordTimerRun(run, loggerFor(context), {
            name: definition.name,
            periodSeconds,
            startedAt,
            endedAt: run.clock.now(),
            outcome: failure === undefined ? 'succeeded' : 'failed',
            summary,
            error: failure === undefined ? null : redactSecrets(messageOf(failure)),
          });
          if (failure !== undefined) throw failure;
        });
      } catch (error) {
        // The Functions host logs a failed timer's error as it is: only its redacted text leaves,
        // and no cause, which would carry the text unredacted.
        // eslint-disable-next-line preserve-caught-error
        throw new Error(redactSecrets(messageOf(error)));
      }
    },
  };
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
