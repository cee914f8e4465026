import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { type CustomerAction, type Relationship } from '../../shared/domain/customer-policy';
import {
  relationshipFor,
  subscriptionDocumentId,
  userDocumentId,
} from '../../shared/domain/customers';
import {
  dyingAtWrite,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
  countingWrites,
} from '../support/app';
import { createPartner, createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { directCustomer, indirectCustomer, newCustomer } from '../support/customers';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';
import { activeReseller, approvedPartner } from '../support/enrollment';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('customer tenants created by a provider', () => {
  it('show in the reseller list and the provider list, each with its relationship and actions', async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app, {
      companyName: 'Wingtip Toys',
    });

    const resellerList = await app.api('GET', '/api/me/customers', { token: reseller.adminToken });
    expect(resellerList.status).toBe(200);
    expect(resellerList.body.items).toEqual([
      {
        customerId,
        companyName: 'Wingtip Toys',
        domain: expect.stringMatching(/^wingtip-/),
        country: 'US',
        relationship: 'indirect-reseller',
        acquiredAs: 'indirect-provider',
        indirectProvider: { partnerId: provider.partnerId, companyName: 'Adatum Distribution' },
        delegatedAdmin: true,
        since: '2026-03-02T09:00:00.000Z',
        retainsDirectBill: false,
        allowedActions: ['manage-users-and-licenses', 'manage-subscription-renewal'],
      },
    ]);

    const providerList = await app.api('GET', '/api/me/customers', { token: provider.adminToken });
    expect(providerList.body.items).toEqual([
      expect.objectContaining({
        customerId,
        relationship: 'indirect-provider',
        acquiredAs: 'indirect-provider',
        indirectReseller: { partnerId: reseller.partnerId, companyName: expect.any(String) },
        delegatedAdmin: false,
        allowedActions: ['place-orders', 'view-order-history', 'bill-customer'],
      }),
    ]);
    const one = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: reseller.adminToken,
    });
    expect(one.body).toEqual(resellerList.body.items[0]);
  });

  it('require the provider to name a reseller it is in partnership with', async () => {
    const { provider } = await indirectCustomer(app);
    const missing = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer(),
    });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('body.indirectResellerId');
    const stranger = await activeReseller(app);
    const notPartner = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer({ indirectResellerId: stranger.partnerId }),
    });
    expect(notPartner.status).toBe(400);
    expect(notPartner.body.errors).toEqual([
      {
        path: 'body.indirectResellerId',
        message: 'is not an indirect reseller in partnership with you',
      },
    ]);
    expect(await app.documents(stranger.partnerId, 'customer-relationship')).toHaveLength(0);
  });

  it('refuse a provider naming its own provider as its reseller: a partnership goes one way', async () => {
    // X is a provider and an active reseller too; P invited X as its reseller and X accepted.
    const upstream = await createProvider(app);
    const both = await activeReseller(app, {
      programs: {
        directBill: true,
        indirectProvider: { regions: ['US', 'CA'], services: ['training-support'] },
      },
    });
    const invited = await inviteReseller(app, upstream, both);
    expect(invited.status).toBe(201);
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: both.adminToken,
    });
    expect(accepted.status).toBe(200);
    const reversed = await app.api('POST', '/api/me/customers', {
      token: both.adminToken,
      body: newCustomer({ indirectResellerId: upstream.partnerId }),
    });
    expect(reversed.status).toBe(400);
    expect(reversed.body.errors).toEqual([
      {
        path: 'body.indirectResellerId',
        message: 'is not an indirect reseller in partnership with you',
      },
    ]);
    expect(await app.documents(upstream.partnerId, 'customer-relationship')).toHaveLength(0);
  });

  it('refuse a domain already taken with 409', async () => {
    const { provider, reseller, created } = await indirectCustomer(app);
    const again = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer({ domain: created.domain, indirectResellerId: reseller.partnerId }),
    });
    expect(again.status).toBe(409);
    const other = await createPartnerWithProfile(app);
    const direct = await app.api('POST', '/api/me/customers', {
      token: other.adminToken,
      body: newCustomer({ domain: created.domain }),
    });
    expect(direct.status).toBe(409);
  });
});

