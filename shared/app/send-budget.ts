import {
  sendBudgetPartition,
  sendsLeft,
  sendWindows,
  type SendCounter,
  type SendWindow,
} from '../domain/send-budget';
import type { Versioned, WriteOperation } from './ports';
import type { Services } from './services';

/** Sends taken from the budget, and the counters they were counted in (to give some back). */
export interface SendGrant {
  granted: number;
  counterIds: string[];
}

/** Two hosts counting at the same instant: the loser reads again; past this, it waits a run. */
const maxCountingTries = 10;

async function read(
  services: Services,
): Promise<{ windows: SendWindow[]; found: Map<string, Versioned<SendCounter>> }> {
  const { sendsPerMinute, sendsPerHour } = services.config.email;
  const windows = sendWindows(services.clock.now(), {
    perMinute: sendsPerMinute,
    perHour: sendsPerHour,
  });
  return { windows, found: await services.outbox.sendCounters(windows.map((w) => w.id)) };
}

const countsOf = (found: Map<string, Versioned<SendCounter>>): Map<string, number> =>
  new Map([...found].map(([id, counter]) => [id, counter.value.count]));

/** How many sends the platform's budget still allows now (two point reads, no write). */
export async function sendsAllowed(services: Services): Promise<number> {
  const { windows, found } = await read(services);
  return sendsLeft(windows, countsOf(found));
}

/**
 * Counts up to `wanted` sends against the minute's and the hour's counters, both written in one
 * batch with their etags, so that hosts running at once never grant more than the budget.
 */
export async function takeSends(services: Services, wanted: number): Promise<SendGrant> {
  for (let tries = 0; tries < maxCountingTries; tries += 1) {
    const { windows, found } = await read(services);
    const granted = Math.min(wanted, sendsLeft(windows, countsOf(found)));
    const counterIds = windows.map((w) => w.id);
    if (granted <= 0) return { granted: 0, counterIds };
    const operations: WriteOperation<SendCounter>[] = windows.map((w) => {
      const counter = found.get(w.id);
      return counter
        ? {
            op: 'replace',
            document: { ...counter.value, count: counter.value.count + granted },
            etag: counter.etag,
          }
        : {
            op: 'create',
            document: {
              type: 'send-counter',
              id: w.id,
              partnerId: sendBudgetPartition,
              window: w.window,
              count: granted,
              ttl: w.ttl,
            },
          };
    });
    if (await services.outbox.writeSendCounters(operations)) return { granted, counterIds };
  }
  return { granted: 0, counterIds: [] };
}

/** Gives back sends counted but not made (another host claimed those emails first). */
export async function returnSends(
  services: Services,
  grant: SendGrant,
  unused: number,
): Promise<void> {
  if (unused <= 0) return;
  for (let tries = 0; tries < maxCountingTries; tries += 1) {
    const found = await services.outbox.sendCounters(grant.counterIds);
    const operations: WriteOperation<SendCounter>[] = [...found.values()].map((counter) => ({
      op: 'replace',
      document: { ...counter.value, count: Math.max(0, counter.value.count - unused) },
      etag: counter.etag,
    }));
    if (await services.outbox.writeSendCounters(operations)) return;
  }
}
