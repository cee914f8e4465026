import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dyingAtWrite,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
  countingWrites,
} from '../support/app';
import { subscriptionDocumentId } from '../../shared/domain/customers';
import { transferGuardId } from '../../shared/domain/transfers';
import { ManualClock } from '../support/clock';
import {
  extendedCustomer,
  pendingTransfer,
  requestTransfer,
  storedSubscriptions,
} from '../support/transfers';

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
    const written = countingWrites();
    const counting = await startSecondHost(app, written.decorate);
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
    expect(written.count()).toBe(5);
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

describe('rejecting or withdrawing, crashed at each write', () => {
  const steps = {
    // The provider's step is decided in the reseller's partition: its email counter is written
    // first, apart, in the provider's own. The reseller's counter goes in the decision's batch.
    reject: {
      status: 'rejected',
      by: (world: World) => world.provider,
      body: { reason: 'Not taking on Azure customers this quarter' },
      writes:
        "four times, the provider's email counter, the decision, the provider's copy, the settlement",
      count: 4,
    },
    withdraw: {
      status: 'withdrawn',
      by: (world: World) => world.reseller,
      body: undefined,
      writes: "three times, the decision, the provider's copy, the settlement",
      count: 3,
    },
  } as const;
  const decide = (world: World, step: keyof typeof steps, host: TestApp, token: string) =>
    host.api('POST', `/api/me/transfers/${world.transferId}/${step}`, {
      token,
      ...(steps[step].body ? { body: steps[step].body } : {}),
    });
  const tokenFor = (host: TestApp, world: World, step: keyof typeof steps) =>
    host.token({ tenant: steps[step].by(world).partnerId, roles: ['GlobalAdmin'] });

  for (const step of Object.keys(steps) as (keyof typeof steps)[]) {
    it(`${step}: writes ${steps[step].writes}`, async () => {
      const world = await pendingTransfer(app);
      const written = countingWrites();
      const counting = await startSecondHost(app, written.decorate);
      try {
        const decided = await decide(world, step, counting, await tokenFor(counting, world, step));
        expect(decided.status).toBe(200);
      } finally {
        await counting.close({ keepDatabase: true });
      }
      expect(written.count()).toBe(steps[step].count);
    });

    for (let write = 1; write <= steps[step].count; write += 1) {
      it(`${step}: is finished once by the same request again when the process dies at write ${write} of ${steps[step].count}`, async () => {
        const world = await pendingTransfer(app);
        const dying = await startSecondHost(app, dyingAtWrite(write));
        try {
          const crashed = await decide(world, step, dying, await tokenFor(dying, world, step));
          expect(crashed.status).toBe(500);
        } finally {
          await dying.close({ keepDatabase: true });
        }
        const retried = await decide(world, step, app, steps[step].by(world).adminToken);
        expect(retried.status, retried.text).toBe(200);
        expect(retried.body.status).toBe(steps[step].status);
        await decide(world, step, app, steps[step].by(world).adminToken); // and once more
        const action = `transfer-${steps[step].status}`;
        for (const partnerId of [world.reseller.partnerId, world.provider.partnerId]) {
          const [copy] = await app.documents(partnerId, 'transfer');
          expect(copy.status, partnerId).toBe(steps[step].status);
          expect('propagateAfter' in copy).toBe(false);
          const audits = (await app.documents(partnerId, 'audit')).filter(
            (event: { action: string }) => event.action === action,
          );
          expect(audits, partnerId).toHaveLength(1);
          const events = (await app.documents(partnerId, 'event')).filter(
            (event: { eventType: string }) => event.eventType === `transfer.${steps[step].status}`,
          );
          expect(events, partnerId).toHaveLength(1);
        }
        const emails = (await app.documents(world.reseller.partnerId, 'email')).filter(
          (email: { kind: string }) => email.kind === action,
        );
        expect(emails).toHaveLength(2);
        const [guard] = await app.documents(world.reseller.partnerId, 'transfer-guard');
        expect(guard.open).toEqual({});
      });
    }
  }
});

