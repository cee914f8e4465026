import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationshipId } from '../../shared/domain/customers';
import { WriteConflict } from '../../shared/app/ports';
import { transferGuardId } from '../../shared/domain/transfers';
import {
  dyingAtWrite,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
  countingWrites,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { storedEvents } from '../support/events';
import { directCustomer, indirectCustomer, newCustomer } from '../support/customers';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import {
  extend,
  extendedCustomer,
  pendingTransfer,
  requestTransfer,
  resellerWithDirectCustomer,
  seedAddOn,
} from '../support/transfers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

const emailsOf = async (partnerId: string) =>
  (await app.documents(partnerId, 'email')).map((email: { kind: string; to: string }) => ({
    kind: email.kind,
    to: email.to,
  }));

const actionsOf = async (partnerId: string) =>
  (await app.documents(partnerId, 'audit')).map((event: { action: string }) => event.action);

describe('relationship extension', () => {
  it("extends a direct-bill customer: the provider sees the reseller's indirect customer, without delegated admin", async () => {
    const world = await resellerWithDirectCustomer(app);
    const response = await extend(app, world);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      customerId: world.customerId,
      companyName: 'Wingtip Toys',
      country: 'US',
      relationship: 'indirect-provider',
      indirectReseller: { partnerId: world.reseller.partnerId, companyName: 'Fourth Coffee IT' },
      delegatedAdmin: false,
      allowedActions: ['place-orders', 'view-order-history', 'bill-customer'],
    });
    const providerList = await app.api('GET', '/api/me/customers', {
      token: world.provider.adminToken,
    });
    expect(providerList.body.items).toEqual([response.body]);
    // The provider's side keeps in its history how it came.
    const [providerSide] = await app.documents(world.provider.partnerId, 'customer-relationship');
    expect(providerSide.history).toEqual([
      expect.objectContaining({
        from: null,
        to: 'indirect-provider',
        reason: 'relationship extended by the reseller',
      }),
    ]);
    const seenByReseller = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(seenByReseller.body).toMatchObject({
      relationship: 'indirect-reseller',
      acquiredAs: 'direct-bill',
      indirectProvider: { partnerId: world.provider.partnerId },
      delegatedAdmin: true,
      retainsDirectBill: true,
    });
  });

  it("keeps who attested the customer's consent, and when, in the reseller's audit trail", async () => {
    const world = await extendedCustomer(app);
    const activity = await app.api('GET', '/api/me/activity', {
      token: world.reseller.adminToken,
    });
    const extended = activity.body.items.find(
      (event: { action: string }) => event.action === 'relationship-extended',
    );
    expect(extended.reason).toContain('Dana Buyer (dana@wingtiptoys.example)');
    expect(extended.reason).toContain('2026-03-01T15:00:00.000Z');
    expect(extended.reason).toContain('Gina Admin');
    expect(await actionsOf(world.provider.partnerId)).toContain('customer-relationship-extended');
  });

  it('says in both audit trails what was extended, to whom, and on whose word', async () => {
    const world = await extendedCustomer(app);
    const [resellerTrail, providerTrail] = await Promise.all(
      [world.reseller.adminToken, world.provider.adminToken].map(
        async (token) => (await app.api('GET', '/api/me/activity', { token })).body.items,
      ),
    );
    expect(
      resellerTrail.find((event: { action: string }) => event.action === 'relationship-extended'),
    ).toMatchObject({ from: 'direct-bill', to: 'indirect-reseller' });
    const { reason } = resellerTrail.find(
      (event: { action: string }) => event.action === 'relationship-extended',
    );
    expect(reason).toMatch(
      new RegExp(
        `^customer ${world.customerId} \\(Wingtip Toys\\) extended to Adatum Distribution, bill-to details shared; consent attested by Gina Admin \\([^)]+\\); given by Dana Buyer \\(dana@wingtiptoys\\.example\\) on 2026-03-01T15:00:00\\.000Z$`,
      ),
    );
    expect(
      providerTrail.find(
        (event: { action: string }) => event.action === 'customer-relationship-extended',
      ),
    ).toMatchObject({
      to: 'indirect-provider',
      reason: `customer ${world.customerId} (Wingtip Toys) of reseller ${world.reseller.partnerId}: bill-to details shared, no delegated admin`,
    });
  });

  it("records the customer's consent as given at the attestation when the reseller does not say who gave it, or when", async () => {
    const world = await resellerWithDirectCustomer(app);
    const response = await app.api(
      'POST',
      `/api/me/customers/${world.customerId}/relationship-extension`,
      {
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId, customerConsentAttested: true },
      },
    );
    expect(response.status).toBe(201);
    const activity = await app.api('GET', '/api/me/activity', {
      token: world.reseller.adminToken,
    });
    const extended = activity.body.items.find(
      (event: { action: string }) => event.action === 'relationship-extended',
    );
    expect(extended.reason).toMatch(/; given by the customer on 2026-03-02T09:00:00\.000Z$/);
  });

  it('answers 409 when the customer is already extended', async () => {
    const world = await extendedCustomer(app);
    const again = await extend(app, world);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
    expect(again.body.detail).toBe('Wingtip Toys is already extended to Adatum Distribution.');
    expect(await app.documents(world.provider.partnerId, 'customer-relationship')).toHaveLength(1);
  });

  it('answers 409 to an extension to a second provider, and writes no side for it', async () => {
    const world = await extendedCustomer(app);
    const other = await createProvider(app, { companyName: 'Other Supply' });
    const invited = await inviteReseller(app, other, world.reseller);
    expect(invited.status).toBe(201);
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      token: world.reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(accepted.status).toBe(200);
    const response = await app.api(
      'POST',
      `/api/me/customers/${world.customerId}/relationship-extension`,
      {
        token: world.reseller.adminToken,
        body: { providerId: other.partnerId, customerConsentAttested: true },
      },
    );
    expect(response.status).toBe(409);
    expect(response.body.detail).toBe('Wingtip Toys is already extended to Adatum Distribution.');
    expect(await app.documents(other.partnerId, 'customer-relationship')).toEqual([]);
    const seen = await app.api('GET', '/api/me/customers', { token: other.adminToken });
    expect(seen.body.items).toEqual([]);
  });

  it("says 'the customer changed' only when the customer's own write was refused; another refused write of the batch gets the general 409, and the retry extends", async () => {
    const world = await resellerWithDirectCustomer(app);
    const refusing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          // The batch's audit event refused, as if its id were taken.
          if (partnerId === world.reseller.partnerId && operations.length > 1)
            throw new WriteConflict('exists', 1);
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const token = await refusing.token({
        tenant: world.reseller.partnerId,
        roles: ['GlobalAdmin'],
      });
      const refused = await extend(refusing, world, token);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe(
        'The resource was changed by another request; read it again and retry.',
      );
    } finally {
      await refusing.close({ keepDatabase: true });
    }
    expect((await extend(app, world)).status).toBe(201);
  });

  it("writes twice: the reseller's side, then the provider's", async () => {
    const world = await resellerWithDirectCustomer(app);
    const written = countingWrites();
    const counting = await startSecondHost(app, written.decorate);
    try {
      const token = await counting.token({
        tenant: world.reseller.partnerId,
        roles: ['GlobalAdmin'],
      });
      expect((await extend(counting, world, token)).status).toBe(201);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    // The crash tests below kill the process before each of these writes.
    expect(written.count()).toBe(2);
  });

  for (const write of [1, 2]) {
    it(`is completed by the retry when the process dies at write ${write} of 2: both sides once, and transfers go through`, async () => {
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
      // The retry: nothing was written (201), or the reseller's side was (409, already
      // extended) and the retry writes the provider's before answering.
      const retried = await extend(app, world);
      expect(retried.status).toBe(write === 1 ? 201 : 409);
      await extend(app, world); // and once more: nothing is written twice
      const providerSide = await app.documents(world.provider.partnerId, 'customer-relationship');
      expect(providerSide).toHaveLength(1);
      expect(providerSide[0]).toMatchObject({
        customerId: world.customerId,
        relationship: 'indirect-provider',
        indirectReseller: { partnerId: world.reseller.partnerId },
      });
      for (const partnerId of [world.reseller.partnerId, world.provider.partnerId]) {
        const events = (await app.documents(partnerId, 'event')).filter(
          (event) => event.eventType === 'relationship.extended',
        );
        expect(events, partnerId).toHaveLength(1);
      }
      expect(
        (await actionsOf(world.provider.partnerId)).filter(
          (action) => action === 'customer-relationship-extended',
        ),
      ).toHaveLength(1);
      // Without the provider's side every transfer would fail relationship-required.
      const transfer = await requestTransfer(app, world, [world.subscriptions.e3]);
      expect(transfer.status).toBe(201);
    });
  }

  it('extends a customer to one provider only when two extensions race: the one that read it before the other wrote gets 409', async () => {
    const world = await resellerWithDirectCustomer(app);
    // A second provider in partnership with the reseller.
    const other = await createProvider(app);
    const invited = await inviteReseller(app, other, world.reseller);
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      token: world.reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(accepted.status).toBe(200);
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const found = await services.partners.getDocument(partition, id);
          if (
            armed &&
            partition === world.reseller.partnerId &&
            id === relationshipId(world.customerId)
          ) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    try {
      const late = slow.api(
        'POST',
        `/api/me/customers/${world.customerId}/relationship-extension`,
        {
          token: world.reseller.adminToken,
          body: { providerId: other.partnerId, customerConsentAttested: true },
        },
      );
      await held.reached;
      expect((await extend(app, world)).status).toBe(201);
      held.open();
      const refused = await late;
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The customer changed meanwhile; read it and try again.',
      });
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(await app.documents(other.partnerId, 'customer-relationship')).toEqual([]);
    const seen = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(seen.body.indirectProvider.partnerId).toBe(world.provider.partnerId);
  });

  it('refuses an indirect customer with 403 action-not-allowed', async () => {
    const { reseller, provider, customerId } = await indirectCustomer(app);
    const response = await app.api(
      'POST',
      `/api/me/customers/${customerId}/relationship-extension`,
      {
        token: reseller.adminToken,
        body: { providerId: provider.partnerId, customerConsentAttested: true },
      },
    );
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('action-not-allowed');
    expect(response.body.detail).toBe(
      'Wingtip Toys is an indirect customer (it came through Adatum Distribution), not one of your direct-bill customers: there is nothing to extend.',
    );
  });

  it('refuses a partner that is not an enrolled, active reseller with 403 action-not-allowed', async () => {
    const partner = await createPartnerWithProfile(app);
    const provider = await createProvider(app);
    const customer = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    const response = await app.api(
      'POST',
      `/api/me/customers/${customer.body.customerId}/relationship-extension`,
      {
        token: partner.adminToken,
        body: { providerId: provider.partnerId, customerConsentAttested: true },
      },
    );
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('action-not-allowed');
    expect(response.body.detail).toBe(
      'Only an enrolled, active indirect reseller extends a customer to a provider: complete the enrollment and accept the indirect reseller agreement first.',
    );
  });

  it('refuses a provider without partnership, or consent not attested, with 400', async () => {
    const world = await resellerWithDirectCustomer(app);
    const stranger = await createProvider(app, { companyName: 'Stranger Supply' });
    const path = `/api/me/customers/${world.customerId}/relationship-extension`;
    const noPartnership = await app.api('POST', path, {
      token: world.reseller.adminToken,
      body: { providerId: stranger.partnerId, customerConsentAttested: true },
    });
    expect(noPartnership.status).toBe(400);
    expect(noPartnership.body.code).toBe('validation-failed');
    expect(noPartnership.body.errors).toEqual([
      { path: 'body.providerId', message: 'is not one of your indirect providers' },
    ]);
    const noConsent = await app.api('POST', path, {
      token: world.reseller.adminToken,
      body: { providerId: world.provider.partnerId, customerConsentAttested: false },
    });
    expect(noConsent.status).toBe(400);
    expect(noConsent.body.errors[0].path).toBe('body.customerConsentAttested');
  });

  it('is refused to a SalesAgent', async () => {
    const world = await resellerWithDirectCustomer(app);
    const sales = await app.token({ tenant: world.reseller.partnerId, roles: ['SalesAgent'] });
    expect((await extend(app, world, sales)).status).toBe(403);
  });
});

