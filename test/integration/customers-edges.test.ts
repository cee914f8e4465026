import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainClaim } from '../../shared/domain/customers';
import { customerDomainClaimId, domainClaimPartition } from '../../shared/domain/customers';
import { WriteConflict } from '../../shared/app/ports';
import {
  dyingAtWrite,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { directCustomer, newCustomer } from '../support/customers';
import { createProvider, partnership, tokenOf } from '../support/providers';

// What a partner reads back when it creates a customer tenant, or asks for one it has no
// relationship with (docs/rules.md sections 4 and 7, docs/api.md Customers): the words of each
// refusal, the activity log's entry, and a creation whose writes fail or race another's.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('a customer the partner has no relationship with', () => {
  it('is answered 404 naming the customer, without saying whether it exists', async () => {
    const { partner } = await directCustomer(app);
    const unknown = await app.api('GET', `/api/me/customers/${randomUUID()}`, {
      token: partner.adminToken,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('not-found');
    expect(unknown.body.detail).toMatch(/^The customer /);
  });
});

describe('the words of a refused creation', () => {
  it("names the domain another customer tenant has taken in the 409's detail", async () => {
    const { created } = await directCustomer(app);
    const other = await createPartnerWithProfile(app);
    const taken = await app.api('POST', '/api/me/customers', {
      token: other.adminToken,
      body: newCustomer({ domain: created.domain }),
    });
    expect(taken.status).toBe(409);
    expect(taken.body.code).toBe('conflict');
    expect(taken.body.detail).toContain(created.domain);
    expect(taken.body.detail).toContain('already taken');
  });

  it('tells a provider that leaves out the reseller to name it, at body.indirectResellerId', async () => {
    const provider = await createProvider(app);
    const missing = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer(),
    });
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe('validation-failed');
    expect(missing.body.errors).toEqual([
      { path: 'body.indirectResellerId', message: expect.stringContaining('reseller') },
    ]);
  });

  it('tells a direct-bill partner that names a reseller that only an indirect provider does, at body.indirectResellerId', async () => {
    const partner = await createPartnerWithProfile(app);
    const { reseller } = await partnership(app);
    const named = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer({ indirectResellerId: reseller.partnerId }),
    });
    expect(named.status).toBe(400);
    expect(named.body.code).toBe('validation-failed');
    expect(named.body.errors).toEqual([
      { path: 'body.indirectResellerId', message: expect.stringContaining('provider') },
    ]);
    expect(
      (await app.api('GET', '/api/me/customers', { token: partner.adminToken })).body.items,
    ).toEqual([]);
  });
});

describe("a created customer in the partner's activity log", () => {
  it('is one customer-added entry naming the customer id and company', async () => {
    const { partner, customerId } = await directCustomer(app, { companyName: 'Fourth Coffee' });
    const activity = await app.api('GET', '/api/me/activity?pageSize=100', {
      token: partner.adminToken,
    });
    expect(activity.status).toBe(200);
    const added = (activity.body.items as { action: string; reason: string | null }[]).filter(
      (item) => item.action === 'customer-added',
    );
    expect(added.map((item) => item.reason)).toEqual([
      expect.stringMatching(new RegExp(`${customerId}.*Fourth Coffee`)),
    ]);
  });
});

describe('a creation whose customer write fails for another reason than a conflict', () => {
  it('fails without writing a relationship to a customer that does not exist, and a retry completes it', async () => {
    const partner = await createPartnerWithProfile(app);
    const body = newCustomer();
    let failures = 1;
    const failing = await startSecondHost(app, (services) => ({
      ...services,
      customers: override(services.customers, {
        commit: async (customerId, operations) => {
          if (failures > 0) {
            failures -= 1;
            throw new Error('the customers container is unavailable');
          }
          return services.customers.commit(customerId, operations);
        },
      }),
    }));
    try {
      const failed = await failing.api('POST', '/api/me/customers', {
        token: await failing.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] }),
        body,
      });
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      await failing.close({ keepDatabase: true });
    }
    expect(
      (await app.api('GET', '/api/me/customers', { token: partner.adminToken })).body.items,
    ).toEqual([]);
    const retried = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body,
    });
    expect(retried.status, retried.text).toBe(201);
    const listed = await app.api('GET', '/api/me/customers', { token: partner.adminToken });
    expect(listed.body.items.map((item: { customerId: string }) => item.customerId)).toEqual([
      retried.body.customerId,
    ]);
  });
});

describe('two partners claiming one domain at the same moment', () => {
  it('answers the one whose claim lost the race 409 naming the domain, and writes it no customer', async () => {
    const winner = await createPartnerWithProfile(app);
    const loser = await createPartnerWithProfile(app);
    const domain = newCustomer().domain;
    // The winner's claim lands between the loser's read of the claim and its write.
    let raced = false;
    const racing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: (async (
          partition: string,
          operations: Parameters<typeof services.partners.commit>[1],
        ) => {
          if (!raced && partition === domainClaimPartition(domain)) {
            raced = true;
            const claim: DomainClaim = {
              type: 'domain-claim',
              id: customerDomainClaimId(domain),
              partnerId: domainClaimPartition(domain),
              domain,
              customerId: randomUUID(),
              claimedBy: winner.partnerId,
              claimedAt: services.clock.now().toISOString(),
            };
            await services.partners.commit(partition, [{ op: 'create', document: claim }]);
          }
          return services.partners.commit(partition, operations);
        }) as typeof services.partners.commit,
      }),
    }));
    try {
      const lost = await racing.api('POST', '/api/me/customers', {
        token: await racing.token({ tenant: loser.partnerId, roles: ['GlobalAdmin'] }),
        body: newCustomer({ domain }),
      });
      expect(raced).toBe(true);
      expect(lost.status).toBe(409);
      expect(lost.body.code).toBe('conflict');
      expect(lost.body.detail).toContain(domain);
    } finally {
      await racing.close({ keepDatabase: true });
    }
    expect(
      (await app.api('GET', '/api/me/customers', { token: loser.adminToken })).body.items,
    ).toEqual([]);
  });
});

