import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dyingAtWrite,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import { pendingTransfer, storedSubscriptions } from '../support/transfers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

type World = Awaited<ReturnType<typeof pendingTransfer>>;

const accept = (world: World, target: TestApp = app, token = world.provider.adminToken) =>
  target.api('POST', `/api/me/transfers/${world.transferId}/accept`, { token });

/** Everything a completed transfer leaves, counted: each thing must be there exactly once. */
async function completionOf(world: World) {
  const subscriptions = await storedSubscriptions(app, world.customerId);
  const successors = subscriptions.filter(
    (subscription) => subscription.transferredFrom?.transferId === world.transferId,
  );
  const moved = [world.subscriptions.e3, world.addOnId!];
  const originals = subscriptions.filter((subscription) =>
    moved.includes(subscription.subscriptionId),
  );
  const count = async (partnerId: string, type: string, key: string, value: string) =>
    (await app.documents(partnerId, type)).filter(
      (document: Record<string, unknown>) => document[key] === value,
    ).length;
  const [resellerCopy] = await app.documents(world.reseller.partnerId, 'transfer');
  const [providerCopy] = await app.documents(world.provider.partnerId, 'transfer');
  const [guard] = await app.documents(world.reseller.partnerId, 'transfer-guard');
  return {
    successors: successors.map((subscription) => ({
      from: subscription.transferredFrom!.subscriptionId,
      billedBy: subscription.billedBy,
      partnerOfRecord: subscription.partnerOfRecord,
      quantity: subscription.quantity,
    })),
    originals: originals.map((subscription) => ({
      status: subscription.status,
      successor: subscription.successor?.subscriptionId,
    })),
    successorIds: successors.map((subscription) => subscription.subscriptionId).sort(),
    resellerCopy: { status: resellerCopy.status, marked: 'propagateAfter' in resellerCopy },
    providerCopy: providerCopy.status,
    guard: guard.open,
    audits: [
      await count(world.reseller.partnerId, 'audit', 'action', 'transfer-completed'),
      await count(world.provider.partnerId, 'audit', 'action', 'transfer-completed'),
    ],
    emails: await count(world.reseller.partnerId, 'email', 'kind', 'transfer-completed'),
  };
}

function expectCompletedOnce(world: World, found: Awaited<ReturnType<typeof completionOf>>) {
  expect(found.successors.sort((a, b) => a.from.localeCompare(b.from))).toEqual(
    [
      { from: world.subscriptions.e3, quantity: 10 },
      { from: world.addOnId!, quantity: 3 },
    ]
      .sort((a, b) => a.from.localeCompare(b.from))
      .map((item) => ({
        ...item,
        billedBy: world.provider.partnerId,
        partnerOfRecord: world.reseller.partnerId,
      })),
  );
  expect(found.originals.map((original) => original.status)).toEqual(['suspended', 'suspended']);
  expect(found.originals.map((original) => original.successor).sort()).toEqual(found.successorIds);
  expect(found.resellerCopy).toEqual({ status: 'completed', marked: false });
  expect(found.providerCopy).toBe('completed');
  expect(found.guard).toEqual({});
  expect(found.audits).toEqual([1, 1]);
  expect(found.emails).toBe(2);
}

describe('completing a transfer', () => {
  it('suspends the moved subscriptions and gives the provider new ones, billed by it, the reseller partner of record', async () => {
    const world = await pendingTransfer(app, { addOn: true });
    app.clock.advance({ days: 2 });
    // Renewal stays the reseller's while it bills the subscription (docs/rules.md section 8b).
    const renewal = await app.api(
      'PATCH',
      `/api/me/customers/${world.customerId}/subscriptions/${world.subscriptions.e3}`,
      { token: world.reseller.adminToken, body: { autoRenew: false } },
    );
    expect(renewal.status).toBe(200);
    const sales = await app.token({ tenant: world.provider.partnerId, roles: ['SalesAgent'] });
    const accepted = await accept(world, app, sales);
    expect(accepted.status).toBe(200);
    expect(accepted.body.status).toBe('completed');
    expect(accepted.body.closedAt).toBe('2026-03-04T09:00:00.000Z');
    const [line] = accepted.body.lineItems;
    expect(line.newSubscriptionId).toEqual(expect.any(String));
    expect(line.addOns[0].newSubscriptionId).toEqual(expect.any(String));
    expectCompletedOnce(world, await completionOf(world));

    const providerSees = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/subscriptions`,
      { token: world.provider.adminToken },
    );
    expect(providerSees.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subscriptionId: line.newSubscriptionId,
          offerId: 'office-e3',
          quantity: 10,
          status: 'active',
          billedBy: world.provider.partnerId,
          partnerOfRecord: world.reseller.partnerId,
          transferredFrom: { transferId: world.transferId, subscriptionId: world.subscriptions.e3 },
        }),
        expect.objectContaining({
          subscriptionId: line.addOns[0].newSubscriptionId,
          baseSubscriptionId: line.newSubscriptionId,
        }),
      ]),
    );
    const resellerSees = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/subscriptions`,
      { token: world.reseller.adminToken },
    );
    expect(
      resellerSees.body.items.find(
        (item: { subscriptionId: string }) => item.subscriptionId === world.subscriptions.e3,
      ),
    ).toMatchObject({
      status: 'suspended',
      successor: { transferId: world.transferId, subscriptionId: line.newSubscriptionId },
    });
    const onSuspended = await app.api(
      'PATCH',
      `/api/me/customers/${world.customerId}/subscriptions/${world.subscriptions.e3}`,
      { token: world.reseller.adminToken, body: { autoRenew: true } },
    );
    expect(onSuspended.status).toBe(409);
    expect(onSuspended.body.detail).toContain(line.newSubscriptionId);
    // Accepting again answers the same, writing nothing.
    const again = await accept(world);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(accepted.body);
    expectCompletedOnce(world, await completionOf(world));
  });

  it("writes five times to accept: the provider's email count, the decision, the provider copy, the customer, the settlement", async () => {
    const world = await pendingTransfer(app, { addOn: true });
    let writes = 0;
    const counting = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          writes += 1;
          return services.partners.commit(partnerId, operations);
        },
      }),
      customers: override(services.customers, {
        commit: async (customerId, operations) => {
          writes += 1;
          return services.customers.commit(customerId, operations);
        },
      }),
    }));
    try {
      const token = await counting.token({
        tenant: world.provider.partnerId,
        roles: ['GlobalAdmin'],
      });
      expect((await accept(world, counting, token)).status).toBe(200);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    // The crash tests below kill the process before each of these writes.
    expect(writes).toBe(5);
  });

  for (const write of [1, 2, 3, 4, 5]) {
    // Before the decision is written (the count, the decision itself) only an accept decides.
    const by = write >= 3 && write % 2 === 1 ? 'the expireTransfers timer' : 'the next accept';
    it(`is completed exactly once by ${by} when the process dies at write ${write} of 5`, async () => {
      const world = await pendingTransfer(app, { addOn: true });
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const crashed = await accept(
          world,
          dying,
          await dying.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] }),
        );
        expect(crashed.status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      if (by === 'the next accept') {
        const retried = await accept(world);
        expect(retried.status).toBe(200);
        expect(retried.body.status).toBe('completed');
      } else {
        app.clock.advance({ minutes: 5 });
        await app.runTimer('expireTransfers');
      }
      expectCompletedOnce(world, await completionOf(world));
      // Whatever comes next writes nothing more.
      await app.runTimer('expireTransfers');
      expect((await accept(world)).status).toBe(200);
      expectCompletedOnce(world, await completionOf(world));
    });
  }
});

