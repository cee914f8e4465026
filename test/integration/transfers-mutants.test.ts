import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../shared/app/ports';
import { transferDocumentId } from '../../shared/domain/transfers';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import {
  extendedCustomer,
  pendingTransfer,
  requestTransfer,
  resellerWithDirectCustomer,
} from '../support/transfers';

// What partners and operators see of the transfer rules that the other transfer tests leave
// unproven (docs/rules.md section 8b, docs/api.md Transfers): the field a refusal names, whose
// relationship with the customer a transfer needs, the date the operators' stuck list gives a
// reseller waiting on its provider, a transfer another partner asks for, an expiry the
// expireTransfers timer could not write, and a request withdrawn while the partnership ended.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('a provider the reseller is not in partnership with', () => {
  it('is named under query.providerId when the reseller asks which subscriptions could move to it: 400', async () => {
    const world = await extendedCustomer(app);
    const stranger = await createProvider(app, { companyName: 'Stranger Supply' });
    const response = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${stranger.partnerId}`,
      { token: world.reseller.adminToken },
    );
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation-failed');
    expect(response.body.errors).toEqual([
      { path: 'query.providerId', message: 'is not one of your indirect providers' },
    ]);
  });

  it('is named under body.providerId when the reseller asks it to take over subscriptions: 400, nothing requested', async () => {
    const world = await extendedCustomer(app);
    const stranger = await createProvider(app, { companyName: 'Stranger Supply' });
    const response = await app.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
      token: world.reseller.adminToken,
      body: {
        providerId: stranger.partnerId,
        lineItems: [{ subscriptionId: world.subscriptions.e3 }],
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation-failed');
    expect(response.body.errors).toEqual([
      { path: 'body.providerId', message: 'is not one of your indirect providers' },
    ]);
    expect(await app.documents(world.reseller.partnerId, 'transfer')).toEqual([]);
  });
});

/**
 * Wingtip Toys, Fourth Coffee IT's direct-bill customer, also accepted another reseller's
 * invitation with the same provider: the provider's relationship with it is that reseller's.
 */
async function servedThroughAnotherReseller() {
  const world = await resellerWithDirectCustomer(app);
  const other = await activeReseller(app, { companyName: 'Litware Reselling' });
  const invited = await inviteReseller(app, world.provider, other);
  expect(invited.status).toBe(201);
  const partnered = await app.api('POST', '/api/partner-invitations/accept', {
    token: other.adminToken,
    body: { token: tokenOf(invited.body.link) },
  });
  expect(partnered.status).toBe(200);
  const invitation = await app.api('POST', '/api/me/customer-invitations', {
    token: other.adminToken,
    body: { providerId: world.provider.partnerId },
  });
  expect(invitation.status).toBe(201);
  const joined = await app.api('POST', '/api/customer-invitations/accept', {
    token: await app.token({ tenant: world.customerId, roles: ['GlobalAdmin'] }),
    body: { token: tokenOf(invitation.body.link) },
  });
  expect(joined.status, joined.text).toBe(200);
  return { world, other };
}

/** The provider's name, as test/support/providers.ts creates it. */
const providerName = 'Adatum Distribution';

/** The provider's view of the customer: whose indirect customer it is. */
async function providerView(world: Awaited<ReturnType<typeof resellerWithDirectCustomer>>) {
  const seen = await app.api('GET', `/api/me/customers/${world.customerId}`, {
    token: world.provider.adminToken,
  });
  expect(seen.status).toBe(200);
  return seen.body;
}

describe('a customer the provider serves through another reseller', () => {
  it('is refused 403 relationship-required: the provider takes over only from the reseller that extended the customer to it, and nothing is requested', async () => {
    const { world, other } = await servedThroughAnotherReseller();
    expect(await providerView(world)).toMatchObject({
      relationship: 'indirect-provider',
      indirectReseller: { partnerId: other.partnerId },
    });

    const response = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('relationship-required');
    // Not "extend it first": the extension is refused too (below).
    expect(response.body.detail).toBe(
      `${providerName} serves Wingtip Toys through another reseller, not through you: it takes over subscriptions only from the reseller it serves the customer through.`,
    );
    expect(await app.documents(world.reseller.partnerId, 'transfer')).toEqual([]);
    expect(await app.documents(world.provider.partnerId, 'transfer')).toEqual([]);
    const eligibility = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${world.provider.partnerId}`,
      { token: world.reseller.adminToken },
    );
    expect(
      eligibility.body.ineligible.filter(
        (item: { reason: string }) => item.reason === 'in-open-transfer',
      ),
    ).toEqual([]);
  });

  it("cannot be extended to that provider: 409, the reseller's customer left in direct bill and the provider's relationship left the other reseller's", async () => {
    const { world, other } = await servedThroughAnotherReseller();
    const before = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    const transitionBefore = await app.api('GET', '/api/me/transition', {
      token: world.reseller.adminToken,
    });
    const eventsBefore = await app.documents(world.reseller.partnerId, 'event');
    const auditBefore = await app.documents(world.reseller.partnerId, 'audit');

    const response = await app.api(
      'POST',
      `/api/me/customers/${world.customerId}/relationship-extension`,
      {
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId, customerConsentAttested: true },
      },
    );
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('conflict');
    expect(response.body.detail).toBe(
      `Wingtip Toys is already a customer of ${providerName} through another reseller: a provider takes each customer through one reseller, so it cannot be extended to ${providerName} from your side.`,
    );
    // Nothing changed on either side: no relationship, count, audit entry or event written.
    const after = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(after.body).toEqual(before.body);
    expect(after.body.relationship).toBe('direct-bill');
    expect(await providerView(world)).toMatchObject({
      indirectReseller: { partnerId: other.partnerId },
    });
    const transitionAfter = await app.api('GET', '/api/me/transition', {
      token: world.reseller.adminToken,
    });
    expect(transitionAfter.body).toEqual(transitionBefore.body);
    expect(await app.documents(world.reseller.partnerId, 'event')).toEqual(eventsBefore);
    expect(await app.documents(world.reseller.partnerId, 'audit')).toEqual(auditBefore);
  });
});

