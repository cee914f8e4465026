import type { Container } from '@azure/cosmos';
import type { OutboxRepository, Versioned } from '../../app/ports';
import type { OutboxEmail } from '../../domain/email';
import { WriteConflict } from '../../app/ports';
import { queryAcrossPartitions, writeInPartition } from './operations';
import { partnerQueries } from './queries';

/** Outbox emails live in their partner's partition so they commit with the state change. */
export class CosmosOutboxRepository implements OutboxRepository {
  constructor(private readonly container: Container) {}

  async due(now: Date, limit: number): Promise<Versioned<OutboxEmail>[]> {
    const due: Versioned<OutboxEmail>[] = [];
    for await (const email of queryAcrossPartitions<OutboxEmail>(
      this.container,
      partnerQueries.outboxDue,
      [{ name: '@now', value: now.toISOString() }],
      limit,
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
}
