/**
 * Fixed windows (UTC) for per-tenant limits: a counter document per tenant (or endpoint) and
 * window, counted in the same batch as what it limits, so it never drifts from what was written.
 */
export interface RateCounter {
  type: 'rate-counter';
  /** `rate-<what>-<window>`: one per tenant (or endpoint), limit and window. */
  id: string;
  partnerId: string;
  /**
   * Kept in the events container (partition key /stream): an endpoint's count of manual sends
   * lives in its stream (`webhook:<webhookId>`), written in one batch with the delivery it counts.
   */
  stream?: string;
  window: string;
  /** What the window counted: emails (the partner's hourly allowance), or requests. */
  count: number;
  /** Of those emails, the invitation emails (INVITATION_RATE_LIMIT_PER_HOUR). */
  invitations?: number;
  /** Seconds to keep it (Cosmos TTL): the window is over long before. */
  ttl: number;
}

export const rateCounterTtlSeconds = 2 * 3600;

export interface RateWindow {
  /** `YYYY-MM-DDTHH` (an hour) or `YYYY-MM-DDTHH:MM` (a minute), in UTC. */
  key: string;
  /** Whole seconds until the next window opens, at least 1: the Retry-After. */
  secondsLeft: number;
}

export function hourWindow(now: Date): RateWindow {
  const next = new Date(now);
  next.setUTCMinutes(60, 0, 0);
  return {
    key: now.toISOString().slice(0, 13),
    secondsLeft: Math.max(1, Math.ceil((next.getTime() - now.getTime()) / 1000)),
  };
}

export function minuteWindow(now: Date): RateWindow {
  const next = new Date(now);
  next.setUTCSeconds(60, 0);
  return {
    key: now.toISOString().slice(0, 16),
    secondsLeft: Math.max(1, Math.ceil((next.getTime() - now.getTime()) / 1000)),
  };
}

export const rateCounterId = (what: string, window: RateWindow): string =>
  `rate-${what}-${window.key}`;

/**
 * docs/rules.md section 13: the emails one action causes, against what the partner's hour has
 * left. Null when they fit; else which limit they would pass.
 */
export function allowanceExceeded(
  counted: { emails: number; invitations: number },
  adding: { emails: number; invitations: number },
  limits: { emailsPerHour: number; invitationsPerHour: number },
): 'emails' | 'invitations' | null {
  if (
    adding.invitations > 0 &&
    counted.invitations + adding.invitations > limits.invitationsPerHour
  )
    return 'invitations';
  if (counted.emails + adding.emails > limits.emailsPerHour) return 'emails';
  return null;
}