describe('add-on orders', () => {
  it('name an active license subscription the partner bills as their base, else 400', async () => {
    const world = await resellerWithDirectCustomer(app, { addOn: true });
    expect(world.addOn).toEqual(expect.any(String));
    const subscriptions = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/subscriptions`,
      {
        token: world.reseller.adminToken,
      },
    );
    expect(
      subscriptions.body.items.find(
        (item: { subscriptionId: string }) => item.subscriptionId === world.addOn,
      ),
    ).toMatchObject({ baseSubscriptionId: world.subscriptions.e3, offerId: 'audio-conferencing' });
    const extended = await extend(app, world);
    expect(extended.status).toBe(201);
    const { partner, customerId } = await directCustomer(app);
    const order = (lineItems: unknown[]) =>
      app.api('POST', `/api/me/customers/${customerId}/orders`, {
        token: partner.adminToken,
        body: { lineItems },
      });
    const azure = await order([{ offerId: 'azure', productType: 'azure-plan', quantity: 1 }]);
    const onAzure = await order([
      {
        offerId: 'x',
        productType: 'license',
        quantity: 1,
        baseSubscriptionId: azure.body.lineItems[0].subscriptionId,
      },
    ]);
    expect(onAzure.status).toBe(400);
    expect(onAzure.body.errors).toEqual([
      {
        path: 'body.lineItems.0.baseSubscriptionId',
        message: 'is not an active license subscription you bill',
      },
    ]);
  });
});

describe('transfer eligibility', () => {
  it('lists every subscription of the customer, eligible or not, with the reason', async () => {
    const world = await extendedCustomer(app);
    const addOn = await seedAddOn(app, world, world.subscriptions.e3);
    const orphan = await seedAddOn(app, world, world.subscriptions.azure!);
    const response = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${world.provider.partnerId}`,
      { token: world.reseller.adminToken },
    );
    expect(response.status).toBe(200);
    const eligible = response.body.eligible.map(
      (item: { subscriptionId: string }) => item.subscriptionId,
    );
    expect(eligible.sort()).toEqual(
      [world.subscriptions.e3, world.subscriptions.phone, addOn].sort(),
    );
    const reasons = Object.fromEntries(
      response.body.ineligible.map((item: { subscriptionId: string; reason: string }) => [
        item.subscriptionId,
        item.reason,
      ]),
    );
    expect(reasons).toEqual({
      [world.subscriptions.azure!]: 'not-a-license-subscription',
      [orphan]: 'add-on-base-not-moved',
    });

    await requestTransfer(app, world, [world.subscriptions.phone]);
    const after = await app.api(
      'GET',
      `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${world.provider.partnerId}`,
      { token: world.reseller.adminToken },
    );
    expect(after.body.ineligible).toContainEqual({
      subscriptionId: world.subscriptions.phone,
      offerId: 'teams-phone',
      reason: 'in-open-transfer',
    });
  });
});

