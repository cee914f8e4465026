import {
  WriteConflict,
  type IdempotencyRecord,
  type IdempotencyStore,
  type Versioned,
} from '../../app/ports';
import { readOne, type ScopedContainer, writeInPartition } from './operations';

/**
 * The idempotency container (containers.json): one partition per scope, point reads only, and
 * a 24-hour default TTL so records go away by themselves on Azure.
 */
export class CosmosIdempotencyStore implements IdempotencyStore {
  constructor(private readonly container: ScopedContainer) {}

  find(scope: string): Promise<Versioned<IdempotencyRecord> | null> {
    return readOne<IdempotencyRecord>(this.container, scope, scope);
  }

  async claim(record: IdempotencyRecord, replacing?: string): Promise<string | null> {
    try {
      const [etag] = await writeInPartition<IdempotencyRecord>(this.container, record.scope, [
        replacing === undefined
          ? { op: 'create', document: record }
          : { op: 'replace', document: record, etag: replacing },
      ]);
      return etag ?? null;
    } catch (error) {
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }

  async complete(record: IdempotencyRecord, etag: string): Promise<void> {
    await writeInPartition<IdempotencyRecord>(this.container, record.scope, [
      { op: 'replace', document: record, etag },
    ]);
  }

  async release(scope: string, etag: string): Promise<void> {
    try {
      await writeInPartition(this.container, scope, [{ op: 'delete', id: scope, etag }]);
    } catch (error) {
      // Gone or taken over already: nothing of ours is left to give up.
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
}
