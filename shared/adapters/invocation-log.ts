import type { InvocationContext } from '@azure/functions';
import { endInvocation, newInvocation, type Invocation } from '../app/invocation';
import type { Services } from '../app/services';

/**
 * The line each invocation ends with, the same locally and in Application Insights (where it
 * is a trace: `traces | where message startswith "invocation {"`): ids, never personal data.
 * The alert rules in infra/ read these fields (docs/operations.md, Alerts).
 */
export interface InvocationEvent {
  functionName: string;
  invocationId: string;
  /** The caller's `traceparent` trace id or `MS-CorrelationId`; null when it sent neither. */
  correlationId: string | null;
  /** The caller's tenant (token `tid`), null for anonymous calls and timers. */
  tenantId: string | null;
  durationMs: number;
  /** The request units its Cosmos calls used. */
  requestCharge: number;
  /** Cosmos calls that stayed throttled (429) after the SDK's own retries. */
  cosmosThrottled: number;
  /** HTTP: the answer's status; timers: null. */
  status: number | null;
  outcome: 'succeeded' | 'failed';
}

export interface MeasureOptions<T> {
  correlationId?: string | null;
  /** The HTTP status of an HTTP function's answer. */
  statusOf?: (result: T) => number;
}

const traceparent = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/i;
const correlationToken = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The correlation id a caller sent: the trace id of a W3C `traceparent`, else an
 * `MS-CorrelationId` (Partner Center's header). Anything else is ignored, so that no caller
 * can write what it likes into the logs.
 */
export function correlationIdOf(headers: { get(name: string): string | null }): string | null {
  const trace = traceparent.exec(headers.get('traceparent')?.trim() ?? '');
  if (trace) return trace[1]!.toLowerCase();
  const correlation = headers.get('ms-correlationid')?.trim() ?? '';
  return correlationToken.test(correlation) ? correlation : null;
}

const rounded = (value: number): number => Math.round(value * 100) / 100;

/** The invocation running under each context the host handed over (its log lines name it). */
const running = new WeakMap<InvocationContext, Invocation>();

/** The invocation of a context, while it runs under `measured`. */
export function invocationOf(context: InvocationContext): Invocation | undefined {
  return running.get(context);
}

/**
 * Runs one invocation with its Cosmos deadline and logs how it went in one `invocation {...}`
 * line (InvocationEvent), built once: with the request units its Cosmos calls used (the sum of
 * their x-ms-request-charge, so RU budgets can be checked on a real account). The work gets the
 * services bound to the invocation (Services.forInvocation).
 */
export async function measured<T>(
  context: InvocationContext,
  services: Services,
  deadlineMs: number,
  work: (services: Services, invocation: Invocation) => Promise<T>,
  options: MeasureOptions<T> = {},
): Promise<T> {
  const invocation = newInvocation(deadlineMs, {
    functionName: context.functionName,
    invocationId: context.invocationId,
    correlationId: options.correlationId ?? null,
  });
  const started = performance.now();
  const end = (outcome: InvocationEvent['outcome'], status: number | null): void => {
    running.delete(context);
    endInvocation(invocation);
    logInvocation(context, invocation, performance.now() - started, outcome, status);
  };
  running.set(context, invocation);
  let result: T;
  try {
    result = await work(services.forInvocation(invocation), invocation);
  } catch (error) {
    end('failed', null);
    throw error;
  }
  const status = options.statusOf ? options.statusOf(result) : null;
  end(status !== null && status >= 500 ? 'failed' : 'succeeded', status);
  return result;
}

function logInvocation(
  context: InvocationContext,
  invocation: Invocation,
  durationMs: number,
  outcome: InvocationEvent['outcome'],
  status: number | null,
): void {
  const event: InvocationEvent = {
    functionName: context.functionName,
    invocationId: context.invocationId,
    correlationId: invocation.labels?.correlationId ?? null,
    tenantId: invocation.tenantId,
    durationMs: Math.round(durationMs),
    requestCharge: rounded(invocation.requestCharge),
    cosmosThrottled: invocation.cosmosThrottled,
    status,
    outcome,
  };
  context.log(`invocation ${JSON.stringify(event)}`);
}