describe('transfer requests', () => {
  it('are created pending with their line items and add-ons, emailed to both partners, audited on both sides', async () => {
    const world = await pendingTransfer(app, { addOn: true });
    expect(world.created.body).toEqual({
      transferId: world.transferId,
      status: 'pending',
      customerId: world.customerId,
      customerName: 'Wingtip Toys',
      resellerId: world.reseller.partnerId,
      resellerName: 'Fourth Coffee IT',
      providerId: world.provider.partnerId,
      providerName: 'Adatum Distribution',
      lineItems: [
        {
          subscriptionId: world.subscriptions.e3,
          offerId: 'office-e3',
          quantity: 10,
          addOns: [{ subscriptionId: world.addOnId, offerId: 'audio-conferencing', quantity: 3 }],
        },
      ],
      createdAt: '2026-03-02T09:00:00.000Z',
      expiresAt: '2026-04-01T09:00:00.000Z',
      closedAt: null,
      reason: null,
    });
    expect(await emailsOf(world.reseller.partnerId)).toEqual(
      expect.arrayContaining([
        { kind: 'transfer-requested', to: 'pat.lee@contoso.example' },
        { kind: 'transfer-requested', to: 'mpn-account@contoso.example' },
      ]),
    );
    expect(await actionsOf(world.reseller.partnerId)).toContain('transfer-requested');
    expect(await actionsOf(world.provider.partnerId)).toContain('transfer-requested');
  });

  it('reach both partners by email, each with a link that works', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      await pendingTransfer(isolated);
      await isolated.runTimer('deliverEmails');
      const emails = (await isolated.mailbox()).filter((email) =>
        email.subject.startsWith('Subscription transfer requested'),
      );
      expect(emails).toHaveLength(2);
      for (const email of emails) {
        expect(email.subject).toBe(
          'Subscription transfer requested: Wingtip Toys (Fourth Coffee IT → Adatum Distribution)',
        );
        expect(email.links).toEqual([`${isolated.url}/api/links/transfers`]);
        const page = await fetch(email.links[0]!);
        expect(page.status).toBe(200);
      }
    } finally {
      await isolated.close();
    }
  });

  it('need the provider to have a relationship with the customer: 403 relationship-required', async () => {
    const world = await resellerWithDirectCustomer(app);
    const response = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('relationship-required');
    expect(response.body.detail).toContain('relationship-extension');
  });

  it('refuse ineligible subscriptions with 400 transfer-not-eligible, naming each', async () => {
    const world = await extendedCustomer(app);
    const addOn = await seedAddOn(app, world, world.subscriptions.e3);
    const response = await requestTransfer(app, world, [world.subscriptions.azure!, addOn]);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('transfer-not-eligible');
    expect(response.body.errors).toEqual([
      { path: 'body.lineItems.0.subscriptionId', message: expect.stringMatching(/not a license/) },
      { path: 'body.lineItems.1.subscriptionId', message: expect.stringMatching(/add-on/) },
    ]);
  });

  it('refuse a subscription already in an open transfer with 409 transfer-in-progress', async () => {
    const world = await pendingTransfer(app);
    const again = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('transfer-in-progress');
  });

  it('leave exactly one transfer to 20 concurrent requests for one subscription', async () => {
    const world = await extendedCustomer(app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => requestTransfer(app, world, [world.subscriptions.e3])),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(
      responses.filter((response) => response.status !== 201).map((response) => response.body.code),
    ).toEqual(Array.from({ length: 19 }, () => 'transfer-in-progress'));
    expect(await app.documents(world.reseller.partnerId, 'transfer')).toHaveLength(1);
    expect(await app.documents(world.provider.partnerId, 'transfer')).toHaveLength(1);
  });

  it('leave exactly one transfer to 20 concurrent requests once the customer has had a transfer (its guard already there)', async () => {
    const world = await extendedCustomer(app);
    const earlier = await requestTransfer(app, world, [world.subscriptions.phone]);
    expect(earlier.status).toBe(201);
    expect(
      await app.pointRead(world.reseller.partnerId, transferGuardId(world.customerId)),
    ).not.toBeNull();
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => requestTransfer(app, world, [world.subscriptions.e3])),
    );
    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    expect(
      responses.filter((response) => response.status !== 201).map((response) => response.body.code),
    ).toEqual(Array.from({ length: 19 }, () => 'transfer-in-progress'));
    const transfers = await app.documents(world.reseller.partnerId, 'transfer');
    expect(transfers).toHaveLength(2);
    expect(await app.documents(world.provider.partnerId, 'transfer')).toHaveLength(2);
  });

  it('refuse a request that read the guard before another request took the subscription (409), the guard already there', async () => {
    const world = await extendedCustomer(app);
    expect((await requestTransfer(app, world, [world.subscriptions.phone])).status).toBe(201);
    // A second host reads the customer's guard, then waits while this host takes the E3.
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const found = await services.partners.getDocument(partition, id);
          if (armed && id === transferGuardId(world.customerId)) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    try {
      const late = requestTransfer(slow, world, [world.subscriptions.e3]);
      await held.reached;
      const first = await requestTransfer(app, world, [world.subscriptions.e3]);
      expect(first.status).toBe(201);
      held.open();
      const refused = await late;
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('transfer-in-progress');
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    const forE3 = (await app.documents(world.reseller.partnerId, 'transfer')).filter((transfer) =>
      transfer.lineItems.some(
        (line: { subscriptionId: string }) => line.subscriptionId === world.subscriptions.e3,
      ),
    );
    expect(forE3).toHaveLength(1);
  });

  it('are listed in both directions, newest first, and read by either side', async () => {
    const world = await pendingTransfer(app);
    const outgoing = await app.api('GET', '/api/me/transfers?direction=outgoing', {
      token: world.reseller.adminToken,
    });
    expect(outgoing.body.items.map((item: { transferId: string }) => item.transferId)).toEqual([
      world.transferId,
    ]);
    const incoming = await app.api('GET', '/api/me/transfers?direction=incoming&status=pending', {
      token: world.provider.adminToken,
    });
    expect(incoming.body.items).toEqual(outgoing.body.items);
    const none = await app.api('GET', '/api/me/transfers?direction=incoming&status=completed', {
      token: world.provider.adminToken,
    });
    expect(none.body.items).toEqual([]);
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const one = await app.api('GET', `/api/me/transfers/${world.transferId}`, { token });
      expect(one.body).toEqual(world.created.body);
    }
  });

  it('are reached by nobody else: a third partner gets 404 on every transfer route', async () => {
    const world = await pendingTransfer(app);
    const third = await createProvider(app, { companyName: 'Third Party Supply' });
    const token = third.adminToken;
    const answers = [
      await app.api('GET', `/api/me/transfers/${world.transferId}`, { token }),
      await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, { token }),
      await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
        token,
        body: { reason: 'no' },
      }),
      await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, { token }),
      await requestTransfer(app, world, [world.subscriptions.phone], token),
      await app.api(
        'GET',
        `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${world.provider.partnerId}`,
        { token },
      ),
      await extend(app, world, token),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404, 404, 404, 404, 404]);
    const list = await app.api('GET', '/api/me/transfers?direction=incoming', { token });
    expect(list.body.items).toEqual([]);
  });

  it('are rejected by the provider with a reason, which both sides see', async () => {
    const world = await pendingTransfer(app);
    const sales = await app.token({ tenant: world.provider.partnerId, roles: ['SalesAgent'] });
    const rejected = await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
      token: sales,
      body: { reason: 'No credit line for this customer yet' },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      status: 'rejected',
      reason: 'No credit line for this customer yet',
    });
    const seen = await app.api('GET', `/api/me/transfers/${world.transferId}`, {
      token: world.reseller.adminToken,
    });
    expect(seen.body.status).toBe('rejected');
    expect(await actionsOf(world.provider.partnerId)).toContain('transfer-rejected');
    expect(await actionsOf(world.reseller.partnerId)).toContain('transfer-rejected');
    // The subscription is free again.
    expect((await requestTransfer(app, world, [world.subscriptions.e3])).status).toBe(201);
  });

  it('are withdrawn by the reseller while pending, after which the provider cannot accept (409)', async () => {
    const world = await pendingTransfer(app);
    const byProvider = await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
      token: world.provider.adminToken,
    });
    expect(byProvider.status).toBe(403);
    const withdrawn = await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
      token: world.reseller.adminToken,
    });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body.status).toBe('withdrawn');
    const accept = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accept.status).toBe(409);
    expect(await emailsOf(world.reseller.partnerId)).toEqual(
      expect.arrayContaining([{ kind: 'transfer-withdrawn', to: 'pat.lee@contoso.example' }]),
    );
  });

  it('cannot be accepted by the reseller itself (403)', async () => {
    const world = await pendingTransfer(app);
    const response = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.reseller.adminToken,
    });
    expect(response.status).toBe(403);
  });
});

