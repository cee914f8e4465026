import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventDocument } from '../../shared/domain/events';
import {
  dyingAtWrite,
  failingPartnerWrites,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { directCustomer, indirectCustomer, uniqueDomain } from '../support/customers';
import { activeReseller, approvedPartner, submitEnrollment } from '../support/enrollment';
import { eventTypesOf, inFeedOrder, relayedEvents, storedEvents } from '../support/events';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';
import {
  extend,
  extendedCustomer,
  pendingTransfer,
  requestTransfer,
  resellerWithDirectCustomer,
} from '../support/transfers';

/**
 * docs/rules.md section 11: each change of the event catalogue writes its event in the batch of
 * the change, in the partition of each partner on whose side it is written, exactly once.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

/** The one event of `type` in the partner's partition (fails unless there is exactly one). */
async function theEvent(partnerId: string, type: EventDocument['eventType']) {
  const events = await storedEvents(app, partnerId, type);
  expect(events, `${type} events of ${partnerId}`).toHaveLength(1);
  const [event] = events as [EventDocument];
  expect(event).toMatchObject({
    type: 'event',
    id: expect.stringMatching(/^evt_[0-9A-Za-z]+$/),
    partnerId,
    subjectId: partnerId,
    eventType: type,
  });
  return event;
}

type Transfer = Awaited<ReturnType<typeof pendingTransfer>>;

const transferData = (world: Transfer, status: string, reason: string | null = null) => ({
  transferId: world.transferId,
  customerId: world.customerId,
  providerId: world.provider.partnerId,
  resellerId: world.reseller.partnerId,
  status,
  subscriptionIds: [world.subscriptions.e3],
  reason,
});

/** Asserts one event of `type` on each side of the transfer, with the same data. */
async function expectTransferEventOnEachSide(
  world: Transfer,
  type: EventDocument['eventType'],
  status: string,
  reason: string | null = null,
) {
  for (const partnerId of [world.reseller.partnerId, world.provider.partnerId]) {
    expect((await theEvent(partnerId, type)).data).toEqual(transferData(world, status, reason));
  }
}

describe('enrollment events', () => {
  it('writes enrollment.submitted then enrollment.approved for an auto-approved enrollment', async () => {
    const partner = await approvedPartner(app);
    const now = app.clock.now().toISOString();
    const events = inFeedOrder(await storedEvents(app, partner.partnerId));
    expect(events.map((event) => event.eventType)).toEqual([
      'enrollment.submitted',
      'enrollment.approved',
    ]);
    const [submitted, approved] = events as [EventDocument, EventDocument];
    expect(submitted.data).toEqual({ status: 'approved', submittedAt: now });
    expect(approved.data).toEqual({ approvedAt: now, automatic: true });
    expect(submitted.occurredAt <= approved.occurredAt).toBe(true);
    expect(submitted.id).not.toBe(approved.id);
  });

  it('writes only enrollment.submitted, pending approval, for an enrollment waiting for review', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    expect((await theEvent(partner.partnerId, 'enrollment.submitted')).data).toEqual({
      status: 'pending-approval',
      submittedAt: app.clock.now().toISOString(),
    });
    expect(await eventTypesOf(app, [partner.partnerId])).toEqual({
      [partner.partnerId]: ['enrollment.submitted'],
    });
  });

  it("writes enrollment.approved for an operator's approval, and nothing for a second decision (409)", async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const decide = (body: Record<string, string>) =>
      app.operatorToken().then((token) =>
        app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
          token,
          body,
        }),
      );
    expect((await decide({ decision: 'approve' })).status).toBe(200);
    expect((await decide({ decision: 'reject', reason: 'changed my mind' })).status).toBe(409);
    expect((await theEvent(partner.partnerId, 'enrollment.approved')).data).toEqual({
      approvedAt: app.clock.now().toISOString(),
      automatic: false,
    });
    expect(await storedEvents(app, partner.partnerId, 'enrollment.rejected')).toEqual([]);
  });

  it("writes enrollment.rejected with the operator's reason", async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const rejected = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'reject', reason: 'MPN ID not found in Partner Center' },
      },
    );
    expect(rejected.status).toBe(200);
    expect((await theEvent(partner.partnerId, 'enrollment.rejected')).data).toEqual({
      rejectedAt: app.clock.now().toISOString(),
      reason: 'MPN ID not found in Partner Center',
    });
  });

  it('writes agreement.accepted once: accepting again writes nothing', async () => {
    const partner = await activeReseller(app);
    const agreement = await app.api('GET', '/api/me/agreement', { token: partner.adminToken });
    const again = await app.api('POST', '/api/me/agreement/acceptance', {
      token: partner.adminToken,
      body: { templateId: agreement.body.templateId, version: agreement.body.version },
    });
    expect(again.status).toBe(200);
    expect((await theEvent(partner.partnerId, 'agreement.accepted')).data).toEqual({
      templateId: agreement.body.templateId,
      version: agreement.body.version,
      acceptedAt: app.clock.now().toISOString(),
    });
  });
});