describe('a customer tenant whose first acceptance died after claiming its domain', () => {
  const draft = async (pair: Awaited<ReturnType<typeof partnership>>) => {
    const drafted = await app.api('POST', '/api/me/customer-invitations', {
      token: pair.reseller.adminToken,
      body: { providerId: pair.provider.partnerId },
    });
    expect(drafted.status, drafted.text).toBe(201);
    return drafted.body.link as string;
  };

  it("keeps its own domain when it accepts another reseller's invitation: the claim is its own", async () => {
    const [first, second] = [await partnership(app), await partnership(app)];
    const [firstLink, secondLink] = [await draft(first), await draft(second)];
    const customerId = randomUUID();
    const details = { companyName: 'Tailspin Toys', domain: newCustomer().domain, country: 'US' };
    // Dies at its second write: the domain is claimed, the customer not yet written.
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const crashed = await dying.api('POST', '/api/customer-invitations/accept', {
        token: await dying.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
        body: { token: tokenOf(firstLink), ...details },
      });
      expect(crashed.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const accepted = await app.api('POST', '/api/customer-invitations/accept', {
      token: await app.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
      body: { token: tokenOf(secondLink), ...details },
    });
    expect(accepted.status, accepted.text).toBe(200);
    const listed = await app.api('GET', '/api/me/customers', { token: second.reseller.adminToken });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ customerId, domain: details.domain }),
    ]);
  });
});

describe("a created customer's relationship history", () => {
  const historyOf = async (partnerId: string, customerId: string) =>
    (
      (await app.documents(partnerId, 'customer-relationship')).find(
        (relationship: { customerId: string }) => relationship.customerId === customerId,
      ) as { history: { from: string | null; to: string; reason: string }[] }
    ).history;

  it('starts with one entry saying the partner created it', async () => {
    const { partner, customerId } = await directCustomer(app);
    expect(await historyOf(partner.partnerId, customerId)).toEqual([
      expect.objectContaining({
        from: null,
        to: 'direct-bill',
        reason: expect.stringMatching(/^created by the partner/),
      }),
    ]);
  });

  it("says on the provider's side which reseller it was created for, and on the reseller's which provider created it", async () => {
    const { provider, reseller } = await partnership(app);
    const created = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer({ indirectResellerId: reseller.partnerId }),
    });
    expect(created.status).toBe(201);
    const customerId = created.body.customerId as string;
    const resellerName = created.body.indirectReseller.companyName as string;
    const providerName = (
      await app.api('GET', `/api/me/customers/${customerId}`, { token: reseller.adminToken })
    ).body.indirectProvider.companyName as string;
    expect(await historyOf(provider.partnerId, customerId)).toEqual([
      expect.objectContaining({
        from: null,
        to: 'indirect-provider',
        reason: expect.stringMatching(new RegExp(`^created by the provider for ${resellerName}$`)),
      }),
    ]);
    expect(await historyOf(reseller.partnerId, customerId)).toEqual([
      expect.objectContaining({
        from: null,
        to: 'indirect-reseller',
        reason: expect.stringMatching(new RegExp(`^created by ${providerName}$`)),
      }),
    ]);
  });
});

describe('a creation whose create is refused for another reason than the document existing', () => {
  it.each(['domain claim', 'customer'] as const)(
    'is not taken for a race when its %s is refused: no customer comes of it, and a retry creates it',
    async (refused) => {
      const partner = await createPartnerWithProfile(app);
      const body = newCustomer();
      let refusals = 1;
      const refuseOnce = () => {
        if (refusals === 0) return;
        refusals -= 1;
        throw new WriteConflict('missing', 0);
      };
      const refusing = await startSecondHost(app, (services) => ({
        ...services,
        partners: override(services.partners, {
          commit: (async (
            partition: string,
            operations: Parameters<typeof services.partners.commit>[1],
          ) => {
            if (refused === 'domain claim' && partition === domainClaimPartition(body.domain))
              refuseOnce();
            return services.partners.commit(partition, operations);
          }) as typeof services.partners.commit,
        }),
        customers: override(services.customers, {
          commit: async (customerId, operations) => {
            if (refused === 'customer') refuseOnce();
            return services.customers.commit(customerId, operations);
          },
        }),
      }));
      try {
        const answered = await refusing.api('POST', '/api/me/customers', {
          token: await refusing.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] }),
          body,
        });
        expect(refusals).toBe(0);
        expect(answered.status).not.toBe(201);
      } finally {
        await refusing.close({ keepDatabase: true });
      }
      expect(
        (await app.api('GET', '/api/me/customers', { token: partner.adminToken })).body.items,
      ).toEqual([]);
      const retried = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body,
      });
      expect(retried.status, retried.text).toBe(201);
    },
  );
});