describe('creating a customer tenant, crashed at each write', () => {
  /** Counts the writes of one request on a second host. */
  async function writesOf(request: (host: TestApp) => Promise<{ status: number }>) {
    const written = countingWrites();
    const counting = await startSecondHost(app, written.decorate);
    try {
      expect((await request(counting)).status).toBe(201);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    return written.count();
  }

  const flows = {
    'by a provider for its reseller': {
      writes: 4, // the domain claim, the customer, the reseller's side, the provider's side
      async world() {
        const { provider, reseller } = await partnership(app);
        const body = newCustomer({ indirectResellerId: reseller.partnerId });
        return { creator: provider, partners: [provider.partnerId, reseller.partnerId], body };
      },
    },
    'by a direct-bill partner for itself': {
      writes: 3, // the domain claim, the customer, its relationship
      async world() {
        const partner = await createPartnerWithProfile(app);
        return { creator: partner, partners: [partner.partnerId], body: newCustomer() };
      },
    },
  } as const;

  for (const [name, flow] of Object.entries(flows)) {
    it(`${name} writes ${flow.writes} times`, async () => {
      const { creator, body } = await flow.world();
      const writes = await writesOf(async (host) =>
        host.api('POST', '/api/me/customers', {
          token: await host.token({ tenant: creator.partnerId, roles: ['GlobalAdmin'] }),
          body,
        }),
      );
      expect(writes).toBe(flow.writes);
    });

    for (let write = 1; write <= flow.writes; write += 1) {
      it(`${name} is completed by the retry when the process dies at write ${write} of ${flow.writes}: one customer, one relationship and one customer.created per partner`, async () => {
        const { creator, partners, body } = await flow.world();
        const dying = await startSecondHost(app, dyingAtWrite(write));
        try {
          const crashed = await dying.api('POST', '/api/me/customers', {
            token: await dying.token({ tenant: creator.partnerId, roles: ['GlobalAdmin'] }),
            body,
          });
          expect(crashed.status).toBe(500);
        } finally {
          await dying.close({ keepDatabase: true });
        }
        const retried = await app.api('POST', '/api/me/customers', {
          token: creator.adminToken,
          body,
        });
        expect(retried.status, retried.text).toBe(201);
        const customerId = retried.body.customerId as string;
        const customers = await app.query(
          'customers',
          `SELECT * FROM c WHERE c.type = 'customer' AND c.domain = '${body.domain}'`,
        );
        expect(customers.map((customer) => customer.customerId)).toEqual([customerId]);
        for (const partnerId of partners) {
          const relationships = await app.documents(partnerId, 'customer-relationship');
          expect(
            relationships.map((r) => r.customerId),
            partnerId,
          ).toEqual([customerId]);
          const events = (await app.documents(partnerId, 'event')).filter(
            (event) => event.eventType === 'customer.created',
          );
          expect(events, partnerId).toHaveLength(1);
        }
        // Done: the same request again is now the domain taken by a customer (409).
        const again = await app.api('POST', '/api/me/customers', {
          token: creator.adminToken,
          body,
        });
        expect(again.status).toBe(409);
      });
    }
  }
});

describe('who may create customer tenants', () => {
  it('lets a direct-bill partner not enrolled create a direct-bill customer', async () => {
    const { created } = await directCustomer(app, { companyName: 'Direct Co' });
    expect(created).toMatchObject({
      relationship: 'direct-bill',
      acquiredAs: 'direct-bill',
      delegatedAdmin: true,
      allowedActions: [
        'place-orders',
        'manage-azure-reservations',
        'view-order-history',
        'buy-software',
        'bill-customer',
        'manage-users-and-licenses',
        'manage-subscription-renewal',
      ],
    });
  });

  it('refuses an enrolled partner with no-new-direct-customers', async () => {
    for (const partner of [await approvedPartner(app), await activeReseller(app)]) {
      const response = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('no-new-direct-customers');
      expect(response.body.detail).toContain('indirect provider');
    }
  });

  it('refuses an indirect reseller without provider rights with provider-creates-tenants', async () => {
    const { partnerId } = await createPartner(app, { programs: { directBill: false } });
    const response = await app.api('POST', '/api/me/customers', {
      token: await app.token({ tenant: partnerId, roles: ['GlobalAdmin'] }),
      body: newCustomer(),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('provider-creates-tenants');
    expect(response.body.detail).toContain('its indirect provider creates them');
  });

  it('refuses a SalesAgent with 403', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('POST', '/api/me/customers', {
      token: await app.token({ tenant: partner.partnerId, roles: ['SalesAgent'] }),
      body: newCustomer(),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
  });
});

/** Exercises one action through its HTTP route; answers the status and, for orders, who bills. */
type Probe = (
  token: string,
  customerId: string,
) => Promise<{ status: number; code?: string; detail?: string; billedBy?: string }>;

async function licenseSubscription(customerId: string, token: string): Promise<string> {
  const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
    token,
    body: {
      lineItems: [{ offerId: 'm365-business-premium', productType: 'license', quantity: 2 }],
    },
  });
  return order.body.lineItems[0].subscriptionId;
}

const order =
  (productType: string): Probe =>
  async (token, customerId) => {
    const response = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token,
      body: { lineItems: [{ offerId: `offer-${productType}`, productType, quantity: 1 }] },
    });
    return {
      status: response.status,
      code: response.body.code,
      detail: response.body.detail,
      billedBy: response.body.billedBy,
    };
  };

