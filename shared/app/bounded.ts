/** Runs `work` over `items` with at most `limit` at a time (the delivery timers' workers). */
export async function eachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(workers);
}

/** `date` plus `seconds`, as the ISO timestamp a due date is stored as. */
export const addSeconds = (date: Date, seconds: number): string =>
  new Date(date.getTime() + seconds * 1000).toISOString();