describe('deciding under races and crashes', () => {
  it('lets exactly one of concurrent accepts and withdrawals win, and completes nothing twice', async () => {
    const world = await pendingTransfer(app, { addOn: true });
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        index % 2 === 0
          ? accept(world)
          : app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
              token: world.reseller.adminToken,
            }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    const winners = new Set(
      responses
        .filter((response) => response.status === 200)
        .map((response) => response.body.status),
    );
    expect(winners.size).toBe(1);
    if (winners.has('completed')) expectCompletedOnce(world, await completionOf(world));
    else expect((await completionOf(world)).successors).toEqual([]);
  });

  it('finishes a request whose provider copy a crash left unwritten, with the timer', async () => {
    const world = await pendingTransfer(app);
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const crashed = await dying.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
        token: await dying.token({ tenant: world.reseller.partnerId, roles: ['GlobalAdmin'] }),
        body: {
          providerId: world.provider.partnerId,
          lineItems: [{ subscriptionId: world.subscriptions.phone }],
        },
      });
      expect(crashed.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const incoming = () =>
      app.api('GET', '/api/me/transfers?direction=incoming&status=pending', {
        token: world.provider.adminToken,
      });
    expect((await incoming()).body.items).toHaveLength(1);
    app.clock.advance({ minutes: 5 });
    await app.runTimer('expireTransfers');
    expect((await incoming()).body.items).toHaveLength(2);
    await app.runTimer('expireTransfers');
    expect(await app.documents(world.provider.partnerId, 'transfer')).toHaveLength(2);
  });
});

describe('what each side may do afterwards', () => {
  it('lets the reseller keep order history, renewal and billing while it bills direct-bill subscriptions; new orders go through the provider', async () => {
    const world = await pendingTransfer(app);
    const customer = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(customer.body).toMatchObject({
      relationship: 'indirect-reseller',
      retainsDirectBill: true,
      allowedActions: [
        'view-order-history',
        'bill-customer',
        'manage-users-and-licenses',
        'manage-subscription-renewal',
      ],
    });
    const order = await app.api('POST', `/api/me/customers/${world.customerId}/orders`, {
      token: world.reseller.adminToken,
      body: { lineItems: [{ offerId: 'office-e5', productType: 'license', quantity: 1 }] },
    });
    expect(order.status).toBe(403);
    expect(order.body.code).toBe('action-not-allowed');
    expect(order.body.detail).toContain('Only the indirect provider (Adatum Distribution)');
    expect(order.body.detail).toContain('You keep order history, renewal and billing');
    const history = await app.api('GET', `/api/me/customers/${world.customerId}/orders`, {
      token: world.reseller.adminToken,
    });
    expect(history.status).toBe(200);
    expect(history.body.items).toHaveLength(1);
  });

  it('ends those rights once the last direct-bill subscription is transferred', async () => {
    const world = await pendingTransfer(app, { azurePlan: false });
    const rest = await app.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
      token: world.reseller.adminToken,
      body: {
        providerId: world.provider.partnerId,
        lineItems: [{ subscriptionId: world.subscriptions.phone }],
      },
    });
    expect(rest.status).toBe(201);
    expect((await accept(world)).status).toBe(200);
    const halfway = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(halfway.body.retainsDirectBill).toBe(true);
    const last = await app.api('POST', `/api/me/transfers/${rest.body.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(last.status).toBe(200);
    const after = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(after.body).toMatchObject({
      retainsDirectBill: false,
      allowedActions: ['manage-users-and-licenses', 'manage-subscription-renewal'],
    });
    const history = await app.api('GET', `/api/me/customers/${world.customerId}/orders`, {
      token: world.reseller.adminToken,
    });
    expect(history.status).toBe(403);
    expect(history.body.detail).toContain('Only the indirect provider (Adatum Distribution)');
  });
});