const probes: Record<CustomerAction, Probe> = {
  'place-orders': order('license'),
  'manage-azure-reservations': order('azure-reservation'),
  'buy-software': order('software'),
  'bill-customer': order('azure-plan'),
  'view-order-history': async (token, customerId) => {
    const response = await app.api('GET', `/api/me/customers/${customerId}/orders`, { token });
    return { status: response.status, code: response.body.code, detail: response.body.detail };
  },
  'manage-users-and-licenses': async (token, customerId) => {
    const response = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token,
      body: {
        displayName: 'Ada',
        userPrincipalName: `ada.${crypto.randomUUID().slice(0, 8)}@wingtip.example`,
      },
    });
    return { status: response.status, code: response.body.code, detail: response.body.detail };
  },
  'manage-subscription-renewal': async (token, customerId) => {
    const list = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, { token });
    const subscription = list.body.items[0];
    const response = await app.api(
      'PATCH',
      `/api/me/customers/${customerId}/subscriptions/${subscription.subscriptionId}`,
      {
        token,
        body: { autoRenew: false },
      },
    );
    return { status: response.status, code: response.body.code, detail: response.body.detail };
  },
};

/**
 * docs/rules.md section 9, copied (not read from the code's policyTable): direct-bill customer |
 * indirect-reseller customer (reseller's view) | indirect customer (provider's view).
 */
const domainTable: Record<CustomerAction, [boolean, boolean, boolean]> = {
  'place-orders': [true, false, true],
  'manage-azure-reservations': [true, false, false],
  'view-order-history': [true, false, true],
  'buy-software': [true, false, false],
  'bill-customer': [true, false, true],
  'manage-users-and-licenses': [true, true, false],
  'manage-subscription-renewal': [true, true, false],
};

describe('actions per relationship: every cell of the table through the HTTP routes', () => {
  const viewpoints: Relationship[] = ['direct-bill', 'indirect-reseller', 'indirect-provider'];
  let setup: Record<
    Relationship,
    { token: string; customerId: string; partnerId: string; counterpart: string | null }
  >;

  beforeAll(async () => {
    const direct = await directCustomer(app);
    const indirect = await indirectCustomer(app);
    // Subscriptions to act on: the direct partner's own, and one the provider ordered.
    await licenseSubscription(direct.customerId, direct.partner.adminToken);
    await licenseSubscription(indirect.customerId, indirect.provider.adminToken);
    setup = {
      'direct-bill': {
        token: direct.partner.adminToken,
        customerId: direct.customerId,
        partnerId: direct.partner.partnerId,
        counterpart: null,
      },
      'indirect-reseller': {
        token: indirect.reseller.adminToken,
        customerId: indirect.customerId,
        partnerId: indirect.reseller.partnerId,
        counterpart: 'Adatum Distribution',
      },
      'indirect-provider': {
        token: indirect.provider.adminToken,
        customerId: indirect.customerId,
        partnerId: indirect.provider.partnerId,
        counterpart: indirect.reseller.record.companyName,
      },
    };
  });

  for (const viewpoint of viewpoints) {
    for (const action of Object.keys(domainTable) as CustomerAction[]) {
      const allowed = domainTable[action][viewpoints.indexOf(viewpoint)]!;
      it(`${viewpoint}: ${action} is ${allowed ? 'allowed' : 'refused'}`, async () => {
        const { token, customerId, partnerId, counterpart } = setup[viewpoint];
        const result = await probes[action](token, customerId);
        if (allowed) {
          expect(result.status).toBeLessThan(300);
          if (result.billedBy !== undefined) expect(result.billedBy).toBe(partnerId);
        } else {
          expect(result.status).toBe(403);
          expect(result.code).toBe('action-not-allowed');
          const otherCan =
            (viewpoint === 'indirect-reseller' && domainTable[action][2]) ||
            (viewpoint === 'indirect-provider' && domainTable[action][1]);
          if (otherCan) expect(result.detail).toContain(counterpart!);
          else expect(result.detail).toContain('only a direct-bill partner');
        }
      });
    }
  }

  it('shows the reseller the subscriptions its provider ordered, billed by the provider', async () => {
    const { token, customerId } = setup['indirect-reseller'];
    const list = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, { token });
    expect(list.status).toBe(200);
    expect(list.body.items.length).toBeGreaterThan(0);
    for (const subscription of list.body.items)
      expect(subscription.billedBy).toBe(setup['indirect-provider'].partnerId);
  });
});

