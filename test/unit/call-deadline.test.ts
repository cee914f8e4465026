import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CallDeadline, idleControllersKept } from '../../shared/app/call-deadline';
import {
  endInvocation,
  newInvocation,
  withinInvocation,
  type Invocation,
} from '../../shared/app/invocation';

const overdue = (): Error => new Error('no answer in time');
const never = (): Promise<never> => new Promise<never>(() => undefined);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("an invocation's call deadline", () => {
  it('answers a call still running at its deadline with the overdue error, and aborts it', async () => {
    const deadline = new CallDeadline(100);
    let signal: AbortSignal | undefined;
    const answer = deadline.run((given) => {
      signal = given;
      return never();
    }, overdue);
    const settled = vi.fn();
    answer.then(settled, settled);
    await vi.advanceTimersByTimeAsync(99);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(answer).rejects.toThrow('no answer in time');
    expect(signal?.aborted).toBe(true);
  });

  it('keeps one timer for all the calls of an invocation, however many', async () => {
    const deadline = new CallDeadline(1_000);
    for (let call = 0; call < 50; call += 1) {
      await deadline.run(async () => call, overdue);
    }
    const running = Array.from({ length: 20 }, () => deadline.run(never, overdue));
    running.forEach((answer) => answer.catch(() => undefined));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await Promise.all(running.map((answer) => expect(answer).rejects.toThrow(/in time/)));
  });

  it('gives each call its own deadline: a call started later is not cut short by an older one', async () => {
    const deadline = new CallDeadline(100);
    const older = deadline.run(never, overdue);
    older.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(60);
    let laterSignal: AbortSignal | undefined;
    const later = deadline.run((signal) => {
      laterSignal = signal;
      return new Promise<string>((resolve) => setTimeout(() => resolve('answered'), 60));
    }, overdue);
    await vi.advanceTimersByTimeAsync(40); // the older call's deadline
    await expect(older).rejects.toThrow('no answer in time');
    expect(laterSignal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    await expect(later).resolves.toBe('answered');
    // No call is within its deadline any more: the older call's request is stopped.
    await vi.advanceTimersByTimeAsync(40);
    expect(laterSignal?.aborted).toBe(true);
  });

  it('leaves no timer behind when the invocation ends', async () => {
    const deadline = new CallDeadline(100);
    await deadline.run(async () => 'read', overdue);
    expect(vi.getTimerCount()).toBe(1);
    deadline.end();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops the requests answered overdue when the invocation ends', async () => {
    const deadline = new CallDeadline(100);
    let stalled: AbortSignal | undefined;
    const first = deadline.run((signal) => {
      stalled = signal;
      return never();
    }, overdue);
    first.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(50);
    const second = deadline.run(
      () => new Promise<number>((resolve) => setTimeout(() => resolve(2), 70)),
      overdue,
    );
    await vi.advanceTimersByTimeAsync(50);
    await expect(first).rejects.toThrow('no answer in time');
    expect(stalled?.aborted).toBe(false); // the second call still runs on the same signal
    await vi.advanceTimersByTimeAsync(20);
    await expect(second).resolves.toBe(2);
    expect(stalled?.aborted).toBe(false);
    deadline.end();
    expect(stalled?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('aborts no call made after the invocation ended, once it stopped those answered overdue', async () => {
    const deadline = new CallDeadline(100);
    const stalled = deadline.run(never, overdue);
    stalled.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(50);
    const inTime = deadline.run(
      () => new Promise<number>((resolve) => setTimeout(() => resolve(2), 70)),
      overdue,
    );
    await vi.advanceTimersByTimeAsync(70);
    await expect(stalled).rejects.toThrow('no answer in time');
    await expect(inTime).resolves.toBe(2);
    deadline.end();
    // A call the invocation left behind starts after the end and is answered in time.
    let late: AbortSignal | undefined;
    await deadline.run(async (given) => {
      late = given;
    }, overdue);
    await vi.advanceTimersByTimeAsync(100); // its timer finds no call in flight
    expect(late?.aborted).toBe(false);
  });

  it('hands the signal of an ended invocation to the next one, never one it aborted', async () => {
    const signals: AbortSignal[] = [];
    const record = async (signal: AbortSignal): Promise<void> => {
      signals.push(signal);
    };
    const first = new CallDeadline(100);
    await first.run(record, overdue);
    first.end();
    const second = new CallDeadline(100);
    await second.run(record, overdue);
    expect(signals[1]).toBe(signals[0]);
    const stalled = second.run(never, overdue);
    stalled.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(100);
    second.end();
    expect(signals[0]?.aborted).toBe(true);
    const third = new CallDeadline(100);
    await third.run(record, overdue);
    expect(signals[2]).not.toBe(signals[0]);
    expect(signals[2]?.aborted).toBe(false);
  });

  it('keeps the deadline of a call still running when the invocation ends without waiting for it', async () => {
    const deadline = new CallDeadline(100);
    const left = deadline.run(never, overdue);
    const settled = vi.fn();
    left.then(settled, settled);
    await vi.advanceTimersByTimeAsync(50);
    deadline.end();
    await vi.advanceTimersByTimeAsync(49);
    expect(settled).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(settled).toHaveBeenCalledTimes(1);
    await expect(left).rejects.toThrow('no answer in time');
  });

  it('aborts nothing when its timer finds every call answered in time', async () => {
    const deadline = new CallDeadline(100);
    let signal: AbortSignal | undefined;
    await deadline.run(async (given) => {
      signal = given;
      return 'read';
    }, overdue);
    await vi.advanceTimersByTimeAsync(100); // the timer fires with no call in flight
    expect(signal?.aborted).toBe(false);
    deadline.end();
    const next = new CallDeadline(100);
    let nextSignal: AbortSignal | undefined;
    await next.run(async (given) => {
      nextSignal = given;
    }, overdue);
    expect(nextSignal).toBe(signal); // still fit to serve the next invocation
    next.end();
  });

  it('lets a call made after an overdue answer run to the end of the invocation, then hands its signal on', async () => {
    const deadline = new CallDeadline(100);
    const stalled = deadline.run(never, overdue);
    stalled.catch(() => undefined);
    await vi.advanceTimersByTimeAsync(100);
    await expect(stalled).rejects.toThrow('no answer in time');
    let later: AbortSignal | undefined;
    await deadline.run(async (given) => {
      later = given;
    }, overdue);
    deadline.end();
    expect(later?.aborted).toBe(false);
    const next = new CallDeadline(100);
    let nextSignal: AbortSignal | undefined;
    await next.run(async (given) => {
      nextSignal = given;
    }, overdue);
    expect(nextSignal).toBe(later);
    next.end();
  });

  // Node >= 22.12 sets no limit on an AbortSignal's listeners: this holds even without the
  // setMaxListeners of CallDeadline.run, which stays for a runtime that would warn.
  it('warns of no listener leak when many calls of one invocation share its signal', async () => {
    const warnings: Error[] = [];
    const warned = (warning: Error) => warnings.push(warning);
    process.on('warning', warned);
    try {
      const deadline = new CallDeadline(100);
      const calls = Array.from({ length: 30 }, () =>
        deadline.run(async (signal) => {
          const listener = () => undefined;
          signal.addEventListener('abort', listener); // as the SDK does per request
          await Promise.resolve();
          signal.removeEventListener('abort', listener);
        }, overdue),
      );
      await Promise.all(calls);
      deadline.end();
      await new Promise((resolve) => process.nextTick(resolve));
      expect(warnings.map((warning) => warning.name)).toEqual([]);
    } finally {
      process.off('warning', warned);
    }
  });

  it('keeps at most idleControllersKept idle signals for the next invocations', async () => {
    const signalsOf = async (count: number) => {
      const deadlines = Array.from({ length: count }, () => new CallDeadline(100));
      const signals = await Promise.all(
        deadlines.map((deadline) => deadline.run(async (signal) => signal, overdue)),
      );
      for (const deadline of deadlines) deadline.end();
      return signals;
    };
    const many = idleControllersKept * 3;
    const first = await signalsOf(many); // takes every idle signal, then ends: the pool is full
    const second = await signalsOf(many);
    expect(second.filter((signal) => first.includes(signal))).toHaveLength(idleControllersKept);
  });
});

/**
 * An invocation's work: one call that stalls (answered overdue, its request still retrying) and
 * a later one still within its deadline then, which keeps the shared signal alive until it ends.
 */
async function stallThenAnswer(invocation: Invocation): Promise<AbortSignal> {
  let stalled: AbortSignal | undefined;
  const first = invocation.deadline.run((signal) => {
    stalled = signal;
    return never();
  }, overdue);
  first.catch(() => undefined);
  await vi.advanceTimersByTimeAsync(50);
  const second = invocation.deadline.run(
    () => new Promise<number>((resolve) => setTimeout(() => resolve(2), 70)),
    overdue,
  );
  await vi.advanceTimersByTimeAsync(70);
  await expect(first).rejects.toThrow('no answer in time');
  await expect(second).resolves.toBe(2);
  expect(stalled?.aborted).toBe(false);
  return stalled!;
}

describe('an invocation ending', () => {
  it('stops the requests its calls left overdue, and its timer, when it is ended', async () => {
    const invocation = newInvocation(100);
    const stalled = await stallThenAnswer(invocation);
    endInvocation(invocation);
    expect(stalled.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('is ended by withinInvocation when the work answers and when it fails', async () => {
    let stalled: AbortSignal | undefined;
    const answered = await withinInvocation(100, async (invocation) => {
      stalled = await stallThenAnswer(invocation);
      return 'done';
    });
    expect(answered.result).toBe('done');
    expect(stalled?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);

    const failed = withinInvocation(100, async (invocation) => {
      stalled = await stallThenAnswer(invocation);
      throw new Error('the work failed');
    });
    await expect(failed).rejects.toThrow('the work failed');
    expect(stalled?.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
