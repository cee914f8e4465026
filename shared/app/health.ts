import type { Clock } from './ports';

/**
 * How long GET /api/health trusts its last look at a dependency. The route is anonymous: a
 * flood of calls must not become a flood of Cosmos metadata requests (rate-limited apart from
 * data requests). A failure is trusted for less time than a success, so that a recovery shows
 * soon; either way, a change shows within one success period.
 */
export const healthCheckSeconds = { ok: 30, failed: 5 } as const;

/**
 * Wraps a dependency check so that it runs at most once per period, timed by the injected
 * clock: calls within the period get the last answer, and calls while a check runs share it.
 */
export function cachedCheck(check: () => Promise<boolean>, clock: Clock): () => Promise<boolean> {
  const read = cachedRead(async () => ((await check()) ? true : null), clock);
  return async () => (await read()) === true;
}

/**
 * The same for a read: its value is reused for the success period, a failure (null) for the
 * failure period.
 */
export function cachedRead<T>(
  read: () => Promise<T | null>,
  clock: Clock,
): () => Promise<T | null> {
  let last: { value: T | null; until: number } | undefined;
  let running: Promise<T | null> | undefined;
  return () => {
    if (last && clock.now().getTime() < last.until) return Promise.resolve(last.value);
    running ??= read()
      .catch(() => null)
      .then((value) => {
        const seconds = value === null ? healthCheckSeconds.failed : healthCheckSeconds.ok;
        last = { value, until: clock.now().getTime() + seconds * 1000 };
        return value;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
