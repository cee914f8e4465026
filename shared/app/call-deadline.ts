import { setMaxListeners } from 'node:events';

interface CallInFlight {
  startedAt: number;
  answer(error: Error): void;
  overdue(): Error;
}

/**
 * How long each of an invocation's calls to a dependency may take, kept with one timer and one
 * abort signal for the whole invocation rather than one of each per call (they were a visible
 * share of a request's CPU). A call past its deadline is answered at once with its `overdue`
 * error, even while the SDK waits between two retries; the SDK's own retries stop (the signal
 * fires) as soon as no call of the invocation is still within its deadline, or when the
 * invocation ends.
 */
export class CallDeadline {
  private controller: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Calls not answered yet, oldest first (a Set keeps the order they started in). */
  private readonly inFlight = new Set<CallInFlight>();
  /** A call was answered overdue while its request may still run: abort it at the end. */
  private abandoned = false;

  constructor(readonly deadlineMs: number) {}

  run<T>(call: (signal: AbortSignal) => Promise<T>, overdue: () => Error): Promise<T> {
    const controller = (this.controller ??= idleControllers.pop() ?? new AbortController());
    return new Promise<T>((resolve, reject) => {
      const entry: CallInFlight = { startedAt: performance.now(), answer: reject, overdue };
      this.inFlight.add(entry);
      // Many calls of one timer run may share the signal at once: that is no listener leak.
      // Stryker disable next-line ConditionalExpression,EqualityOperator: Node >= 22.12 sets no listener limit on an AbortSignal (getMaxListeners is 0), so no warning can tell
      if (this.inFlight.size === maxListenersWarnedAt) setMaxListeners(0, controller.signal);
      this.timer ??= setTimeout(this.check, this.deadlineMs).unref();
      const settled = (): boolean => this.inFlight.delete(entry);
      let pending: Promise<T>;
      try {
        pending = call(controller.signal);
      } catch (error) {
        settled();
        throw error;
      }
      pending.then(
        (value) => {
          settled();
          resolve(value);
        },
        (error: unknown) => {
          settled();
          reject(error as Error);
        },
      );
    });
  }

  /**
   * The invocation has ended: its timer goes, and so do requests still retrying behind calls
   * answered overdue. (A call still running, which the invocation did not wait for, keeps its
   * deadline: the timer stays until it is answered.)
   */
  end(): void {
    if (this.inFlight.size > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.abandoned) this.controller?.abort();
    else if (this.controller && idleControllers.length < idleControllersKept)
      idleControllers.push(this.controller);
    this.controller = null;
    this.abandoned = false;
  }

  /** Answers the calls past their deadline, then waits for the next one to be due. */
  private readonly check = (): void => {
    this.timer = null;
    const now = performance.now();
    for (const entry of this.inFlight) {
      const dueIn = entry.startedAt + this.deadlineMs - now;
      if (dueIn > 0) {
        this.timer = setTimeout(this.check, dueIn).unref();
        return;
      }
      this.inFlight.delete(entry);
      this.abandoned = true;
      entry.answer(entry.overdue());
    }
    // No call is within its deadline any more: the SDK stops retrying those answered overdue.
    if (this.abandoned) {
      this.controller?.abort();
      this.controller = null;
      this.abandoned = false;
    }
  };
}

/** Node warns of a possible leak past 10 listeners on one signal (events.defaultMaxListeners). */
const maxListenersWarnedAt = 10;

/**
 * Signals never aborted, whose calls have all ended (the SDK removes its listener when a request
 * ends), serve the next invocations: most invocations then create no AbortController at all.
 */
const idleControllers: AbortController[] = [];
export const idleControllersKept = 64;
