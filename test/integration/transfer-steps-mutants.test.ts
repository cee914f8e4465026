import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict, type PartnerDocument, type WriteOperation } from '../../shared/app/ports';
import {
  dyingAtWrite,
  failingPartnerWrites,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import type { CosmosRequest } from '../support/cosmos-requests';
import { extendedCustomer, pendingTransfer, requestTransfer } from '../support/transfers';

// What a transfer's steps (docs/rules.md section 8b) leave for its partners when a write is
// refused part-way, when a step is asked for again, when another step was decided meanwhile,
// and for a customer with more subscriptions than one page holds.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    countCosmosRequests: true,
  });
});
afterAll(() => app.close());

type World = Awaited<ReturnType<typeof pendingTransfer>>;
type Operations = WriteOperation<PartnerDocument>[];

/** A write of a transfer copy in `status` (the decision, or the provider's copy). */
const writesCopy = (operations: Operations, status: string, side: 'reseller' | 'provider') =>
  operations.some(
    (operation) =>
      (operation.op === 'replace' || operation.op === 'create') &&
      operation.document.type === 'transfer' &&
      operation.document.side === side &&
      operation.document.status === status,
  );

/**
 * The provider rejects the transfer through a second host whose partner writes `refuse` answers
 * for are refused, as a create whose id is taken (the batch's second write): the answer is 409
 * with that refusal's words, after one refused try.
 */
async function rejectRefusedOnce(
  world: World,
  refuse: (partnerId: string, operations: Operations) => boolean,
) {
  let refused = 0;
  const host = await startSecondHost(
    app,
    failingPartnerWrites((partnerId, operations) => {
      if (!refuse(partnerId, operations)) return null;
      refused += 1;
      return new WriteConflict('exists', 1);
    }),
  );
  try {
    const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
      token: world.provider.adminToken,
      body: { reason: 'busy' },
    });
    expect(answer.status).toBe(409);
    expect(answer.body).toMatchObject({
      code: 'conflict',
      detail: 'The resource was changed by another request; read it again and retry.',
    });
    expect(refused).toBe(1);
  } finally {
    await host.close({ keepDatabase: true });
  }
}

const statusSeenBy = async (world: World, token: string) =>
  (await app.api('GET', `/api/me/transfers/${world.transferId}`, { token })).body.status as string;

const emailCounters = async (partnerId: string) =>
  (await app.documents(partnerId, 'rate-counter')).map((counter: { id: string; count: number }) => [
    counter.id,
    counter.count,
  ]);

/** The data round trips that wrote something (batches and single-document writes). */
const writesAmong = (requests: CosmosRequest[]) =>
  requests.filter((request) =>
    ['batch', 'create', 'replace', 'upsert', 'delete', 'patch'].includes(request.kind),
  );

describe('a step whose write is refused for another reason than the transfer moving', () => {
  it("answers a provider's rejection refused at a write other than the transfer's own at once, with that refusal, giving back its email count", async () => {
    const world = await pendingTransfer(app);
    const before = await emailCounters(world.provider.partnerId);
    // The decision's batch in the reseller's partition is refused at its audit event, not at
    // the reseller's copy: the transfer did not move, so deciding again cannot help.
    await rejectRefusedOnce(
      world,
      (partnerId, operations) =>
        partnerId === world.reseller.partnerId && writesCopy(operations, 'rejected', 'reseller'),
    );
    expect(await emailCounters(world.provider.partnerId)).toEqual(before);
    expect(await statusSeenBy(world, world.reseller.adminToken)).toBe('pending');
    expect(await statusSeenBy(world, world.provider.adminToken)).toBe('pending');
  });

  it('does not settle a rejection whose provider copy was refused: it answers 409, and the timer finishes it once the refusals stop', async () => {
    const world = await pendingTransfer(app);
    await rejectRefusedOnce(
      world,
      (partnerId, operations) =>
        partnerId === world.provider.partnerId && writesCopy(operations, 'rejected', 'provider'),
    );
    // Decided on the reseller's side, not yet on the provider's: the step stays unfinished.
    expect(await statusSeenBy(world, world.reseller.adminToken)).toBe('rejected');
    expect(await statusSeenBy(world, world.provider.adminToken)).toBe('pending');
    app.clock.advance({ minutes: 5 });
    await app.runTimer('expireTransfers');
    expect(await statusSeenBy(world, world.provider.adminToken)).toBe('rejected');
    const [copy] = await app.documents(world.reseller.partnerId, 'transfer');
    expect('propagateAfter' in copy).toBe(false);
  });
});

