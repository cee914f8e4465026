import type {
  EventRepository,
  Page,
  PageRequest,
  Versioned,
  WriteOperation,
} from '../../app/ports';
import type { RateCounter } from '../../domain/rate-limit';
import { WriteConflict } from '../../app/ports';
import { noteDeliveriesWritten } from '../../app/event-scope';
import {
  feedStream,
  type EventDocument,
  type FeedEvent,
  type RelayedEventDocument,
} from '../../domain/events';
import {
  deliveryDocumentId,
  maxWebhooksPerPartner,
  webhookCursorId,
  webhookStream,
  type EventDelivery,
  type WebhookCursor,
  type WebhookEndpoint,
} from '../../domain/webhooks';
import {
  allInPartition,
  inBatches,
  queryAcrossPartitions,
  queryPartitionPage,
  readOne,
  type ScopedContainer,
  valuesAcrossPartitions,
  writeEachIfUnchanged,
  writeInPartition,
} from './operations';
import { customerQueries, eventQueries, partnerQueries } from './queries';

async function firstOf<T>(items: AsyncIterable<T>, limit: number): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) {
    found.push(item);
    if (found.length === limit) break;
  }
  return found;
}

/** Pages of due items a timer reads at a time: each partition key range answers one at once. */
const timerPageSize = 100;

/**
 * Events, webhook endpoints and deliveries (docs/rules.md section 11). An event waits in its
 * partner's partition (partners container), written with its change, until published; the feed,
 * each endpoint's cursor in it and its deliveries live in the events container. Relayed events
 * wait in the customers container until copied. Writes of the partners container go through the
 * partner repository's batches.
 */
export class CosmosEventRepository implements EventRepository {
  constructor(
    private readonly partners: ScopedContainer,
    private readonly customers: ScopedContainer,
    private readonly events: ScopedContainer,
  ) {}

  async toPublish(
    partnerId: string,
    now: Date,
    limit: number,
  ): Promise<Versioned<EventDocument>[]> {
    const page = await queryPartitionPage<EventDocument>(
      this.partners,
      partnerQueries.eventsToPublish,
      [{ name: '@now', value: now.toISOString() }],
      { pageSize: limit },
      partnerId,
    );
    return page.items;
  }

  partitionsToPublish(now: Date, limit: number): Promise<string[]> {
    return valuesAcrossPartitions<string>(
      this.partners,
      partnerQueries.partitionsToPublish,
      [{ name: '@now', value: now.toISOString() }],
      Math.min(limit, timerPageSize),
      limit,
    );
  }

  relayed(now: Date, limit: number): Promise<Versioned<RelayedEventDocument>[]> {
    return firstOf(
      queryAcrossPartitions<RelayedEventDocument>(
        this.customers,
        customerQueries.eventsToRelay,
        [{ name: '@now', value: now.toISOString() }],
        Math.min(limit, timerPageSize),
      ),
      limit,
    );
  }

  async relayedIn(
    customerId: string,
    now: Date,
    limit: number,
  ): Promise<Versioned<RelayedEventDocument>[]> {
    const page = await queryPartitionPage<RelayedEventDocument>(
      this.customers,
      customerQueries.eventsToRelayIn,
      [{ name: '@now', value: now.toISOString() }],
      { pageSize: limit },
      customerId,
    );
    return page.items;
  }

  async removeRelayed(event: Versioned<RelayedEventDocument>): Promise<void> {
    try {
      await writeInPartition(this.customers, event.value.customerId, [
        { op: 'delete', id: event.value.id, etag: event.etag },
      ]);
    } catch (error) {
      // Another run copied and removed it first.
      if (!(error instanceof WriteConflict)) throw error;
    }
  }

  async addToFeed(events: readonly FeedEvent[]): Promise<void> {
    const streams: FeedEvent[][] = [];
    for (const event of events) {
      const last = streams.at(-1);
      if (last?.[0]?.stream === event.stream) last.push(event);
      else streams.push([event]);
    }
    for (const stream of streams) {
      for (const batch of inBatches(stream, (event) => Buffer.byteLength(JSON.stringify(event)))) {
        try {
          await writeInPartition(
            this.events,
            batch[0]!.stream,
            batch.map((document) => ({ op: 'create' as const, document })),
          );
        } catch (error) {
          if (!(error instanceof WriteConflict && error.reason === 'exists')) throw error;
          // Another publisher completing the same publication wrote some of them first: the
          // batch wrote nothing; one by one, in order, each written once.
          for (const event of batch) await this.addOneToFeed(event);
        }
      }
    }
  }

  private async addOneToFeed(event: FeedEvent): Promise<void> {
    try {
      await writeInPartition(this.events, event.stream, [{ op: 'create', document: event }]);
    } catch (error) {
      if (!(error instanceof WriteConflict && error.reason === 'exists')) throw error;
    }
  }

  async feed(partnerId: string, after: number, limit: number): Promise<FeedEvent[]> {
    const page = await queryPartitionPage<FeedEvent>(
      this.events,
      eventQueries.eventFeed,
      [{ name: '@after', value: after }],
      { pageSize: limit },
      feedStream(partnerId),
    );
    return page.items.map((item) => item.value);
  }