describe('partnership events', () => {
  it('writes partnership.invited to the provider only', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const before = await eventTypesOf(app, [reseller.partnerId]);
    const invited = await inviteReseller(app, provider, reseller);
    expect(invited.status).toBe(201);
    expect((await theEvent(provider.partnerId, 'partnership.invited')).data).toEqual({
      invitationId: invited.body.invitationId,
      resellerMpnId: reseller.record.mpnId,
      expiresAt: invited.body.expiresAt,
    });
    expect(await eventTypesOf(app, [reseller.partnerId])).toEqual(before);
  });

  it('writes partnership.revoked once: revoking again writes nothing', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const revoked = await app.api(
        'DELETE',
        `/api/me/reseller-invitations/${invited.body.invitationId}`,
        { token: provider.adminToken },
      );
      expect(revoked.status).toBe(200);
    }
    expect((await theEvent(provider.partnerId, 'partnership.revoked')).data).toEqual({
      invitationId: invited.body.invitationId,
      resellerMpnId: reseller.record.mpnId,
    });
  });

  it('writes exactly one partnership.accepted on each side for 50 concurrent accepts of one invitation', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.api('POST', '/api/partner-invitations/accept', {
          body: { token: tokenOf(invited.body.link) },
          token: reseller.adminToken,
        }),
      ),
    );
    expect(responses.filter((response) => response.status === 200)).toHaveLength(1);
    const data = {
      providerId: provider.partnerId,
      resellerId: reseller.partnerId,
      invitationId: invited.body.invitationId,
    };
    expect((await theEvent(provider.partnerId, 'partnership.accepted')).data).toEqual(data);
    expect((await theEvent(reseller.partnerId, 'partnership.accepted')).data).toEqual(data);
  });

  it("writes the reseller's partnership.accepted once when a retry follows a crash between the two sides", async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const token = tokenOf(invited.body.link);
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === reseller.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await crashing.api('POST', '/api/partner-invitations/accept', {
        body: { token },
        token: await crashing.token({ tenant: reseller.partnerId, roles: ['GlobalAdmin'] }),
      });
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect(await storedEvents(app, reseller.partnerId, 'partnership.accepted')).toEqual([]);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const retry = await app.api('POST', '/api/partner-invitations/accept', {
        body: { token },
        token: reseller.adminToken,
      });
      expect(retry.status).toBe(410);
    }
    await theEvent(provider.partnerId, 'partnership.accepted');
    await theEvent(reseller.partnerId, 'partnership.accepted');
  });

  it('writes no event for a refused accept (a partner of another MPN ID, 403)', async () => {
    const provider = await createProvider(app);
    const invitee = await activeReseller(app);
    const other = await activeReseller(app);
    const invited = await inviteReseller(app, provider, invitee);
    const before = await eventTypesOf(app, [
      provider.partnerId,
      invitee.partnerId,
      other.partnerId,
    ]);
    const refused = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: other.adminToken,
    });
    expect(refused.status).toBe(403);
    expect(
      await eventTypesOf(app, [provider.partnerId, invitee.partnerId, other.partnerId]),
    ).toEqual(before);
  });

  it('writes partnership.ended on both sides once, even when the first attempt died between them', async () => {
    const { provider, reseller } = await partnership(app);
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === reseller.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await crashing.api(
        'DELETE',
        `/api/me/indirect-resellers/${reseller.partnerId}`,
        {
          token: await crashing.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] }),
        },
      );
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect(await storedEvents(app, reseller.partnerId, 'partnership.ended')).toEqual([]);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const ended = await app.api('DELETE', `/api/me/indirect-resellers/${reseller.partnerId}`, {
        token: provider.adminToken,
      });
      expect(ended.status).toBe(200);
    }
    const data = {
      providerId: provider.partnerId,
      resellerId: reseller.partnerId,
      endedAt: app.clock.now().toISOString(),
    };
    expect((await theEvent(provider.partnerId, 'partnership.ended')).data).toEqual(data);
    expect((await theEvent(reseller.partnerId, 'partnership.ended')).data).toEqual(data);
  });
});