describe('users, licenses and subscriptions', () => {
  it("lets only users managers read a customer's users, as only they add and remove them", async () => {
    const { partner, customerId } = await directCustomer(app);
    const created = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token: partner.adminToken,
      body: { displayName: 'Hidden', userPrincipalName: 'hidden@wingtip.example' },
    });
    expect(created.status).toBe(201);
    const path = `/api/me/customers/${customerId}/users`;
    for (const roles of [['SalesAgent'], []]) {
      const token = await app.token({ tenant: partner.partnerId, roles });
      const read = await app.api('GET', path, { token });
      expect(read.status).toBe(403);
      expect(read.text).not.toContain('hidden@wingtip.example');
    }
    const agent = await app.token({ tenant: partner.partnerId, roles: ['AdminAgent'] });
    expect((await app.api('GET', path, { token: agent })).body.items).toHaveLength(1);
  });

  it('assigns a license only from a subscription with a free seat, and frees it with the user', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const subscriptionId = await licenseSubscription(customerId, token);
    const users = [];
    for (const name of ['ada', 'grace', 'alan']) {
      const created = await app.api('POST', `/api/me/customers/${customerId}/users`, {
        token,
        body: { displayName: name, userPrincipalName: `${name}@wingtip.example` },
      });
      expect(created.status).toBe(201);
      users.push(created.body.userId);
    }
    const duplicate = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token,
      body: { displayName: 'Ada again', userPrincipalName: 'ADA@wingtip.example' },
    });
    expect(duplicate.status).toBe(409);

    const assign = (userId: string) =>
      app.api(
        'POST',
        `/api/me/customers/${customerId}/users/${userId}/licenses/${subscriptionId}`,
        { token },
      );
    expect((await assign(users[0]!)).body.licenses).toEqual([subscriptionId]);
    expect((await assign(users[1]!)).status).toBe(200);
    const full = await assign(users[2]!);
    expect(full.status).toBe(409);
    expect(full.body.detail).toContain('All 2 licenses');

    const lower = await app.api(
      'PATCH',
      `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`,
      { token, body: { quantity: 1 } },
    );
    expect(lower.status).toBe(409);

    expect(
      (await app.api('DELETE', `/api/me/customers/${customerId}/users/${users[0]}`, { token }))
        .status,
    ).toBe(204);
    expect((await assign(users[2]!)).status).toBe(200);
    const subscriptions = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, {
      token,
    });
    expect(
      subscriptions.body.items.find(
        (item: { subscriptionId: string }) => item.subscriptionId === subscriptionId,
      ).assignedLicenses,
    ).toBe(2);

    const removed = await app.api(
      'DELETE',
      `/api/me/customers/${customerId}/users/${users[1]}/licenses/${subscriptionId}`,
      { token },
    );
    expect(removed.body.licenses).toEqual([]);
  });

  it('deletes a user holding 150 licenses, every seat given back, no batch over 100 operations', async () => {
    const batches: number[] = [];
    const own = await startTestApp({
      decorate: (services) => ({
        ...services,
        customers: override(services.customers, {
          commit: (customerId, operations) => {
            batches.push(operations.length);
            return services.customers.commit(customerId, operations);
          },
        }),
      }),
    });
    try {
      const { partner, customerId } = await directCustomer(own);
      const token = partner.adminToken;
      const subscriptionIds: string[] = [];
      for (let order = 0; order < 3; order += 1) {
        const placed = await own.api('POST', `/api/me/customers/${customerId}/orders`, {
          token,
          body: {
            lineItems: Array.from({ length: 50 }, (_, item) => ({
              offerId: `m365-${order}-${item}`,
              productType: 'license',
              quantity: 1,
            })),
          },
        });
        expect(placed.status, placed.text).toBe(201);
        subscriptionIds.push(
          ...placed.body.lineItems.map((item: { subscriptionId: string }) => item.subscriptionId),
        );
      }
      const user = await own.api('POST', `/api/me/customers/${customerId}/users`, {
        token,
        body: { displayName: 'Ada', userPrincipalName: 'ada@wingtip.example' },
      });
      const userPath = `/api/me/customers/${customerId}/users/${user.body.userId}`;
      for (const subscriptionId of subscriptionIds) {
        const assigned = await own.api('POST', `${userPath}/licenses/${subscriptionId}`, { token });
        expect(assigned.status).toBe(200);
      }
      batches.length = 0;
      const deleted = await own.api('DELETE', userPath, { token });
      expect(deleted.status, deleted.text).toBe(204);
      expect(batches.length).toBe(2);
      expect(Math.max(...batches)).toBeLessThanOrEqual(100);
      const seats = await own.query<number>(
        'customers',
        `SELECT VALUE c.assignedLicenses FROM c WHERE c.customerId = '${customerId}' AND c.type = 'subscription'`,
      );
      expect(seats).toEqual(subscriptionIds.map(() => 0));
      const users = await own.api('GET', `/api/me/customers/${customerId}/users`, { token });
      expect(users.body.items).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('refuses to assign a license from an Azure plan', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token,
      body: { lineItems: [{ offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 }] },
    });
    const user = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token,
      body: { displayName: 'Ada', userPrincipalName: 'ada@wingtip.example' },
    });
    const response = await app.api(
      'POST',
      `/api/me/customers/${customerId}/users/${user.body.userId}/licenses/${order.body.lineItems[0].subscriptionId}`,
      { token },
    );
    expect(response.status).toBe(409);
  });

  /** A second host whose next read of a customer's document waits, after it, for the test. */
  async function holding(documentId: string) {
    const held = gate();
    let armed = true;
    const host = await startSecondHost(app, (services) => ({
      ...services,
      customers: override(services.customers, {
        getDocument: (async (customerId: string, id: string) => {
          const found = await services.customers.getDocument(customerId, id);
          if (armed && id === documentId) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.customers.getDocument,
      }),
    }));
    return { host, held };
  }

  it('gives the last seat to one user when another assignment read the subscription before it was taken (409)', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const subscriptionId = await licenseSubscription(customerId, token); // two seats
    const users: string[] = [];
    for (const name of ['ada', 'grace', 'alan']) {
      const created = await app.api('POST', `/api/me/customers/${customerId}/users`, {
        token,
        body: { displayName: name, userPrincipalName: `${name}@seats.example` },
      });
      users.push(created.body.userId as string);
    }
    const assign = (host: TestApp, userId: string) =>
      host.api(
        'POST',
        `/api/me/customers/${customerId}/users/${userId}/licenses/${subscriptionId}`,
        {
          token,
        },
      );
    expect((await assign(app, users[0]!)).status).toBe(200);
    const slow = await holding(subscriptionDocumentId(subscriptionId));
    try {
      const late = assign(slow.host, users[2]!); // reads one seat free, then waits
      await slow.held.reached;
      expect((await assign(app, users[1]!)).status).toBe(200); // takes it
      slow.held.open();
      const refused = await late;
      expect(refused.status).toBe(409);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const subscriptions = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, {
      token,
    });
    const seats = subscriptions.body.items.find(
      (item: { subscriptionId: string }) => item.subscriptionId === subscriptionId,
    );
    expect(seats).toMatchObject({ quantity: 2, assignedLicenses: 2 });
    const listed = await app.api('GET', `/api/me/customers/${customerId}/users`, { token });
    const holders = (listed.body.items as { licenses: string[] }[]).filter((user) =>
      user.licenses.includes(subscriptionId),
    );
    expect(holders).toHaveLength(2);
  });

  it('keeps both licenses of a user given two at once: an assignment that read the user before the other was written gets 409', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const first = await licenseSubscription(customerId, token);
    const second = await licenseSubscription(customerId, token);
    const created = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token,
      body: { displayName: 'Ada', userPrincipalName: 'ada@two-licenses.example' },
    });
    const userId = created.body.userId as string;
    const assign = (host: TestApp, subscriptionId: string) =>
      host.api(
        'POST',
        `/api/me/customers/${customerId}/users/${userId}/licenses/${subscriptionId}`,
        {
          token,
        },
      );
    const slow = await holding(userDocumentId(userId));
    try {
      const late = assign(slow.host, second); // reads the user without licenses, then waits
      await slow.held.reached;
      expect((await assign(app, first)).status).toBe(200);
      slow.held.open();
      expect((await late).status).toBe(409);
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    // What the user holds and what the subscriptions count agree.
    const users = await app.api('GET', `/api/me/customers/${customerId}/users`, { token });
    expect(users.body.items[0].licenses).toEqual([first]);
    const listed = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, { token });
    const assigned = Object.fromEntries(
      (listed.body.items as { subscriptionId: string; assignedLicenses: number }[]).map((item) => [
        item.subscriptionId,
        item.assignedLicenses,
      ]),
    );
    expect(assigned).toEqual({ [first]: 1, [second]: 0 });
  });

  it('refuses with 412 a subscription change that read it before another change was written, If-Match or not', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const subscriptionId = await licenseSubscription(customerId, token);
    const path = `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`;
    const slow = await holding(subscriptionDocumentId(subscriptionId));
    try {
      const late = slow.host.api('PATCH', path, { token, body: { autoRenew: false } });
      await slow.held.reached;
      expect((await app.api('PATCH', path, { token, body: { quantity: 5 } })).status).toBe(200);
      slow.held.open();
      const refused = await late;
      expect(refused.status).toBe(412);
      expect(refused.body.code).toBe('precondition-failed');
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    const listed = await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, { token });
    const subscription = listed.body.items.find(
      (item: { subscriptionId: string }) => item.subscriptionId === subscriptionId,
    );
    // The quantity bought is not lost to the stale change.
    expect(subscription).toMatchObject({ quantity: 5, autoRenew: true });
  });

  it('honours If-Match on a subscription change', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const subscriptionId = await licenseSubscription(customerId, token);
    const before = (
      await app.api('GET', `/api/me/customers/${customerId}/subscriptions`, { token })
    ).body.items[0];
    const first = await app.api(
      'PATCH',
      `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`,
      {
        token,
        body: { quantity: 5 },
        headers: { 'if-match': before.etag },
      },
    );
    expect(first.status).toBe(200);
    expect(first.body.quantity).toBe(5);
    const stale = await app.api(
      'PATCH',
      `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`,
      {
        token,
        body: { autoRenew: false },
        headers: { 'if-match': before.etag },
      },
    );
    expect(stale.status).toBe(412);
  });
});

