import type { Container, JSONObject, OperationInput } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { ensureDatabase } from '../../shared/adapters/cosmos/schema';
import {
  deliverEvents,
  emptyReport,
  type EventDeliveryReport,
} from '../../shared/app/deliver-events';
import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/composition';
import { eventFor } from '../../shared/domain/events';
import { webhookDocumentId, type WebhookEndpoint } from '../../shared/domain/webhooks';
import type { CpuMeter } from './child-process';
import { inPool } from './seed';

export interface EventDeliveryThroughput {
  events: number;
  endpoints: number;
  seconds: number;
  eventsPerSecond: number;
  /** From each event's write to its arrival at the receiver, in seconds. */
  delaySeconds: { p50: number; p99: number; max: number };
  /** deliverEvents runs it took, back to back, as the timer and prompt delivery would run it. */
  runs: number;
  /** Each run's seconds, and what it published and delivered. */
  perRun: { seconds: number; published: number; delivered: number }[];
  seedSeconds: number;
  report: EventDeliveryReport;
  cpuSeconds: Record<string, number | null>;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

/**
 * The deliverEvents use case as the timer runs it: `events` events written (unpublished, as a
 * change writes them) across `endpoints` partners, each with one webhook endpoint on a local
 * receiver answering 204; runs until every event has arrived. Publishing, signing, sending and
 * settling are all measured; the receiver only notes each arrival.
 */
export async function benchDeliverEvents(options: {
  endpoint: string;
  devKeyFile: string;
  events: number;
  endpoints: number;
  log: (line: string) => void;
  cpu: CpuMeter;
}): Promise<EventDeliveryThroughput> {
  const written = new Map<string, number>();
  const arrived = new Map<string, number>();
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const id = request.headers['webhook-id'];
      if (typeof id === 'string' && !arrived.has(id)) arrived.set(id, performance.now());
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  const config = loadConfig({
    AUTH_MODE: 'dev',
    COSMOS_ENDPOINT: options.endpoint,
    COSMOS_DATABASE: 'bench-events',
    DEV_KEY_FILE: options.devKeyFile,
    WEBHOOKS_ALLOW_LOCAL: 'true',
  });
  const client = await createCosmosClient(config.cosmos);
  try {
    const database = await ensureDatabase(client, config.cosmos.database);
    const services = await createServices(config, { cosmosClient: client });
    const partners = database.container('partners');
    const seedStarted = performance.now();
    const perPartner = Math.ceil(options.events / options.endpoints);
    await inPool(
      Array.from({ length: options.endpoints }, () => randomUUID()),
      8,
      async (partnerId) => {
        await seedPartner(partners, partnerId, url, perPartner, services.webhooks.seal, written);
      },
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    options.log(`events seeded: ${written.size} for ${options.endpoints} endpoints`);
    const logger = { info: () => undefined, warn: () => undefined, error: options.log };
    const total = emptyReport();
    const stopCpu = options.cpu();
    const started = performance.now();
    let runs = 0;
    const perRun: EventDeliveryThroughput['perRun'] = [];
    while (arrived.size < written.size && runs < 200) {
      const runStarted = performance.now();
      const report = await deliverEvents(services, logger);
      perRun.push({
        seconds: Number(((performance.now() - runStarted) / 1000).toFixed(2)),
        published: report.published,
        delivered: report.delivered,
      });
      for (const key of Object.keys(total) as (keyof EventDeliveryReport)[])
        total[key] += report[key];
      runs += 1;
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = stopCpu();
    const delays = [...arrived].map(([id, at]) => (at - written.get(id)!) / 1000);
    delays.sort((a, b) => a - b);
    return {
      events: arrived.size,
      endpoints: options.endpoints,
      seconds: Number(seconds.toFixed(2)),
      eventsPerSecond: Number((arrived.size / seconds).toFixed(1)),
      delaySeconds: {
        p50: Number(percentile(delays, 50).toFixed(2)),
        p99: Number(percentile(delays, 99).toFixed(2)),
        max: Number((delays.at(-1) ?? 0).toFixed(2)),
      },
      runs,
      perRun,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      report: total,
      cpuSeconds,
    };
  } finally {
    client.dispose();
    await new Promise((resolve) => receiver.close(resolve));
  }
}

/** One partner's endpoint and its events, written as a change writes them (unpublished). */
async function seedPartner(
  partners: Container,
  partnerId: string,
  url: string,
  count: number,
  seal: (secret: string) => string,
  written: Map<string, number>,
): Promise<void> {
  const now = new Date();
  const webhookId = randomUUID();
  const endpoint: WebhookEndpoint = {
    type: 'webhook',
    id: webhookDocumentId(webhookId),
    partnerId,
    webhookId,
    url,
    events: ['*'],
    description: 'bench',
    status: 'active',
    disabledReason: null,
    secrets: [
      {
        sealed: seal(`whsec_${Buffer.alloc(32, 7).toString('base64')}`),
        createdAt: now.toISOString(),
        expiresAt: null,
      },
    ],
    slot: 0,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
  await partners.items.create(endpoint);
  for (let start = 0; start < count; start += 100) {
    const events = Array.from({ length: Math.min(100, count - start) }, (_, index) =>
      eventFor(
        randomUUID(),
        partnerId,
        'subscription.updated',
        {
          customerId: randomUUID(),
          subscriptionId: randomUUID(),
          autoRenew: true,
          quantity: start + index + 1,
        },
        now,
      ),
    );
    const operations: OperationInput[] = events.map((event) => ({
      operationType: 'Create',
      partitionKey: partnerId,
      resourceBody: event as unknown as JSONObject,
    }));
    await partners.items.batch(operations, partnerId);
    for (const event of events) written.set(event.id, performance.now());
  }
}