describe('customer events', () => {
  it('writes customer.created to a direct-bill partner creating its own customer', async () => {
    const { partner, customerId, created } = await directCustomer(app);
    expect((await theEvent(partner.partnerId, 'customer.created')).data).toEqual({
      customerId,
      companyName: created.companyName,
      relationship: 'direct-bill',
    });
  });

  it('writes customer.created to the provider and the reseller of a customer the provider creates', async () => {
    const { provider, reseller, customerId, created } = await indirectCustomer(app);
    expect((await theEvent(provider.partnerId, 'customer.created')).data).toEqual({
      customerId,
      companyName: created.companyName,
      relationship: 'indirect-provider',
    });
    expect((await theEvent(reseller.partnerId, 'customer.created')).data).toEqual({
      customerId,
      companyName: created.companyName,
      relationship: 'indirect-reseller',
    });
  });

  it('writes customer-invitation.accepted on each side once, even when the first accept died between them', async () => {
    const pair = await partnership(app);
    const drafted = await app.api('POST', '/api/me/customer-invitations', {
      token: pair.reseller.adminToken,
      body: { providerId: pair.provider.partnerId },
    });
    const token = tokenOf(drafted.body.link);
    const customerId = crypto.randomUUID();
    const body = {
      token,
      companyName: 'Crashy Corp',
      domain: uniqueDomain('crashy'),
      country: 'US',
    };
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === pair.provider.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await crashing.api('POST', '/api/customer-invitations/accept', {
        token: await crashing.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
        body,
      });
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    await theEvent(pair.reseller.partnerId, 'customer-invitation.accepted');
    expect(
      await storedEvents(app, pair.provider.partnerId, 'customer-invitation.accepted'),
    ).toEqual([]);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const retry = await app.api('POST', '/api/customer-invitations/accept', {
        token: await app.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
        body,
      });
      expect(retry.status).toBe(200);
    }
    const data = {
      invitationId: drafted.body.invitationId,
      customerId,
      companyName: 'Crashy Corp',
      providerId: pair.provider.partnerId,
      resellerId: pair.reseller.partnerId,
    };
    for (const partnerId of [pair.reseller.partnerId, pair.provider.partnerId]) {
      expect((await theEvent(partnerId, 'customer-invitation.accepted')).data).toEqual(data);
    }
  });

  it('writes relationship.extended on both sides, and nothing for a second extension (409)', async () => {
    const world = await resellerWithDirectCustomer(app);
    expect((await extend(app, world)).status).toBe(201);
    expect((await extend(app, world)).status).toBe(409);
    const data = {
      customerId: world.customerId,
      companyName: 'Wingtip Toys',
      providerId: world.provider.partnerId,
      resellerId: world.reseller.partnerId,
    };
    expect((await theEvent(world.reseller.partnerId, 'relationship.extended')).data).toEqual(data);
    expect((await theEvent(world.provider.partnerId, 'relationship.extended')).data).toEqual(data);
  });
});

