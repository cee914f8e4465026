import type { DueEmail, OutboxRepository, Versioned, WriteOperation } from '../../app/ports';
import type { EmailLane, OutboxEmail } from '../../domain/email';
import { sendBudgetPartition, type SendCounter } from '../../domain/send-budget';
import { WriteConflict } from '../../app/ports';
import {
  readOne,
  type ScopedContainer,
  valuesAcrossPartitions,
  writeEachIfUnchanged,
  writeInPartition,
} from './operations';
import { partnerQueries } from './queries';

/**
 * Due emails read per page of each partition key range: a due email is read without its bodies
 * (about 200 bytes), so a page of a thousand stays far under Cosmos DB's 4 MB per page, for every
 * physical partition the SDK asks at once.
 */
const dueEmailsPerPage = 1000;

/** Outbox emails live in their partner's partition so they commit with the state change. */
export class CosmosOutboxRepository implements OutboxRepository {
  constructor(private readonly container: ScopedContainer) {}

  async due(
    now: Date,
    lane: EmailLane,
    limit: number,
    passOver: readonly string[] = [],
  ): Promise<DueEmail[]> {
    const found = await valuesAcrossPartitions<Omit<DueEmail, 'etag'> & { _etag: string }>(
      this.container,
      partnerQueries.outboxDue,
      [
        { name: '@lane', value: lane },
        { name: '@now', value: now.toISOString() },
        { name: '@passOver', value: [...passOver] },
      ],
      Math.min(limit, dueEmailsPerPage),
      limit,
    );
    return found.map(({ _etag, ...email }) => ({ ...email, etag: _etag }));
  }

  async claim(
    partnerId: string,
    emails: readonly DueEmail[],
    leaseUntil: Date,
  ): Promise<Versioned<OutboxEmail>[]> {
    return writeEachIfUnchanged<OutboxEmail>(
      this.container,
      partnerId,
      emails.map((email) => ({
        op: 'patch',
        id: email.id,
        etag: email.etag,
        steps: [
          { op: 'set', path: '/status', value: 'sending' },
          { op: 'set', path: '/attempts', value: email.attempts + 1 },
          { op: 'set', path: '/dueAt', value: leaseUntil.toISOString() },
        ],
      })),
    );
  }

  async settle(partnerId: string, outcomes: readonly Versioned<OutboxEmail>[]): Promise<void> {
    await writeEachIfUnchanged<OutboxEmail>(
      this.container,
      partnerId,
      outcomes.map(({ value, etag }) => ({ op: 'replace', document: value, etag })),
    );
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
