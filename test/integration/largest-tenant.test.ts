import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPartition } from '../../shared/app/events';
import { startTestApp, type TestApp } from '../support/app';
import { roundTrips as documentedRoundTrips, type RoundTrips } from '../support/capacity-model';
import { ManualClock } from '../support/clock';
import type { CosmosRequest } from '../support/cosmos-requests';
import { newCustomer } from '../support/customers';
import { partnership } from '../support/providers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * The largest tenant of docs/capacity.md: a distributor creating customers for its resellers,
 * with ten webhook endpoints subscribed. What one creation writes, and where, counted on the
 * wire with prompt delivery on; the capacity table computes partition sizes and request units
 * from these counts and the measured document sizes (test/unit/capacity.test.ts).
 */
let app: TestApp;
const hooks: WebhookReceiver[] = [];
beforeAll(async () => {
  // Prompt delivery off: each step is measured apart (the request; a publication round, as the
  // timer or a paced prompt run does it; the timer sending to endpoints behind).
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    countCosmosRequests: true,
  });
});
afterAll(async () => {
  await Promise.all(hooks.map((hook) => hook.close()));
  await app.close();
});

/** Requests per place: the distributor's partition, its feed, its endpoints' partitions. */
type Tally = RoundTrips;

function tally(requests: readonly CosmosRequest[], where: (request: CosmosRequest) => boolean) {
  const counts: Tally = { reads: 0, queries: 0, writes: 0, batches: 0 };
  for (const request of requests.filter(where)) {
    if (request.kind === 'point-read') counts.reads += 1;
    else if (request.kind === 'single-partition-query') counts.queries += 1;
    else if (request.kind === 'batch') counts.batches += 1;
    else if (['create', 'replace', 'upsert', 'delete'].includes(request.kind)) counts.writes += 1;
  }
  return counts;
}

describe('the largest tenant', () => {
  it('costs, per customer creation and per ten published and sent, the round trips docs/capacity.md computes with, and keeps nothing published in the distributor’s partition', async () => {
    const { provider, reseller } = await partnership(app);
    const webhookIds: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const hook = await startWebhookReceiver();
      hooks.push(hook);
      const created = await app.api('POST', '/api/me/webhooks', {
        token: provider.adminToken,
        body: { url: hook.url, events: ['customer.created'] },
      });
      expect(created.status).toBe(201);
      webhookIds.push(created.body.webhookId as string);
    }
    const create = async () => {
      const created = await app.api('POST', '/api/me/customers', {
        token: provider.adminToken,
        body: newCustomer({ indirectResellerId: reseller.partnerId }),
      });
      expect(created.status).toBe(201);
    };
    const partners = (request: CosmosRequest) => request.path.includes('/colls/partners/');
    const events = (request: CosmosRequest) => request.path.includes('/colls/events/');
    const places = (requests: CosmosRequest[], what: string) =>
      new Map<string, Tally>([
        [
          `${what}, the distributor's partition`,
          tally(requests, (r) => partners(r) && r.partitionKey === provider.partnerId),
        ],
        [
          `${what}, its feed`,
          tally(requests, (r) => events(r) && r.partitionKey === `feed:${provider.partnerId}`),
        ],
        [
          `${what}, each endpoint`,
          tally(requests, (r) => events(r) && r.partitionKey === `webhook:${webhookIds[0]}`),
        ],
      ]);
    // Each endpoint has had an event: its cursor exists, caught up.
    await create();
    await app.runTimer('deliverEvents');
    const request = await app.cosmosRequests!.during(create);
    for (let index = 0; index < 9; index += 1) await create();
    const round = await app.cosmosRequests!.during(() =>
      publishPartition(app.services, provider.partnerId),
    );
    const sending = await app.cosmosRequests!.during(() => app.runTimer('deliverEvents'));
    const measured = new Map([
      [
        "the request, the distributor's partition",
        tally(request, (r) => partners(r) && r.partitionKey === provider.partnerId),
      ],
      ...places(round, 'a round of ten'),
      ...places(sending, 'sending the ten'),
    ]);
    expect(measured).toEqual(documentedRoundTrips());
    expect(hooks.map((hook) => hook.received.length)).toEqual(hooks.map(() => 11));
    // Published: nothing of the events, and no delivery, stays in the distributor's partition.
    const left = await app.documents(provider.partnerId);
    expect(left.filter((document) => ['event', 'delivery'].includes(document.type))).toEqual([]);
  });
});
