import type { OperationsRepository, OutboxItem, Versioned } from '../../app/ports';
import { WriteConflict } from '../../app/ports';
import {
  backlogId,
  heartbeatId,
  operationsPartition,
  type OperationsDocument,
  type OutboxBacklog,
  type OutboxName,
  type TimerHeartbeat,
} from '../../domain/operations';
import {
  queryAcrossPartitions,
  queryPartitionPage,
  readOne,
  type ScopedContainer,
  writeInPartition,
} from './operations';
import { partnerQueries } from './queries';

/** Operations documents live in a partition of their own in the partners container. */
export class CosmosOperationsRepository implements OperationsRepository {
  constructor(private readonly container: ScopedContainer) {}

  async documents(): Promise<OperationsDocument[]> {
    // A handful of documents (one per timer, one per outbox): one page holds them all.
    const page = await queryPartitionPage<OperationsDocument>(
      this.container,
      partnerQueries.operationsDocuments,
      [],
      { pageSize: 100 },
      operationsPartition,
    );
    return page.items.map((item) => item.value);
  }

  async heartbeat(timerName: string): Promise<TimerHeartbeat | null> {
    const found = await readOne<TimerHeartbeat>(
      this.container,
      heartbeatId(timerName),
      operationsPartition,
    );
    return found?.value ?? null;
  }

  async backlog(outbox: OutboxName): Promise<Versioned<OutboxBacklog> | null> {
    return readOne<OutboxBacklog>(this.container, backlogId(outbox), operationsPartition);
  }

  async save(document: OperationsDocument, etag?: string): Promise<boolean> {
    try {
      await writeInPartition(this.container, operationsPartition, [
        etag === undefined ? { op: 'upsert', document } : { op: 'replace', document, etag },
      ]);
      return true;
    } catch (error) {
      if (error instanceof WriteConflict) return false;
      throw error;
    }
  }

  async *waiting(type: string, limit: number): AsyncIterable<OutboxItem> {
    yield* this.read(partnerQueries.outboxWaiting, type, limit);
  }

  async *failed(type: string, limit: number): AsyncIterable<OutboxItem> {
    yield* this.read(partnerQueries.outboxFailed, type, limit);
  }

  private async *read(
    query: (typeof partnerQueries)['outboxWaiting' | 'outboxFailed'],
    type: string,
    limit: number,
  ): AsyncIterable<OutboxItem> {
    let count = 0;
    for await (const { value } of queryAcrossPartitions<OutboxItem>(
      this.container,
      query,
      [{ name: '@type', value: type }],
      Math.min(limit, 1000),
    )) {
      yield value;
      count += 1;
      if (count >= limit) return;
    }
  }
}