describe('isolation', () => {
  it('answers 404 on every customer route to a partner without a relationship, whatever its roles', async () => {
    const { customerId, provider, reseller } = await indirectCustomer(app);
    // Real ids of this customer's subscription and user, so that a route skipping the
    // relationship check would find them instead of answering 404 for an unknown id.
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: provider.adminToken,
      body: {
        lineItems: [{ offerId: 'm365-business-premium', productType: 'license', quantity: 3 }],
      },
    });
    expect(order.status).toBe(201);
    const subscriptionId: string = order.body.lineItems[0].subscriptionId;
    const user = await app.api('POST', `/api/me/customers/${customerId}/users`, {
      token: reseller.adminToken,
      body: { displayName: 'Ada', userPrincipalName: 'ada@wingtip.example' },
    });
    expect(user.status).toBe(201);
    const userId: string = user.body.userId;
    const third = await createPartnerWithProfile(app);
    const routes = httpFunctions().filter((definition) =>
      definition.route.startsWith('me/customers/{customerId}'),
    );
    expect(routes.length).toBeGreaterThanOrEqual(8);
    for (const roles of [['GlobalAdmin'], ['AdminAgent'], ['SalesAgent']]) {
      const token = await app.token({ tenant: third.partnerId, roles });
      for (const definition of routes) {
        const path = definition.route
          .replace('{customerId}', customerId)
          .replace('{subscriptionId}', subscriptionId)
          .replace('{userId}', userId);
        for (const method of definition.methods) {
          const body =
            method === 'POST' || method === 'PATCH' ? bodyFor(definition.route) : undefined;
          // A route whose query names a provider gets one, so the rule answers, not validation.
          const query =
            !definition.spec.query || definition.spec.query.safeParse({}).success
              ? ''
              : `?providerId=${crypto.randomUUID()}`;
          const response = await app.api(method, `/api/${path}${query}`, { token, body });
          const allowedStatuses =
            definition.access.kind === 'signed-in' &&
            definition.access.roles &&
            !definition.access.roles.some((role) => roles.includes(role))
              ? [403, 404]
              : [404];
          expect(
            allowedStatuses,
            `${roles} ${method} ${definition.route} answered ${response.status} ${response.text}`,
          ).toContain(response.status);
          expect(response.text).not.toContain('Wingtip');
        }
      }
    }
    const users = await app.api('GET', `/api/me/customers/${customerId}/users`, {
      token: reseller.adminToken,
    });
    expect(users.body.items).toEqual([expect.objectContaining({ userId, licenses: [] })]);
  });
});

