import { AsyncLocalStorage } from 'node:async_hooks';

/** Who and what an invocation's log lines name (ids only, never personal data). */
export interface InvocationLabels {
  functionName: string;
  invocationId: string;
  /** The caller's `traceparent` trace id or `MS-CorrelationId`, when it sent one. */
  correlationId: string | null;
}

/**
 * What one invocation (an HTTP request or a timer run) allows its calls to Cosmos DB, and what
 * they cost it. On Azure the SDK's own retry loops (endpoint discovery, timeout failover) can
 * last minutes; the deadline bounds each call so a caller gets a fast 503 instead.
 */
export interface Invocation {
  /** How long one Cosmos call may take, retries included, before it is abandoned. */
  readonly deadlineMs: number;
  /** The request units (x-ms-request-charge) the invocation's calls have used so far. */
  requestCharge: number;
  /** Cosmos calls that stayed throttled (429) after the SDK's own retries. */
  cosmosThrottled: number;
  /** The caller's tenant, once its token is verified. */
  tenantId: string | null;
  readonly labels: InvocationLabels | null;
}

const storage = new AsyncLocalStorage<Invocation>();

/** Outside an invocation (scripts, tests calling adapters directly) a call gets this deadline. */
export const defaultDeadlineMs = 8_000;

/** A new invocation's record, to run work in with `runInvocation`. */
export function newInvocation(
  deadlineMs: number,
  labels: InvocationLabels | null = null,
): Invocation {
  return { deadlineMs, requestCharge: 0, cosmosThrottled: 0, tenantId: null, labels };
}

/** Runs `work` within `invocation`: its Cosmos calls get its deadline and add to its totals. */
export function runInvocation<T>(invocation: Invocation, work: () => Promise<T>): Promise<T> {
  return storage.run(invocation, work);
}

/** Runs `work` as one invocation; answers its result and the request units it used. */
export async function withinInvocation<T>(
  deadlineMs: number,
  work: () => Promise<T>,
): Promise<{ result: T; requestCharge: number }> {
  const invocation = newInvocation(deadlineMs);
  const result = await runInvocation(invocation, work);
  return { result, requestCharge: invocation.requestCharge };
}

/** The current invocation, for its log lines (undefined outside one). */
export function currentInvocation(): Invocation | undefined {
  return storage.getStore();
}

/** The deadline of a call starting now, in the current invocation. */
export function callDeadlineMs(): number {
  return storage.getStore()?.deadlineMs ?? defaultDeadlineMs;
}

/** Adds a response's request charge to the current invocation's total. */
export function addRequestCharge(charge: number | undefined): void {
  const invocation = storage.getStore();
  if (invocation && typeof charge === 'number' && Number.isFinite(charge)) {
    invocation.requestCharge += charge;
  }
}

/** Counts a Cosmos call that stayed throttled (the throttling alert reads it). */
export function noteCosmosThrottled(): void {
  const invocation = storage.getStore();
  if (invocation) invocation.cosmosThrottled += 1;
}

/** Names the caller's tenant in the invocation's log lines. */
export function noteTenant(tenantId: string | null): void {
  const invocation = storage.getStore();
  if (invocation) invocation.tenantId = tenantId;
}
