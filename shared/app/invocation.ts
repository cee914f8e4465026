import { CallDeadline } from './call-deadline';

/** Who and what an invocation's log lines name (ids only, never personal data). */
export interface InvocationLabels {
  functionName: string;
  invocationId: string;
  /** The caller's `traceparent` trace id or `MS-CorrelationId`, when it sent one. */
  correlationId: string | null;
}

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

/**
 * What one invocation (an HTTP request or a timer run) allows its calls to Cosmos DB, and what
 * they cost it. On Azure the SDK's own retry loops (endpoint discovery, timeout failover) can
 * last minutes; the deadline bounds each call so a caller gets a fast 503 instead.
 *
 * It is handed down explicitly (Services.forInvocation binds the repositories to it), not found
 * through AsyncLocalStorage, which turns on Node's promise hooks for every promise of the process.
 */
export interface Invocation {
  /** How long each Cosmos call may take, retries included, before it is abandoned. */
  readonly deadline: CallDeadline;
  /** The request units (x-ms-request-charge) the invocation's calls have used so far. */
  requestCharge: number;
  /** Cosmos calls that stayed throttled (429) after the SDK's own retries. */
  cosmosThrottled: number;
  /** The caller's tenant, once its token is verified. */
  tenantId: string | null;
  readonly labels: InvocationLabels | null;
  /** The partitions its batches wrote events to; null while none. */
  eventsWritten: EventsWritten | null;
}

/** Outside an invocation (scripts, tests calling adapters directly) a call gets this deadline. */
export const defaultDeadlineMs = 8_000;

/** A new invocation's record; `endInvocation` when its work is done. */
export function newInvocation(
  deadlineMs: number,
  labels: InvocationLabels | null = null,
): Invocation {
  return {
    deadline: new CallDeadline(deadlineMs),
    requestCharge: 0,
    cosmosThrottled: 0,
    tenantId: null,
    labels,
    eventsWritten: null,
  };
}

/** Its deadline's timer stops. */
export function endInvocation(invocation: Invocation): void {
  invocation.deadline.end();
}

/** Runs `work` as one invocation; answers its result and the request units it used. */
export async function withinInvocation<T>(
  deadlineMs: number,
  work: (invocation: Invocation) => Promise<T>,
): Promise<{ result: T; requestCharge: number }> {
  const invocation = newInvocation(deadlineMs);
  try {
    const result = await work(invocation);
    return { result, requestCharge: invocation.requestCharge };
  } finally {
    endInvocation(invocation);
  }
}

/** Adds a response's request charge to the invocation's total. */
export function addRequestCharge(invocation: Invocation | null, charge: number | undefined): void {
  if (invocation && typeof charge === 'number' && Number.isFinite(charge)) {
    invocation.requestCharge += charge;
  }
}