describe('a transfer request, crashed at each write', () => {
  async function writesOf(run: (host: TestApp) => Promise<void>): Promise<number> {
    const written = countingWrites();
    const counting = await startSecondHost(app, written.decorate);
    try {
      await run(counting);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    return written.count();
  }

  it("writes three times: the request with its guard, the provider's copy, the settlement", async () => {
    const world = await extendedCustomer(app);
    const writes = await writesOf(async (host) => {
      const token = await host.token({ tenant: world.reseller.partnerId, roles: ['GlobalAdmin'] });
      expect((await requestTransfer(host, world, [world.subscriptions.e3], token)).status).toBe(
        201,
      );
    });
    // The crash tests below kill the process before each of these writes.
    expect(writes).toBe(3);
  });

  for (const write of [1, 2, 3]) {
    it(`leaves one pending transfer, on both sides, when the process dies at write ${write} of 3 and the request is sent again`, async () => {
      const world = await extendedCustomer(app);
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({
          tenant: world.reseller.partnerId,
          roles: ['GlobalAdmin'],
        });
        expect((await requestTransfer(dying, world, [world.subscriptions.e3], token)).status).toBe(
          500,
        );
      } finally {
        await dying.close({ keepDatabase: true });
      }
      // Sent again: nothing was written (201), or the request was, and the subscription it
      // holds is refused to a second one (409) while the timer tells the provider.
      const again = await requestTransfer(app, world, [world.subscriptions.e3]);
      expect(again.status).toBe(write === 1 ? 201 : 409);
      await app.runTimer('expireTransfers');
      const outgoing = await app.api('GET', '/api/me/transfers?direction=outgoing', {
        token: world.reseller.adminToken,
      });
      const incoming = await app.api('GET', '/api/me/transfers?direction=incoming', {
        token: world.provider.adminToken,
      });
      const mine = (page: { body: { items: { customerId: string }[] } }) =>
        page.body.items.filter((item) => item.customerId === world.customerId);
      expect(mine(outgoing)).toHaveLength(1);
      expect(mine(incoming)).toHaveLength(1);
      expect(mine(incoming)[0]).toMatchObject({
        status: 'pending',
        transferId: (mine(outgoing)[0] as unknown as { transferId: string }).transferId,
      });
      for (const partnerId of [world.reseller.partnerId, world.provider.partnerId]) {
        expect((await storedEvents(app, partnerId, 'transfer.created')).length, partnerId).toBe(1);
      }
      // The provider can decide it: its copy is there.
      const transferId = (mine(incoming)[0] as unknown as { transferId: string }).transferId;
      const rejected = await app.api('POST', `/api/me/transfers/${transferId}/reject`, {
        token: world.provider.adminToken,
        body: { reason: 'Not now' },
      });
      expect(rejected.status).toBe(200);
    });
  }
});

