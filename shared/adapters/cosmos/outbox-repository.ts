import type { OutboxRepository, Versioned, WriteOperation } from '../../app/ports';
import type { EmailLane, OutboxEmail } from '../../domain/email';
import { sendBudgetPartition, type SendCounter } from '../../domain/send-budget';
import { WriteConflict } from '../../app/ports';
import {
  queryAcrossPartitions,
  readOne,
  type ScopedContainer,
  writeInPartition,
} from './operations';
import { partnerQueries } from './queries';

/** Due emails read per page of each partition key range (a pending email carries its bodies). */
const dueEmailsPerPage = 50;

/** Outbox emails live in their partner's partition so they commit with the state change. */
export class CosmosOutboxRepository implements OutboxRepository {
  constructor(private readonly container: ScopedContainer) {}

  async due(
    now: Date,
    lane: EmailLane,
    limit: number,
    passOver: readonly string[] = [],
  ): Promise<Versioned<OutboxEmail>[]> {
    const due: Versioned<OutboxEmail>[] = [];
    for await (const email of queryAcrossPartitions<OutboxEmail>(
      this.container,
      partnerQueries.outboxDue,
      [
        { name: '@lane', value: lane },
        { name: '@now', value: now.toISOString() },
        { name: '@passOver', value: [...passOver] },
      ],
      // Every partition key range answers a page at once, bodies included: pages of at most
      // dueEmailsPerPage, never the run's whole limit.
      Math.min(limit, dueEmailsPerPage),
    )) {
      due.push(email);
      if (due.length === limit) break;
    }
    return due;
  }

  async replaceIfUnchanged(email: OutboxEmail, etag: string): Promise<string | null> {
    try {
      const [newEtag] = await writeInPartition(this.container, email.partnerId, [
        { op: 'replace', document: email, etag },
      ]);
      return newEtag ?? null;
    } catch (error) {
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }

  async sendCounters(ids: string[]): Promise<Map<string, Versioned<SendCounter>>> {
    const found = await Promise.all(
      ids.map((id) => readOne<SendCounter>(this.container, id, sendBudgetPartition)),
    );
    return new Map(
      found.flatMap((counter) => (counter ? [[counter.value.id, counter] as const] : [])),
    );
  }

  async writeSendCounters(operations: WriteOperation<SendCounter>[]): Promise<string[] | null> {
    try {
      const etags = await writeInPartition(this.container, sendBudgetPartition, operations);
      return etags.map((etag) => etag ?? '');
    } catch (error) {
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }
}