describe("the operators' stuck list", () => {
  it('dates a reseller waiting on its provider from its transfer request, not from when its counts began', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await extendedCustomer(isolated);
      isolated.clock.advance({ days: 10 });
      const requestedAt = isolated.clock.now().toISOString();
      const requested = await requestTransfer(isolated, world, [world.subscriptions.e3]);
      expect(requested.status).toBe(201);
      // The event publisher records the reseller's transition as it publishes the request.
      await isolated.runTimer('deliverEvents');
      const stuck = async () => {
        const report = await isolated.api(
          'GET',
          '/api/operator/reports/transitions?from=2026-01-01&to=2026-12-31',
          { token: await isolated.operatorToken() },
        );
        expect(report.status, report.text).toBe(200);
        return report.body.stuck.filter(
          (entry: { partnerId: string }) => entry.partnerId === world.reseller.partnerId,
        );
      };
      // 24 days after the reseller began, 14 after its request: not waiting longer than 14 days.
      isolated.clock.advance({ days: 14 });
      expect(await stuck()).toEqual([]);
      isolated.clock.advance({ days: 1 });
      expect(await stuck()).toEqual([
        {
          partnerId: world.reseller.partnerId,
          companyName: 'Fourth Coffee IT',
          step: 'subscriptions',
          since: requestedAt,
        },
      ]);
    } finally {
      await isolated.close();
    }
  });
});

describe('a transfer read by a partner that is not party to it', () => {
  it('is not found, in the words an unknown transfer gets: 404 "The transfer was not found."', async () => {
    const world = await pendingTransfer(app);
    const outsider = await createProvider(app, { companyName: 'Outsider Supply' });
    for (const [token, transferId] of [
      [outsider.adminToken, world.transferId],
      [world.reseller.adminToken, crypto.randomUUID()],
    ] as const) {
      const response = await app.api('GET', `/api/me/transfers/${transferId}`, { token });
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({
        code: 'not-found',
        detail: 'The transfer was not found.',
      });
    }
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: outsider.adminToken,
    });
    expect(accepted.status).toBe(404);
    expect(accepted.body.detail).toBe('The transfer was not found.');
  });
});

describe('the expireTransfers timer, when an expiry cannot be written', () => {
  it('fails the run so the host reports it, logs nothing as decided meanwhile, and leaves the request pending for the next run, which expires it', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      isolated.clock.advance({ days: 30 });
      // The reseller's partition cannot be reached when the timer writes the expiry.
      const unreachable = await startSecondHost(
        isolated,
        failingPartnerWrites((_partnerId, operations) =>
          operations.some(
            (operation) =>
              'document' in operation &&
              operation.document.type === 'transfer' &&
              operation.document.status === 'expired',
          )
            ? new DependencyUnavailable('cosmos')
            : null,
        ),
      );
      try {
        await expect(unreachable.runTimer('expireTransfers')).rejects.toThrow(
          'cosmos is unavailable',
        );
        expect(
          unreachable.logs.filter((entry) =>
            entry.message.startsWith('expireTransfers: decided meanwhile'),
          ),
        ).toEqual([]);
      } finally {
        await unreachable.close({ keepDatabase: true });
      }
      for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
        const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, { token });
        expect(seen.body.status).toBe('pending');
      }
      await isolated.runTimer('expireTransfers');
      for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
        const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, { token });
        expect(seen.body.status).toBe('expired');
      }
    } finally {
      await isolated.close();
    }
  });
});

describe('ending a partnership while a pending transfer is decided', () => {
  it('ends it, leaving a request the reseller withdrew meanwhile withdrawn and not listed as cancelled: 200', async () => {
    const world = await pendingTransfer(app);
    // Both sides are ended; as the end reads the request to cancel it, the reseller withdraws it.
    let armed = true;
    const ending = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          if (
            armed &&
            partition === world.reseller.partnerId &&
            id === transferDocumentId(world.transferId)
          ) {
            armed = false;
            const withdrawn = await app.api(
              'POST',
              `/api/me/transfers/${world.transferId}/withdraw`,
              { token: world.reseller.adminToken },
            );
            expect(withdrawn.status).toBe(200);
          }
          return services.partners.getDocument(partition, id);
        }) as typeof services.partners.getDocument,
      }),
    }));
    try {
      const ended = await ending.api(
        'DELETE',
        `/api/me/indirect-resellers/${world.reseller.partnerId}`,
        { token: world.provider.adminToken },
      );
      expect(ended.status, ended.text).toBe(200);
      expect(ended.body).toMatchObject({ status: 'ended', cancelledTransfers: [] });
    } finally {
      await ending.close({ keepDatabase: true });
    }
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const seen = await app.api('GET', `/api/me/transfers/${world.transferId}`, { token });
      expect(seen.body).toMatchObject({ status: 'withdrawn', reason: null });
    }
    const providers = await app.api('GET', '/api/me/indirect-providers', {
      token: world.reseller.adminToken,
    });
    expect(providers.body.items).toEqual([
      expect.objectContaining({ partnerId: world.provider.partnerId, status: 'ended' }),
    ]);
  });
});
