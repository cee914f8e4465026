/**
 * Fixed one-hour windows (UTC) for per-tenant limits: a counter document per tenant and hour,
 * counted in the same batch as what it limits, so it never drifts from what was written.
 */
export interface RateCounter {
  type: 'rate-counter';
  /** `rate-<what>-<YYYY-MM-DDTHH>`: one per tenant, limit and hour. */
  id: string;
  partnerId: string;
  window: string;
  count: number;
  /** Seconds to keep it (Cosmos TTL): the window is over long before. */
  ttl: number;
}

export const rateCounterTtlSeconds = 2 * 3600;

export interface HourWindow {
  /** `YYYY-MM-DDTHH`, in UTC. */
  key: string;
  /** Whole seconds until the next window opens, at least 1: the Retry-After. */
  secondsLeft: number;
}

export function hourWindow(now: Date): HourWindow {
  const next = new Date(now);
  next.setUTCMinutes(60, 0, 0);
  return {
    key: now.toISOString().slice(0, 13),
    secondsLeft: Math.max(1, Math.ceil((next.getTime() - now.getTime()) / 1000)),
  };
}

export const rateCounterId = (what: string, window: HourWindow): string =>
  `rate-${what}-${window.key}`;
