import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvent } from '../../shared/domain/audit';
import { systemActor } from '../../shared/domain/principal';
import { partnershipId } from '../../shared/domain/providers';
import {
  applyChange,
  transitionCountsId,
  type CountChange,
} from '../../shared/domain/transition-counts';
import {
  DependencyUnavailable,
  WriteConflict,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import {
  commitCounting,
  countsPatch,
  pipelinePatch,
  readCounts,
} from '../../shared/app/transition-counts';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  dyingAtWrite,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import {
  extend,
  extendedCustomer,
  requestTransfer,
  resellerWithDirectCustomer,
  type TransferWorld,
} from '../support/transfers';
import { countsOf, recount } from '../support/transition';

/**
 * The transition's counts (docs/rules.md section 14) are written in the very batches of the
 * changes that move them, or, for a change in a customer's partition, with the copy of its event
 * in the partner's partition: never lost, never doubled, whatever crashes or runs twice.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

const pipelineOf = async (world: TransferWorld) => {
  const response = await app.api('GET', '/api/me/reseller-pipeline', {
    token: world.provider.adminToken,
  });
  expect(response.status, response.text).toBe(200);
  return response.body.resellers.find(
    (reseller: { resellerId: string }) => reseller.resellerId === world.reseller.partnerId,
  );
};

/** Once the changes of customers' partitions are relayed, the counts say what a recount says. */
async function expectCountsTrue(partnerId: string, token: string) {
  await app.runTimer('deliverEvents');
  expect(await countsOf(app, token)).toEqual(await recount(app, partnerId));
}

/** A direct customer of the world's reseller from before it enrolled, with one order. */
async function anotherDirectCustomer(world: TransferWorld, companyName: string) {
  const seeded = await app.api('POST', `/api/me/customers`, {
    token: world.reseller.adminToken,
    body: newCustomer({ companyName }),
  });
  return seeded;
}

/** A partner as a database from before counts were kept has it: its record, no counts document. */
async function partnerWithoutCounts() {
  const partner = await createPartnerWithProfile(app);
  await app.services.partners.commit(partner.partnerId, [{ op: 'delete', id: transitionCountsId }]);
  return partner;
}

const createsCounts = (operations: WriteOperation<PartnerDocument>[]): boolean => {
  const [first] = operations;
  return first?.op === 'create' && first.document.id === transitionCountsId;
};

/** A write that goes with a count change in a partner's partition: an entry of its activity. */
const activity = (partnerId: string): PartnerDocument =>
  auditEvent(app.services.ids.newId(), partnerId, app.clock.now(), systemActor, 'test-change');

describe('the transition counts', () => {
  it('equal a recount of every document they count after concurrent changes of every kind', async () => {
    const world = await resellerWithDirectCustomer(app);
    const token = world.reseller.adminToken;
    // Two more orders for its own customer, placed at once, and the events relayed twice.
    const orders = await Promise.all(
      [1, 2].map(() =>
        app.api('POST', `/api/me/customers/${world.customerId}/orders`, {
          token,
          body: { lineItems: [{ offerId: 'visio', productType: 'license', quantity: 2 }] },
        }),
      ),
    );
    // Enrolled already: new direct customers are refused, so no count moves for them.
    expect((await anotherDirectCustomer(world, 'Tailspin')).status).toBe(403);
    expect(orders.map((order) => order.status)).toEqual([201, 201]);
    await Promise.all([app.runTimer('deliverEvents'), app.runTimer('deliverEvents')]);
    // At once: the extension, a customer the provider creates for the reseller, and a second
    // provider's partnership.
    const second = await createProvider(app, { companyName: 'Fabrikam Supply' });
    const invited = await inviteReseller(app, second, world.reseller);
    const [extended, created, accepted] = await Promise.all([
      extend(app, world),
      app.api('POST', '/api/me/customers', {
        token: world.provider.adminToken,
        body: newCustomer({ indirectResellerId: world.reseller.partnerId }),
      }),
      app.api('POST', '/api/partner-invitations/accept', {
        token,
        body: { token: tokenOf(invited.body.link) },
      }),
    ]);
    expect([extended.status, created.status, accepted.status]).toEqual([201, 201, 200]);
    await expectCountsTrue(world.reseller.partnerId, token);
    expect(await countsOf(app, token)).toMatchObject({
      providers: 2,
      customers: { directBill: 0, extendedToProvider: 1, indirect: 1 },
      subscriptions: { directBillActive: 5 },
    });
    // Two transfers at once, then one accepted and one withdrawn.
    const [first, other] = await Promise.all([
      requestTransfer(app, world, [world.subscriptions.e3]),
      requestTransfer(app, world, [world.subscriptions.phone]),
    ]);
    expect([first.status, other.status]).toEqual([201, 201]);
    await expectCountsTrue(world.reseller.partnerId, token);
    await Promise.all([
      app.api('POST', `/api/me/transfers/${first.body.transferId}/accept`, {
        token: world.provider.adminToken,
      }),
      app.api('POST', `/api/me/transfers/${other.body.transferId}/withdraw`, { token }),
    ]);
    await expectCountsTrue(world.reseller.partnerId, token);
    expect((await countsOf(app, token)).subscriptions).toEqual({
      directBillActive: 4,
      inTransfer: 0,
      transferred: 1,
    });
    expect(await pipelineOf(world)).toMatchObject({
      customersExtended: 1,
      transfersPending: 0,
      transfersCompleted: 1,
    });
  });

  it("counts an order's subscriptions once when the process dies between copying its event and letting the relayed one go", async () => {
    const world = await resellerWithDirectCustomer(app, { azurePlan: false });
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      events: override(services.events, {
        removeRelayed: async () => {
          throw new Error('process killed');
        },
      }),
    }));
    try {
      await expect(dying.runTimer('deliverEvents')).rejects.toThrow();
    } finally {
      await dying.close({ keepDatabase: true });
    }
    await app.runTimer('deliverEvents');
    await app.runTimer('deliverEvents');
    expect((await countsOf(app, world.reseller.adminToken)).subscriptions.directBillActive).toBe(2);
    await expectCountsTrue(world.reseller.partnerId, world.reseller.adminToken);
  });

  for (const write of [1, 2]) {
    it(`counts an extended customer once, on both sides, when the process dies at write ${write} of 2 and the reseller retries`, async () => {
      const world = await resellerWithDirectCustomer(app);
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({
          tenant: world.reseller.partnerId,
          roles: ['GlobalAdmin'],
        });
        expect((await extend(dying, world, token)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      const retried = await extend(app, world);
      expect(retried.status).toBe(write === 1 ? 201 : 409);
      expect((await extend(app, world)).status).toBe(409);
      await expectCountsTrue(world.reseller.partnerId, world.reseller.adminToken);
      expect((await countsOf(app, world.reseller.adminToken)).customers.extendedToProvider).toBe(1);
      expect(await pipelineOf(world)).toMatchObject({ customersExtended: 1 });
    });
  }

  for (const write of [1, 2]) {
    it(`counts a direct customer accepting an invitation once when the process dies at write ${write} of 2 and it accepts again`, async () => {
      const world = await resellerWithDirectCustomer(app);
      const invitation = await app.api('POST', '/api/me/customer-invitations', {
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId },
      });
      expect(invitation.status, invitation.text).toBe(201);
      const accept = (on: TestApp, customerToken: string) =>
        on.api('POST', '/api/customer-invitations/accept', {
          token: customerToken,
          body: { token: tokenOf(invitation.body.link) },
        });
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({ tenant: world.customerId, roles: ['GlobalAdmin'] });
        expect((await accept(dying, token)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      const customerToken = await app.token({ tenant: world.customerId, roles: ['GlobalAdmin'] });
      // The same customer accepting again gets the same answer (docs/rules.md section 8).
      expect((await accept(app, customerToken)).status).toBe(200);
      expect((await accept(app, customerToken)).status).toBe(200);
      await expectCountsTrue(world.reseller.partnerId, world.reseller.adminToken);
      expect((await countsOf(app, world.reseller.adminToken)).customers).toEqual({
        directBill: 0,
        extendedToProvider: 1,
        indirect: 0,
      });
      expect(await pipelineOf(world)).toMatchObject({ customersExtended: 1 });
    });
  }

  for (const write of [1, 2]) {
    it(`counts a provider once when the process dies at write ${write} of 2 of accepting its invitation`, async () => {
      const provider = await createProvider(app);
      const reseller = await activeReseller(app);
      const invited = await inviteReseller(app, provider, reseller);
      const accept = (on: TestApp, token: string) =>
        on.api('POST', '/api/partner-invitations/accept', {
          token,
          body: { token: tokenOf(invited.body.link) },
        });
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({ tenant: reseller.partnerId, roles: ['GlobalAdmin'] });
        expect((await accept(dying, token)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      expect((await accept(app, reseller.adminToken)).status).toBe(write === 1 ? 200 : 410);
      expect((await accept(app, reseller.adminToken)).status).toBe(410);
      expect((await countsOf(app, reseller.adminToken)).providers).toBe(1);
      await expectCountsTrue(reseller.partnerId, reseller.adminToken);
    });
  }

  for (const write of [1, 2, 3, 4]) {
    const by = write % 2 === 1 ? 'the next accept' : 'the expireTransfers timer';
    it(`counts a completed transfer once, on both sides, when the process dies at write ${write} of 4 and ${by} finishes it`, async () => {
      const world = await extendedCustomer(app);
      const requested = await requestTransfer(app, world, [world.subscriptions.e3]);
      expect(requested.status).toBe(201);
      await app.runTimer('deliverEvents');
      const accept = (on: TestApp, token: string) =>
        on.api('POST', `/api/me/transfers/${requested.body.transferId}/accept`, { token });
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({
          tenant: world.provider.partnerId,
          roles: ['GlobalAdmin'],
        });
        expect((await accept(dying, token)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      if (write % 2 === 1) {
        expect((await accept(app, world.provider.adminToken)).status).toBe(200);
      } else {
        app.clock.advance({ minutes: 5 });
        await app.runTimer('expireTransfers');
      }
      await app.runTimer('expireTransfers');
      expect((await accept(app, world.provider.adminToken)).status).toBe(200);
      await expectCountsTrue(world.reseller.partnerId, world.reseller.adminToken);
      expect((await countsOf(app, world.reseller.adminToken)).subscriptions).toEqual({
        directBillActive: 2,
        inTransfer: 0,
        transferred: 1,
      });
      expect(await pipelineOf(world)).toMatchObject({ transfersPending: 0, transfersCompleted: 1 });
    });
  }

  it('starts counting, from its first change, for a partner recorded before counts were kept', async () => {
    const partner = await partnerWithoutCounts();
    const created = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    expect(created.status, created.text).toBe(201);
    expect((await countsOf(app, partner.adminToken)).customers.directBill).toBe(1);
  });

  it('counts a change of every count and every moment at once, more than one patch of Cosmos DB holds', async () => {
    const partner = await createPartnerWithProfile(app);
    const before = await readCounts(app.services, partner.partnerId);
    const at = app.clock.now().toISOString();
    const change: CountChange = {
      providers: 1,
      customers: { directBill: 2, extendedToProvider: 1, indirect: 1 },
      subscriptions: { directBillActive: 3, inTransfer: 1, transferred: 1 },
      moments: {
        firstPartnershipAt: at,
        lastPartnershipEndedAt: at,
        firstCustomerExtendedAt: at,
        lastTransferRequestedAt: at,
        firstTransferCompletedAt: at,
      },
    };
    await commitCounting(app.services, partner.partnerId, countsPatch(change));
    expect(await readCounts(app.services, partner.partnerId)).toEqual(applyChange(before!, change));
  });

  it('counts both of two first changes made at once by a partner recorded before counts were kept', async () => {
    const partner = await partnerWithoutCounts();
    // Both changes find the counts missing before either creates them: one creation wins, the
    // other finds them there, and both changes are written and counted.
    let waiting = 0;
    let release: () => void = () => undefined;
    const bothRefused = new Promise<void>((resolve) => (release = resolve));
    const racing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          if (createsCounts(operations)) {
            waiting += 1;
            if (waiting === 2) release();
            await bothRefused;
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const token = await racing.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] });
      const created = await Promise.all(
        ['Tailspin', 'Wingtip'].map((companyName) =>
          racing.api('POST', '/api/me/customers', {
            token,
            body: newCustomer({ companyName }),
          }),
        ),
      );
      expect(created.map((response) => response.status)).toEqual([201, 201]);
    } finally {
      await racing.close({ keepDatabase: true });
    }
    expect((await countsOf(app, partner.adminToken)).customers.directBill).toBe(2);
    await expectCountsTrue(partner.partnerId, partner.adminToken);
  });

  it('answers 503 when Cosmos DB fails as the counts of a partner recorded before counts were kept are created, and counts the change once repeated', async () => {
    const partner = await partnerWithoutCounts();
    let failures = 1;
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((_, operations) =>
        createsCounts(operations) && failures-- > 0
          ? new DependencyUnavailable('cosmos', { retryAfterMs: 1000 })
          : null,
      ),
    );
    try {
      const token = await flaky.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] });
      const failed = await flaky.api('POST', '/api/me/customers', {
        token,
        body: newCustomer(),
      });
      expect(failed.status, failed.text).toBe(503);
      expect(failed.headers.get('retry-after')).toBeTruthy();
    } finally {
      await flaky.close({ keepDatabase: true });
    }
    expect((await countsOf(app, partner.adminToken)).customers.directBill).toBe(0);
    const repeated = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    expect(repeated.status, repeated.text).toBe(201);
    expect((await countsOf(app, partner.adminToken)).customers.directBill).toBe(1);
    await expectCountsTrue(partner.partnerId, partner.adminToken);
  });

  it('gives the store its refusal back, writing nothing, when the counts it creates keep going missing', async () => {
    const partner = await partnerWithoutCounts();
    let tries = 0;
    // A store that answers the creation of the counts without keeping them.
    const losing: Services = {
      ...app.services,
      partners: override(app.services.partners, {
        commit: async (partnerId, operations) => {
          if (createsCounts(operations)) return null;
          tries += 1;
          return app.services.partners.commit(partnerId, operations);
        },
      }),
    };
    const change = activity(partner.partnerId);
    await expect(
      commitCounting(losing, partner.partnerId, [
        { op: 'create', document: change },
        ...countsPatch({ providers: 1 }),
      ]),
    ).rejects.toEqual(new WriteConflict('missing', 1));
    expect(tries).toBeGreaterThan(1);
    expect(await app.pointRead(partner.partnerId, change.id)).toBeNull();
  });

  it("writes a provider's change without its pipeline patch when its side of the partnership is missing", async () => {
    const provider = await createProvider(app);
    const never = 'reseller-never-partnered';
    const change = activity(provider.partnerId);
    await commitCounting(app.services, provider.partnerId, [
      { op: 'create', document: change },
      ...pipelinePatch(never, { customersExtended: 1, at: app.clock.now().toISOString() }),
    ]);
    expect(await app.pointRead(provider.partnerId, change.id)).toMatchObject({
      action: 'test-change',
    });
    expect(await app.pointRead(provider.partnerId, partnershipId(never))).toBeNull();
  });
});
