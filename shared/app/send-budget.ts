import {
  sendBudgetPartition,
  sendsLeft,
  sendWindows,
  type SendCounter,
  type SendWindow,
} from '../domain/send-budget';
import type { Versioned, WriteOperation } from './ports';
import type { Services } from './services';

/** Two hosts counting at the same instant: the loser reads again; past this, it waits a run. */
const maxCountingTries = 10;

/**
 * One deliverEmails run's view of the platform-wide send budget (domain/send-budget.ts). Sends
 * are counted before they are made, in the minute's and the hour's counters written in one
 * batch with their etags, so hosts running at once never take more than the budget between
 * them. The counters are read at the first take only, and read again only when another host
 * wrote them meanwhile: a run costs two point reads and a batch per page of sends.
 */
export class SendBudget {
  private windows: SendWindow[] = [];
  private found = new Map<string, Versioned<SendCounter>>();
  private read = false;

  constructor(private readonly services: Services) {}

  /** At most this many sends are left: exact once read, the minute's limit before. */
  get ceiling(): number {
    return this.read ? this.left() : this.services.config.email.sendsPerMinute;
  }

  /** Counts up to `wanted` sends; returns how many the budget allows (0: wait for the next run). */
  async take(wanted: number): Promise<number> {
    for (let tries = 0; tries < maxCountingTries; tries += 1) {
      if (!this.read || this.windowsMoved()) await this.load();
      const granted = Math.min(wanted, this.left());
      if (granted <= 0) return 0;
      if (await this.add(granted)) return granted;
      await this.load(); // another host counted first
    }
    return 0;
  }

  /** Gives back sends counted but not made (another host claimed those emails first). */
  async giveBack(unused: number): Promise<void> {
    if (unused <= 0) return;
    for (let tries = 0; tries < maxCountingTries; tries += 1) {
      if (await this.add(-unused)) return;
      await this.load();
    }
  }

  private left(): number {
    return sendsLeft(
      this.windows,
      new Map([...this.found].map(([id, counter]) => [id, counter.value.count])),
    );
  }

  private windowsMoved(): boolean {
    const now = sendWindows(this.services.clock.now(), this.limits());
    return now.some((w, index) => w.id !== this.windows[index]?.id);
  }

  private limits(): { perMinute: number; perHour: number } {
    const { sendsPerMinute, sendsPerHour } = this.services.config.email;
    return { perMinute: sendsPerMinute, perHour: sendsPerHour };
  }

  private async load(): Promise<void> {
    this.windows = sendWindows(this.services.clock.now(), this.limits());
    this.found = await this.services.outbox.sendCounters(this.windows.map((w) => w.id));
    this.read = true;
  }

  /** Adds `count` (negative: takes off) to both counters in one batch; false on a conflict. */
  private async add(count: number): Promise<boolean> {
    const documents: SendCounter[] = this.windows.map((w) => {
      const counter = this.found.get(w.id)?.value;
      return {
        type: 'send-counter',
        id: w.id,
        partnerId: sendBudgetPartition,
        window: w.window,
        count: Math.max(0, (counter?.count ?? 0) + count),
        ttl: w.ttl,
      };
    });
    const operations: WriteOperation<SendCounter>[] = documents.map((document) => {
      const counter = this.found.get(document.id);
      return counter ? { op: 'replace', document, etag: counter.etag } : { op: 'create', document };
    });
    const etags = await this.services.outbox.writeSendCounters(operations);
    if (etags === null) return false;
    documents.forEach((document, index) =>
      this.found.set(document.id, { value: document, etag: etags[index]! }),
    );
    return true;
  }
}
