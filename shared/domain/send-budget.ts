/**
 * The platform-wide email send budget. ACS quotas hold per resource and subscription (a custom
 * domain starts at 30 emails a minute and 100 an hour), not per partner, so every host running
 * deliverEmails draws from one budget: a counter document per UTC minute and per UTC hour, in a
 * partition of their own, each send counted before it is made.
 */
export const sendBudgetPartition = 'platform-send-budget';

export interface SendCounter {
  type: 'send-counter';
  /** `send-budget-minute-<YYYY-MM-DDTHH:MM>` or `send-budget-hour-<YYYY-MM-DDTHH>`. */
  id: string;
  partnerId: typeof sendBudgetPartition;
  window: string;
  count: number;
  /** Seconds to keep it (Cosmos TTL): the window is over long before. */
  ttl: number;
}

export interface SendLimits {
  perMinute: number;
  perHour: number;
}

export interface SendWindow {
  id: string;
  window: string;
  limit: number;
  ttl: number;
}

/** The minute and the hour `now` falls in, each with its limit. */
export function sendWindows(now: Date, limits: SendLimits): SendWindow[] {
  const iso = now.toISOString();
  const minute = iso.slice(0, 16);
  const hour = iso.slice(0, 13);
  return [
    { id: `send-budget-minute-${minute}`, window: minute, limit: limits.perMinute, ttl: 3600 },
    { id: `send-budget-hour-${hour}`, window: hour, limit: limits.perHour, ttl: 2 * 3600 },
  ];
}

/** Sends still allowed: the least left in any window (a window not counted yet has it all). */
export function sendsLeft(windows: SendWindow[], counts: ReadonlyMap<string, number>): number {
  return Math.max(0, Math.min(...windows.map((w) => w.limit - (counts.get(w.id) ?? 0))));
}

/**
 * Up to `count` of `items` (oldest first), taking turns between partners so that one partner's
 * backlog cannot hold back every other partner's email while the budget is short.
 */
export function takingTurns<T extends { partnerId: string }>(items: T[], count: number): T[] {
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const queue = queues.get(item.partnerId);
    if (queue) queue.push(item);
    else queues.set(item.partnerId, [item]);
  }
  const picked: T[] = [];
  while (picked.length < count && queues.size > 0) {
    for (const [partnerId, queue] of queues) {
      if (picked.length >= count) break;
      picked.push(queue.shift()!);
      if (queue.length === 0) queues.delete(partnerId);
    }
  }
  return picked;
}