function bodyFor(route: string): unknown {
  if (route.endsWith('/orders'))
    return { lineItems: [{ offerId: 'o', productType: 'license', quantity: 1 }] };
  if (route.endsWith('/users')) return { displayName: 'x', userPrincipalName: 'x@y.example' };
  if (route.includes('/subscriptions/')) return { autoRenew: false };
  if (route.endsWith('/relationship-extension'))
    return { providerId: crypto.randomUUID(), customerConsentAttested: true };
  if (route.endsWith('/transfers'))
    return {
      providerId: crypto.randomUUID(),
      lineItems: [{ subscriptionId: crypto.randomUUID() }],
    };
  return {};
}

describe('customer lists', () => {
  it('page through 1,000 customers completely, with no duplicates or gaps, in name order', async () => {
    const { partnerId, adminToken } = await createPartnerWithProfile(app);
    const now = app.clock.now().toISOString();
    const names = Array.from(
      { length: 1000 },
      (_, index) => `Customer ${String(index).padStart(4, '0')}`,
    );
    const ids = names.map(() => crypto.randomUUID());
    // Seeded straight into the partner's partition: the list is what is under test.
    for (let start = 0; start < names.length; start += 50) {
      await Promise.all(
        names.slice(start, start + 50).map((companyName, offset) =>
          app.services.partners.commit(partnerId, [
            {
              op: 'create',
              document: relationshipFor(
                partnerId,
                {
                  customerId: ids[start + offset]!,
                  companyName,
                  domain: `c${start + offset}.example`,
                  country: 'US',
                },
                start + offset < 500 ? 'direct-bill' : 'indirect-reseller',
                { acquiredAs: 'direct-bill', delegatedAdmin: true, at: now, reason: 'seed' },
              ),
            },
          ]),
        ),
      );
    }
    const seen: string[] = [];
    let continuationToken: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/me/customers?pageSize=100${continuationToken ? `&continuationToken=${encodeURIComponent(continuationToken)}` : ''}`;
      const page = await app.api('GET', query, { token: adminToken });
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((item: { companyName: string }) => item.companyName));
      continuationToken = page.body.continuationToken;
      pages += 1;
    } while (continuationToken && pages < 20);
    expect(seen).toEqual(names);
    expect(new Set(seen).size).toBe(1000);
    expect(pages).toBe(10);

    const direct = await app.api('GET', '/api/me/customers?relationship=direct-bill&pageSize=100', {
      token: adminToken,
    });
    expect(
      direct.body.items.every(
        (item: { relationship: string }) => item.relationship === 'direct-bill',
      ),
    ).toBe(true);
    expect(direct.body.items[0].companyName).toBe('Customer 0000');
  });
});