  webhooks(partnerId: string): Promise<Versioned<WebhookEndpoint>[]> {
    // At most maxWebhooksPerPartner, but read to the last page: publication decides from this
    // list which endpoints to tell of new events.
    return allInPartition<WebhookEndpoint>(
      this.partners,
      partnerQueries.webhooks,
      [],
      partnerId,
      maxWebhooksPerPartner,
    );
  }

  cursor(webhookId: string): Promise<Versioned<WebhookCursor> | null> {
    return readOne<WebhookCursor>(this.events, webhookCursorId, webhookStream(webhookId));
  }

  async advance(
    cursor: WebhookCursor,
    etag: string | null,
    deliveries: EventDelivery[],
  ): Promise<(string | null)[] | null> {
    try {
      const etags = await writeInPartition<WebhookCursor | EventDelivery>(
        this.events,
        cursor.stream,
        [
          etag === null
            ? { op: 'create', document: cursor }
            : { op: 'replace', document: cursor, etag },
          ...deliveries.map((document) => ({ op: 'create' as const, document })),
        ],
      );
      return etags;
    } catch (error) {
      // Another host moved the cursor (or wrote these deliveries) first.
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }

  cursorsDue(now: Date, limit: number): Promise<Versioned<WebhookCursor>[]> {
    return firstOf(
      queryAcrossPartitions<WebhookCursor>(
        this.events,
        eventQueries.cursorsDue,
        [{ name: '@now', value: now.toISOString() }],
        Math.min(limit, timerPageSize),
      ),
      limit,
    );
  }

  delivery(webhookId: string, eventId: string): Promise<Versioned<EventDelivery> | null> {
    return readOne<EventDelivery>(
      this.events,
      deliveryDocumentId(webhookId, eventId),
      webhookStream(webhookId),
    );
  }

  async createDelivery(delivery: EventDelivery): Promise<boolean> {
    try {
      await writeInPartition(this.events, delivery.stream, [{ op: 'create', document: delivery }]);
      noteDeliveriesWritten(this.events.invocation, delivery.webhookId);
      return true;
    } catch (error) {
      if (error instanceof WriteConflict) return false;
      throw error;
    }
  }

  streamCounter(webhookId: string, id: string): Promise<Versioned<RateCounter> | null> {
    return readOne<RateCounter>(this.events, id, webhookStream(webhookId));
  }

  async commitCountedDelivery(
    webhookId: string,
    counter: WriteOperation<RateCounter>,
    delivery: WriteOperation<EventDelivery>,
  ): Promise<void> {
    await writeInPartition<RateCounter | EventDelivery>(this.events, webhookStream(webhookId), [
      counter,
      delivery,
    ]);
    noteDeliveriesWritten(this.events.invocation, webhookId);
  }

  async deliveries(webhookId: string, page: PageRequest): Promise<Page<EventDelivery>> {
    const found = await queryPartitionPage<EventDelivery>(
      this.events,
      eventQueries.deliveries,
      [],
      page,
      webhookStream(webhookId),
    );
    return {
      items: found.items.map((item) => item.value),
      continuationToken: found.continuationToken,
    };
  }

  async deliveriesDueIn(
    webhookId: string,
    now: Date,
    limit: number,
  ): Promise<Versioned<EventDelivery>[]> {
    const page = await queryPartitionPage<EventDelivery>(
      this.events,
      eventQueries.deliveriesDueIn,
      [{ name: '@now', value: now.toISOString() }],
      { pageSize: limit },
      webhookStream(webhookId),
    );
    return page.items;
  }

  async replaceDelivery(delivery: EventDelivery, etag: string): Promise<string | null> {
    try {
      const [newEtag] = await writeInPartition(this.events, delivery.stream, [
        { op: 'replace', document: delivery, etag },
      ]);
      if (delivery.status === 'pending')
        noteDeliveriesWritten(this.events.invocation, delivery.webhookId);
      return newEtag ?? null;
    } catch (error) {
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }

  async settleDeliveries(settled: readonly Versioned<EventDelivery>[]): Promise<void> {
    const streams = new Map<string, Versioned<EventDelivery>[]>();
    for (const delivery of settled) {
      const stream = streams.get(delivery.value.stream) ?? [];
      stream.push(delivery);
      streams.set(delivery.value.stream, stream);
    }
    for (const [stream, deliveries] of streams) {
      await writeEachIfUnchanged<EventDelivery>(
        this.events,
        stream,
        deliveries.map(({ value, etag }) => ({ op: 'replace', document: value, etag })),
      );
    }
  }

  deliveriesDue(now: Date, limit: number, passOver: string[]): Promise<Versioned<EventDelivery>[]> {
    return firstOf(
      queryAcrossPartitions<EventDelivery>(
        this.events,
        eventQueries.deliveriesDue,
        [
          { name: '@now', value: now.toISOString() },
          { name: '@passOver', value: passOver },
        ],
        Math.min(limit, timerPageSize),
      ),
      limit,
    );
  }
}
