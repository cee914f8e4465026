import { AsyncLocalStorage } from 'node:async_hooks';

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
}

const storage = new AsyncLocalStorage<Invocation>();

/** Outside an invocation (scripts, tests calling adapters directly) a call gets this deadline. */
export const defaultDeadlineMs = 8_000;

/** Runs `work` as one invocation; answers its result and the request units it used. */
export async function withinInvocation<T>(
  deadlineMs: number,
  work: () => Promise<T>,
): Promise<{ result: T; requestCharge: number }> {
  const invocation: Invocation = { deadlineMs, requestCharge: 0 };
  const result = await storage.run(invocation, work);
  return { result, requestCharge: invocation.requestCharge };
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