describe('a completed transfer', () => {
  it("gives the successor of a moved base subscription no base of its own; its add-on's successor points to it", async () => {
    const world = await pendingTransfer(app, { addOn: true });
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(200);
    const [line] = accepted.body.lineItems;
    const seen = await app.api('GET', `/api/me/customers/${world.customerId}/subscriptions`, {
      token: world.provider.adminToken,
    });
    const byId = (id: string) =>
      seen.body.items.find((item: { subscriptionId: string }) => item.subscriptionId === id);
    expect(byId(line.newSubscriptionId)).toMatchObject({
      offerId: 'office-e3',
      baseSubscriptionId: null,
    });
    expect(byId(line.addOns[0].newSubscriptionId)).toMatchObject({
      offerId: 'audio-conferencing',
      baseSubscriptionId: line.newSubscriptionId,
    });
  });

  it('writes nothing when it is accepted again: its suspended subscription keeps the time of the completion', async () => {
    const world = await pendingTransfer(app);
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(200);
    const completedAt = app.clock.now().toISOString();
    app.clock.advance({ hours: 1 });
    const requests = await app.cosmosRequests!.during(async () => {
      const again = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(accepted.body);
    });
    expect(writesAmong(requests)).toEqual([]);
    const seen = await app.api('GET', `/api/me/customers/${world.customerId}/subscriptions`, {
      token: world.reseller.adminToken,
    });
    const original = seen.body.items.find(
      (item: { subscriptionId: string }) => item.subscriptionId === world.subscriptions.e3,
    );
    expect(original).toMatchObject({ status: 'suspended', updatedAt: completedAt });
  });

  it("keeps the reseller's direct-bill rights when the subscriptions it still bills come after the customer's first hundred", async () => {
    const world = await pendingTransfer(app);
    // The provider orders 100 subscriptions for the customer, newer than the reseller's own:
    // the customer's subscriptions are listed newest first, a hundred a page.
    app.clock.advance({ minutes: 1 });
    for (let order = 0; order < 2; order += 1) {
      const placed = await app.api('POST', `/api/me/customers/${world.customerId}/orders`, {
        token: world.provider.adminToken,
        body: {
          lineItems: Array.from({ length: 50 }, () => ({
            offerId: 'office-e5',
            productType: 'license',
            quantity: 1,
          })),
        },
      });
      expect(placed.status, placed.text).toBe(201);
    }
    app.clock.advance({ minutes: 1 });
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(200);
    // The reseller still bills the Teams Phone and Azure plan subscriptions directly.
    const customer = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(customer.body).toMatchObject({
      retainsDirectBill: true,
      allowedActions: expect.arrayContaining(['view-order-history', 'bill-customer']),
    });
  });
});

describe('a step decided while another request was propagating the transfer', () => {
  it('propagates a rejection decided while the request was settling its creation: the provider sees it rejected at once', async () => {
    const world = await extendedCustomer(app);
    // The request's last step waits before it reads the reseller's copy.
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          if (
            armed &&
            partition === world.reseller.partnerId &&
            id.startsWith('transfer-') &&
            !id.startsWith('transfer-guard-')
          ) {
            armed = false;
            await held.hold();
          }
          return services.partners.getDocument(partition, id);
        }) as typeof services.partners.getDocument,
      }),
    }));
    let transferId: string | undefined;
    try {
      const token = await slow.token({ tenant: world.reseller.partnerId, roles: ['GlobalAdmin'] });
      const requesting = requestTransfer(slow, world, [world.subscriptions.e3], token);
      await held.reached; // the provider's copy is written, pending
      const incoming = await app.api('GET', '/api/me/transfers?direction=incoming', {
        token: world.provider.adminToken,
      });
      transferId = incoming.body.items[0].transferId as string;
      // The provider rejects; its process dies after the decision, before its own copy.
      const dying = await startSecondHost(app, dyingAtWrite(3));
      try {
        const crashed = await dying.api('POST', `/api/me/transfers/${transferId}/reject`, {
          token: await dying.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] }),
          body: { reason: 'Not this one' },
        });
        expect(crashed.status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      held.open();
      expect((await requesting).status).toBe(201);
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    // No timer has run: the request that settled the reseller's side propagated the rejection.
    const seen = await app.api('GET', `/api/me/transfers/${transferId!}`, {
      token: world.provider.adminToken,
    });
    expect(seen.body).toMatchObject({ status: 'rejected', reason: 'Not this one' });
    const events = (await app.documents(world.provider.partnerId, 'event')).filter(
      (event: { eventType: string }) => event.eventType === 'transfer.rejected',
    );
    expect(events).toHaveLength(1);
  });
});

describe('a withdrawal', () => {
  it("reads nothing of the customer's: only a completion looks at what the reseller still bills", async () => {
    const world = await pendingTransfer(app);
    const requests = await app.cosmosRequests!.during(async () => {
      const withdrawn = await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
        token: world.reseller.adminToken,
      });
      expect(withdrawn.status).toBe(200);
      expect(withdrawn.body.status).toBe('withdrawn');
    });
    expect(requests.filter((request) => request.path.includes('/colls/customers/'))).toEqual([]);
    const customer = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(customer.body.retainsDirectBill).toBe(true);
  });
});
