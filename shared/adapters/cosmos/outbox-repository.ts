import type { Container } from '@azure/cosmos';
import type { OutboxRepository, Versioned } from '../../app/ports';
import type { OutboxEmail } from '../../domain/email';
import { WriteConflict } from '../../app/ports';
import { queryPage, writeInPartition } from './operations';

/** Outbox emails live in their partner's partition so they commit with the state change. */
export class CosmosOutboxRepository implements OutboxRepository {
  constructor(private readonly container: Container) {}

  async due(now: Date, limit: number): Promise<Versioned<OutboxEmail>[]> {
    const page = await queryPage<OutboxEmail>(
      this.container,
      "SELECT * FROM c WHERE c.type = 'email' AND c.dueAt <= @now ORDER BY c.dueAt ASC",
      [{ name: '@now', value: now.toISOString() }],
      { pageSize: limit, continuationToken: undefined },
    );
    return page.items;
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
