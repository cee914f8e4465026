import type { EventRepository, Page, PageRequest, Versioned } from '../../app/ports';
import { WriteConflict } from '../../app/ports';
import type { EventDocument, RelayedEventDocument } from '../../domain/events';
import type { EventDelivery, WebhookEndpoint } from '../../domain/webhooks';
import {
  queryAcrossPartitions,
  queryPartitionPage,
  type ScopedContainer,
  writeInPartition,
} from './operations';
import { customerQueries, partnerQueries } from './queries';

async function firstOf<T>(items: AsyncIterable<T>, limit: number): Promise<T[]> {
  const found: T[] = [];
  for await (const item of items) {
    found.push(item);
    if (found.length === limit) break;
  }
  return found;
}

/**
 * Events, webhook endpoints and deliveries (docs/rules.md section 11): documents of the partners
 * container, in the partition of the partner they are for; relayed events wait in the
 * customers container until copied. Writes go through the partner repository's batches.
 */
export class CosmosEventRepository implements EventRepository {
  constructor(
    private readonly partners: ScopedContainer,
    private readonly customers: ScopedContainer,
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

  async partitionsToPublish(now: Date, limit: number): Promise<string[]> {
    const partitions = new Set<string>();
    for await (const event of queryAcrossPartitions<EventDocument>(
      this.partners,
      partnerQueries.partitionsToPublish,
      [{ name: '@now', value: now.toISOString() }],
      100,
    )) {
      partitions.add(event.value.partnerId);
      if (partitions.size === limit) break;
    }
    return [...partitions];
  }

  relayed(now: Date, limit: number): Promise<Versioned<RelayedEventDocument>[]> {
    return firstOf(
      queryAcrossPartitions<RelayedEventDocument>(
        this.customers,
        customerQueries.eventsToRelay,
        [{ name: '@now', value: now.toISOString() }],
        limit,
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

  async feed(partnerId: string, after: number, limit: number): Promise<EventDocument[]> {
    const page = await queryPartitionPage<EventDocument>(
      this.partners,
      partnerQueries.eventFeed,
      [{ name: '@after', value: after }],
      { pageSize: limit },
      partnerId,
    );
    return page.items.map((item) => item.value);
  }

  async webhooks(partnerId: string): Promise<Versioned<WebhookEndpoint>[]> {
    const page = await queryPartitionPage<WebhookEndpoint>(
      this.partners,
      partnerQueries.webhooks,
      [],
      // A partner has at most maxWebhooksPerPartner: one page holds them all.
      { pageSize: 100 },
      partnerId,
    );
    return page.items;
  }

  async deliveries(
    partnerId: string,
    webhookId: string,
    page: PageRequest,
  ): Promise<Page<EventDelivery>> {
    const found = await queryPartitionPage<EventDelivery>(
      this.partners,
      partnerQueries.deliveries,
      [{ name: '@webhookId', value: webhookId }],
      page,
      partnerId,
    );
    return {
      items: found.items.map((item) => item.value),
      continuationToken: found.continuationToken,
    };
  }

  async deliveriesDueIn(
    partnerId: string,
    now: Date,
    limit: number,
  ): Promise<Versioned<EventDelivery>[]> {
    const page = await queryPartitionPage<EventDelivery>(
      this.partners,
      partnerQueries.deliveriesDueIn,
      [{ name: '@now', value: now.toISOString() }],
      { pageSize: limit },
      partnerId,
    );
    return page.items;
  }

  async replaceDelivery(delivery: EventDelivery, etag: string): Promise<string | null> {
    try {
      const [newEtag] = await writeInPartition(this.partners, delivery.partnerId, [
        { op: 'replace', document: delivery, etag },
      ]);
      return newEtag ?? null;
    } catch (error) {
      if (error instanceof WriteConflict) return null;
      throw error;
    }
  }

  deliveriesDue(now: Date, limit: number, passOver: string[]): Promise<Versioned<EventDelivery>[]> {
    return firstOf(
      queryAcrossPartitions<EventDelivery>(
        this.partners,
        partnerQueries.deliveriesDue,
        [
          { name: '@now', value: now.toISOString() },
          { name: '@passOver', value: passOver },
        ],
        limit,
      ),
      limit,
    );
  }
}
