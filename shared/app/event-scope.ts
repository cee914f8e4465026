import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which partitions a request wrote events to, so that they can be published and delivered right
 * after it answers (EVENTS_PROMPT_DELIVERY) instead of at the deliverEvents timer's next run.
 */
const storage = new AsyncLocalStorage<Set<string>>();

export async function withEventScope<T>(
  work: () => Promise<T>,
): Promise<{ result: T; written: boolean }> {
  const partitions = new Set<string>();
  const result = await storage.run(partitions, work);
  return { result, written: partitions.size > 0 };
}

/** Called by the repositories when a batch they committed created an event. */
export function noteEventsWritten(partitionId: string): void {
  storage.getStore()?.add(partitionId);
}