describe('the expireTransfers timer', () => {
  it('is not needed to refuse a request past its 30 days: accepting it expires it and answers 409', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      isolated.clock.advance({ days: 30 });
      const late = await isolated.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(late.status).toBe(409);
      expect(late.body.detail).toContain('expired');
      const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, {
        token: world.reseller.adminToken,
      });
      expect(seen.body.status).toBe('expired');
    } finally {
      await isolated.close();
    }
  });

  it('lets a request be accepted, and leaves it to the timer, until a millisecond before its 30 days', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      const expiresAt = Date.parse(world.created.body.expiresAt);
      isolated.clock.set(new Date(expiresAt - 1));
      await isolated.runTimer('expireTransfers');
      const pending = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, {
        token: world.reseller.adminToken,
      });
      expect(pending.body.status).toBe('pending');
      const accepted = await isolated.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(accepted.status, accepted.text).toBe(200);
      expect(accepted.body.status).toBe('completed');
    } finally {
      await isolated.close();
    }
  });

  it('expires a request pending for 30 days, on both sides, telling both partners', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      isolated.clock.advance({ days: 29 });
      await isolated.runTimer('expireTransfers');
      const early = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, {
        token: world.provider.adminToken,
      });
      expect(early.body.status).toBe('pending');
      isolated.clock.advance({ days: 1 });
      await isolated.runTimer('expireTransfers');
      for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
        const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, { token });
        expect(seen.body).toMatchObject({
          status: 'expired',
          closedAt: '2026-04-01T09:00:00.000Z',
        });
      }
      const emails = (await isolated.documents(world.reseller.partnerId, 'email')).filter(
        (email: { kind: string }) => email.kind === 'transfer-expired',
      );
      expect(emails.map((email: { to: string }) => email.to).sort()).toEqual([
        'mpn-account@contoso.example',
        'pat.lee@contoso.example',
      ]);
      await isolated.runTimer('expireTransfers');
      expect(
        (await isolated.documents(world.reseller.partnerId, 'audit')).filter(
          (event: { action: string }) => event.action === 'transfer-expired',
        ),
      ).toHaveLength(1);
    } finally {
      await isolated.close();
    }
  });
});