describe('transfer events', () => {
  it('writes transfer.created on each side', async () => {
    const world = await pendingTransfer(app);
    await expectTransferEventOnEachSide(world, 'transfer.created', 'pending');
  });

  it('writes one transfer.created per side for 20 concurrent requests for one subscription', async () => {
    const world = await extendedCustomer(app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => requestTransfer(app, world, [world.subscriptions.e3])),
    );
    const created = responses.filter((response) => response.status === 201);
    expect(created).toHaveLength(1);
    await expectTransferEventOnEachSide(
      { ...world, addOnId: null, transferId: created[0]!.body.transferId, created: created[0]! },
      'transfer.created',
      'pending',
    );
  });

  it('writes no event for a refused request (an azure-plan subscription, 400)', async () => {
    const world = await extendedCustomer(app);
    const parties = [world.reseller.partnerId, world.provider.partnerId];
    const before = await eventTypesOf(app, parties);
    const refused = await requestTransfer(app, world, [world.subscriptions.azure!]);
    expect(refused.status).toBe(400);
    expect(await eventTypesOf(app, parties)).toEqual(before);
  });

  it('writes transfer.completed on each side once: accepting again writes nothing', async () => {
    const world = await pendingTransfer(app);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(accepted.status).toBe(200);
    }
    await expectTransferEventOnEachSide(world, 'transfer.completed', 'completed');
  });

  // Write 1 counts the provider's emails, write 2 decides: before it, only an accept decides.
  for (const write of [1, 2, 3, 4, 5]) {
    const by = write >= 3 && write % 2 === 1 ? 'the expireTransfers timer' : 'the next accept';
    it(`writes transfer.completed once per side, finished by ${by}, when the accept died at write ${write} of 5`, async () => {
      const world = await pendingTransfer(app, { addOn: true });
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const crashed = await dying.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
          token: await dying.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] }),
        });
        expect(crashed.status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      if (by === 'the next accept') {
        const retried = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
          token: world.provider.adminToken,
        });
        expect(retried.status).toBe(200);
      } else {
        app.clock.advance({ minutes: 5 });
        await app.runTimer('expireTransfers');
      }
      await app.runTimer('expireTransfers');
      for (const partnerId of [world.reseller.partnerId, world.provider.partnerId]) {
        expect((await theEvent(partnerId, 'transfer.completed')).data).toEqual({
          ...transferData(world, 'completed'),
          subscriptionIds: [world.subscriptions.e3, world.addOnId],
        });
        await theEvent(partnerId, 'transfer.created');
      }
    });
  }

  it('tells the provider of the request before its withdrawal when a crash left its copy unwritten', async () => {
    const world = await extendedCustomer(app);
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const crashed = await requestTransfer(
        dying,
        world,
        [world.subscriptions.e3],
        await dying.token({ tenant: world.reseller.partnerId, roles: ['GlobalAdmin'] }),
      );
      expect(crashed.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const [copy] = await app.documents(world.reseller.partnerId, 'transfer');
    const transferId = copy.transferId as string;
    expect(await app.documents(world.provider.partnerId, 'transfer')).toEqual([]);
    const withdrawn = await app.api('POST', `/api/me/transfers/${transferId}/withdraw`, {
      token: world.reseller.adminToken,
    });
    expect(withdrawn.status).toBe(200);
    const the = { ...world, addOnId: null, transferId, created: withdrawn };
    await expectTransferEventOnEachSide(the, 'transfer.created', 'pending');
    await expectTransferEventOnEachSide(the, 'transfer.withdrawn', 'withdrawn');
    const providerFeed = inFeedOrder(await storedEvents(app, world.provider.partnerId)).filter(
      (event) => event.eventType.startsWith('transfer.'),
    );
    expect(providerFeed.map((event) => event.eventType)).toEqual([
      'transfer.created',
      'transfer.withdrawn',
    ]);
  });

  it('writes transfer.rejected on each side with the reason', async () => {
    const world = await pendingTransfer(app);
    const rejected = await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
      token: world.provider.adminToken,
      body: { reason: 'No credit line for this customer yet' },
    });
    expect(rejected.status).toBe(200);
    await expectTransferEventOnEachSide(
      world,
      'transfer.rejected',
      'rejected',
      'No credit line for this customer yet',
    );
  });

  it('writes transfer.withdrawn on each side, and nothing for a withdrawal by the provider (403)', async () => {
    const world = await pendingTransfer(app);
    const refused = await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
      token: world.provider.adminToken,
    });
    expect(refused.status).toBe(403);
    expect(await storedEvents(app, world.provider.partnerId, 'transfer.withdrawn')).toEqual([]);
    const withdrawn = await app.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
      token: world.reseller.adminToken,
    });
    expect(withdrawn.status).toBe(200);
    await expectTransferEventOnEachSide(world, 'transfer.withdrawn', 'withdrawn');
  });

  it('writes transfer.cancelled on each side when the partnership ends', async () => {
    const world = await pendingTransfer(app);
    const ended = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${world.reseller.partnerId}`,
      {
        token: world.provider.adminToken,
      },
    );
    expect(ended.status).toBe(200);
    await expectTransferEventOnEachSide(
      world,
      'transfer.cancelled',
      'cancelled',
      'the partnership ended',
    );
  });
});

describe('order and subscription events', () => {
  it('writes order.placed in the customer partition, for the provider and the reseller that see it', async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app);
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: provider.adminToken,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    });
    expect(order.status).toBe(201);
    const events = await relayedEvents(app, customerId, 'order.placed');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'event',
      customerId,
      subjectId: provider.partnerId,
      eventType: 'order.placed',
      data: {
        customerId,
        orderId: order.body.orderId,
        placedBy: provider.partnerId,
        lineItems: [
          {
            offerId: 'office-e3',
            productType: 'license',
            quantity: 10,
            subscriptionId: order.body.lineItems[0].subscriptionId,
          },
        ],
      },
    });
    expect([...events[0]!.copyTo].sort()).toEqual([provider.partnerId, reseller.partnerId].sort());
  });

  it('writes no event for an order refused (an indirect reseller may not place it, 403)', async () => {
    const { reseller, customerId } = await indirectCustomer(app);
    const refused = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: reseller.adminToken,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    });
    expect(refused.status).toBe(403);
    expect(await relayedEvents(app, customerId)).toEqual([]);
  });

  it('writes subscription.updated for each partner that sees the subscription, and none for a stale If-Match (412)', async () => {
    const { partner, customerId } = await directCustomer(app);
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: partner.adminToken,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    });
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    const path = `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`;
    const stale = await app.api('PATCH', path, {
      token: partner.adminToken,
      body: { quantity: 12 },
      headers: { 'If-Match': '"stale"' },
    });
    expect(stale.status).toBe(412);
    expect(await relayedEvents(app, customerId, 'subscription.updated')).toEqual([]);
    const changed = await app.api('PATCH', path, {
      token: partner.adminToken,
      body: { quantity: 12, autoRenew: false },
    });
    expect(changed.status).toBe(200);
    const events = await relayedEvents(app, customerId, 'subscription.updated');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      subjectId: partner.partnerId,
      copyTo: [partner.partnerId],
      data: { customerId, subscriptionId, autoRenew: false, quantity: 12 },
    });
  });
});

describe('incentives events', () => {
  it('writes incentives.invited with the queued invitation, and incentives.enrolled once per program', async () => {
    const partner = await approvedPartner(app, { companyName: 'Incentive Events Ltd' });
    app.clock.advance({ minutes: 30 });
    await app.runTimer('sendIncentiveInvitations');
    await app.runTimer('sendIncentiveInvitations');
    const invited = await theEvent(partner.partnerId, 'incentives.invited');
    expect(invited.data).toEqual({ program: 'indirect-reseller', invitedAt: invited.occurredAt });
    const emails = (await app.documents(partner.partnerId, 'email')).filter(
      (queued) => queued.kind === 'incentive-invitation',
    );
    expect(emails.map((email) => email.createdAt)).toEqual([invited.occurredAt]);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const enrolled = await app.api('POST', '/api/me/incentives/indirect-reseller/enrollment', {
        token: partner.adminToken,
      });
      expect([200, 201]).toContain(enrolled.status);
    }
    const enrolled = await theEvent(partner.partnerId, 'incentives.enrolled');
    expect(enrolled.data).toEqual({
      program: 'indirect-reseller',
      enrolledAt: enrolled.occurredAt,
    });
  });
});

describe('timer events', () => {
  it('writes enrollment.escalated once, however often the timer runs', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const submittedAt = app.clock.now().toISOString();
    app.clock.advance({ days: 7 });
    await app.runTimer('escalatePendingEnrollments');
    await app.runTimer('escalatePendingEnrollments');
    expect((await theEvent(partner.partnerId, 'enrollment.escalated')).data).toEqual({
      submittedAt,
      escalatedAt: app.clock.now().toISOString(),
    });
  });

  it('writes transfer.expired on each side once when a request lapses after 30 days', async () => {
    const world = await pendingTransfer(app);
    app.clock.advance({ days: 31 });
    await app.runTimer('expireTransfers');
    await app.runTimer('expireTransfers');
    await expectTransferEventOnEachSide(world, 'transfer.expired', 'expired');
  });
});