describe('propagating a step while another request moves the transfer (copies already there)', () => {
  /** A host whose next read of `partition`'s document matching `which` waits for the test. */
  async function holdingRead(partition: string, which: (id: string) => boolean) {
    const held = gate();
    let armed = true;
    const host = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (read: string, id: string) => {
          const found = await services.partners.getDocument(read, id);
          if (armed && read === partition && which(id)) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    return { host, held };
  }
  const isTransferCopy = (id: string) =>
    id.startsWith('transfer-') && !id.startsWith('transfer-guard-');

  it('keeps a rejection decided while the request was still settling its creation', async () => {
    const world = await extendedCustomer(app);
    const slow = await holdingRead(world.reseller.partnerId, isTransferCopy);
    let transferId: string | undefined;
    try {
      const token = await slow.host.token({
        tenant: world.reseller.partnerId,
        roles: ['GlobalAdmin'],
      });
      const requesting = requestTransfer(slow.host, world, [world.subscriptions.e3], token);
      await slow.held.reached; // the provider's copy is written; the reseller's not settled yet
      const incoming = await app.api('GET', '/api/me/transfers?direction=incoming', {
        token: world.provider.adminToken,
      });
      transferId = incoming.body.items[0].transferId as string;
      const rejected = await app.api('POST', `/api/me/transfers/${transferId}/reject`, {
        token: world.provider.adminToken,
        body: { reason: 'Not this one' },
      });
      expect(rejected.status).toBe(200);
      slow.held.open();
      expect((await requesting).status).toBe(201);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const seen = await app.api('GET', `/api/me/transfers/${transferId!}`, { token });
      expect(seen.body.status).toBe('rejected');
    }
  });

  /** A pending transfer whose rejection died after its decision, before propagating it. */
  async function rejectedNotPropagated() {
    const world = await pendingTransfer(app);
    // The provider's email counter, then the decision: decided, not propagated.
    const dying = await startSecondHost(app, dyingAtWrite(3));
    try {
      const crashed = await dying.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
        token: await dying.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] }),
        body: { reason: 'Not this one' },
      });
      expect(crashed.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    return world;
  }

  it('leaves a decided step to its request for two minutes: the timer propagates it at 120 s, not a millisecond before', async () => {
    const world = await rejectedNotPropagated();
    const providerSees = async () =>
      (
        await app.api('GET', `/api/me/transfers/${world.transferId}`, {
          token: world.provider.adminToken,
        })
      ).body.status;
    const decidedAt = app.clock.now().getTime();
    app.clock.set(new Date(decidedAt + 120_000 - 1).toISOString());
    await app.runTimer('expireTransfers');
    expect(await providerSees()).toBe('pending');
    app.clock.set(new Date(decidedAt + 120_000).toISOString());
    await app.runTimer('expireTransfers');
    expect(await providerSees()).toBe('rejected');
  });

  it("writes the provider's copy of a step once when the timer and a retry propagate it at once", async () => {
    const world = await rejectedNotPropagated();
    app.clock.advance({ minutes: 5 });
    const slow = await holdingRead(world.provider.partnerId, isTransferCopy);
    try {
      const timer = slow.host.runTimer('expireTransfers'); // reads the provider's copy, waits
      await slow.held.reached;
      const retried = await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
        token: world.provider.adminToken,
        body: { reason: 'Not this one' },
      });
      expect(retried.status).toBe(200);
      slow.held.open();
      await timer;
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const audits = (await app.documents(world.provider.partnerId, 'audit')).filter(
      (event: { action: string }) => event.action === 'transfer-rejected',
    );
    expect(audits).toHaveLength(1);
    const events = (await app.documents(world.provider.partnerId, 'event')).filter(
      (event: { eventType: string }) => event.eventType === 'transfer.rejected',
    );
    expect(events).toHaveLength(1);
  });
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

describe('completing while the customer changes (the documents already there)', () => {
  /**
   * A host whose first read of `id` (a customer's or a partner's document) after it wrote the
   * decision (the reseller's copy completed) waits for the test.
   */
  async function holding(id: string) {
    const held = gate();
    let decided = false;
    let armed = true;
    const hold = async <T>(found: T, read: string): Promise<T> => {
      if (decided && armed && read === id) {
        armed = false;
        await held.hold();
      }
      return found;
    };
    const host = await startSecondHost(app, (services) => ({
      ...services,
      customers: override(services.customers, {
        getDocument: (async (partition: string, read: string) =>
          hold(
            await services.customers.getDocument(partition, read),
            read,
          )) as typeof services.customers.getDocument,
      }),
      partners: override(services.partners, {
        getDocument: (async (partition: string, read: string) =>
          hold(
            await services.partners.getDocument(partition, read),
            read,
          )) as typeof services.partners.getDocument,
        commit: async (partnerId, operations) => {
          const etag = await services.partners.commit(partnerId, operations);
          decided ||= operations.some(
            (operation) =>
              'document' in operation &&
              operation.document.type === 'transfer' &&
              (operation.document as { status?: string }).status === 'completed',
          );
          return etag;
        },
      }),
    }));
    return { host, held };
  }

  it('keeps a change to a moved subscription made while the accept was completing: it reads again', async () => {
    const world = await pendingTransfer(app, { addOn: true });
    const user = await app.api('POST', `/api/me/customers/${world.customerId}/users`, {
      token: world.reseller.adminToken,
      body: { displayName: 'Ada', userPrincipalName: 'ada@moving.example' },
    });
    expect(user.status).toBe(201);
    const userId = user.body.userId as string;
    const slow = await holding(subscriptionDocumentId(world.subscriptions.e3));
    try {
      const token = await slow.host.token({
        tenant: world.provider.partnerId,
        roles: ['GlobalAdmin'],
      });
      const accepting = accept(world, slow.host, token);
      await slow.held.reached;
      const assigned = await app.api(
        'POST',
        `/api/me/customers/${world.customerId}/users/${userId}/licenses/${world.subscriptions.e3}`,
        { token: world.reseller.adminToken },
      );
      expect(assigned.status).toBe(200);
      slow.held.open();
      expect((await accepting).status).toBe(200);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const original = (await storedSubscriptions(app, world.customerId)).find(
      (subscription) => subscription.subscriptionId === world.subscriptions.e3,
    )!;
    // The seat taken meanwhile is counted on the subscription as the user holds it.
    expect(original).toMatchObject({ status: 'suspended', assignedLicenses: 1 });
    expectCompletedOnce(world, await completionOf(world));
  });

  it('keeps the guard of a transfer requested while the accept was settling: that subscription cannot be requested twice', async () => {
    const world = await pendingTransfer(app, { addOn: true });
    const slow = await holding(transferGuardId(world.customerId));
    try {
      const token = await slow.host.token({
        tenant: world.provider.partnerId,
        roles: ['GlobalAdmin'],
      });
      const accepting = accept(world, slow.host, token);
      await slow.held.reached; // its settlement read the guard: E3 open, and nothing else
      expect((await requestTransfer(app, world, [world.subscriptions.phone])).status).toBe(201);
      slow.held.open();
      expect((await accepting).status).toBe(200);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const again = await requestTransfer(app, world, [world.subscriptions.phone]);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('transfer-in-progress');
    const [guard] = await app.documents(world.reseller.partnerId, 'transfer-guard');
    expect(Object.keys(guard.open)).toEqual([world.subscriptions.phone]);
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
