import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PartnerDocument, WriteOperation } from '../../shared/app/ports';
import { recordTransition } from '../../shared/app/transition-report';
import {
  funnelStages,
  transitionDayId,
  transitionEntryId,
  transitionReportPartition,
} from '../../shared/domain/transition-report';
import { override, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { submitEnrollment } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';

/**
 * The transition report's recording and stuck list at their edges (docs/rules.md section 14):
 * what the operators read, and what the report's partition holds, where the tests of
 * transition-report.test.ts do not look. Each test works on days no other test of the file
 * records.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2025-03-03T09:00:00.000Z') }); // a Monday
});
afterAll(() => app.close());

const publish = () => app.runTimer('deliverEvents');

async function ok<T extends { status: number; text: string }>(
  response: Promise<T> | T,
  status: number,
): Promise<T> {
  const answered = await response;
  expect(answered.status, answered.text).toBe(status);
  return answered;
}

async function reportOf(from: string, to: string) {
  const response = await app.api('GET', `/api/operator/reports/transitions?from=${from}&to=${to}`, {
    token: await app.operatorToken(),
  });
  expect(response.status, response.text).toBe(200);
  return response.body as {
    funnel: Record<string, number>;
    pastReviewWindow: number;
    stuck: { partnerId: string; companyName: string; step: string; since: string }[];
  };
}

const decide = async (partnerId: string, decision: 'approve' | 'reject') =>
  ok(
    app.api('POST', `/api/operator/enrollments/${partnerId}/decision`, {
      token: await app.operatorToken(),
      body: decision === 'approve' ? { decision } : { decision, reason: 'MPN ID unknown' },
    }),
    200,
  );

const dayDocument = async (day: string) =>
  (await app.documents(transitionReportPartition, 'transition-day')).find(
    (document) => document.id === transitionDayId(day),
  );

const entryDocument = async (partnerId: string) =>
  (await app.documents(transitionReportPartition, 'transition-entry')).find(
    (document) => document.id === transitionEntryId(partnerId),
  );

/** Services whose writes to the report's partition are also kept in `batches`. */
function recordingBatches() {
  const batches: WriteOperation<PartnerDocument>[][] = [];
  const services = {
    ...app.services,
    partners: override(app.services.partners, {
      commit: async (partnerId, operations) => {
        if (partnerId === transitionReportPartition) batches.push(operations);
        return app.services.partners.commit(partnerId, operations);
      },
    }),
  };
  return { batches, services };
}

describe('the report, recorded by the event publisher', () => {
  it("records a partner's first entry with exactly the milestones it counted", async () => {
    app.clock.set('2025-03-10T09:00:00.000Z');
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    await ok(submitEnrollment(app, partner), 201);
    await publish();
    const entry = await entryDocument(partner.partnerId);
    expect(entry?.recorded.sort()).toEqual(['approved', 'submitted']);
    expect((await reportOf('2025-03-10', '2025-03-10')).funnel).toMatchObject({
      enrollmentsSubmitted: 1,
      autoApproved: 1,
    });
  });

  it("counts an escalation on its day's past-review-window count only, adding no funnel stage", async () => {
    app.clock.set('2025-03-17T09:00:00.000Z'); // a Monday
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await ok(submitEnrollment(app, partner), 201);
    await publish();
    app.clock.set('2025-03-21T09:00:00.000Z'); // past the 3 business days of review
    await app.runTimer('escalatePendingEnrollments');
    await publish();
    const escalationDay = await dayDocument('2025-03-21');
    expect(escalationDay?.pastReviewWindow).toBe(1);
    // The day's funnel has the funnel's stages and no other field, each still at 0.
    expect(escalationDay?.funnel).toEqual(
      Object.fromEntries(funnelStages.map((stage) => [stage, 0])),
    );
    const report = await reportOf('2025-03-17', '2025-03-21');
    expect(report.pastReviewWindow).toBe(1);
    expect(report.funnel.enrollmentsSubmitted).toBe(1);
  });

  it('counts ten milestones of one day in one patch of ten steps, without an empty patch', async () => {
    // Submitted, rejected, submitted again and approved after review, then all the way to the
    // incentives the same day, published once at its end: the most one partner reaches in a
    // day (an escalation comes at least a day after the submission it escalates).
    app.clock.set('2025-04-07T09:00:00.000Z');
    const reseller = await createPartnerWithProfile(app, {
      mpnVerified: false,
      companyName: 'Tenfold Traders',
    });
    const customer = await ok(
      app.api('POST', '/api/me/customers', {
        token: reseller.adminToken,
        body: newCustomer({ companyName: 'Wingtip Toys' }),
      }),
      201,
    );
    const customerId = customer.body.customerId as string;
    const order = await ok(
      app.api('POST', `/api/me/customers/${customerId}/orders`, {
        token: reseller.adminToken,
        body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
      }),
      201,
    );
    const e3 = order.body.lineItems[0].subscriptionId as string;
    await ok(submitEnrollment(app, reseller), 201);
    await decide(reseller.partnerId, 'reject');
    app.clock.advance({ hours: 1 });
    await ok(submitEnrollment(app, reseller), 201);
    app.clock.advance({ hours: 2 });
    await decide(reseller.partnerId, 'approve');
    const agreement = await app.api('GET', '/api/me/agreement', { token: reseller.adminToken });
    await ok(
      app.api('POST', '/api/me/agreement/acceptance', {
        token: reseller.adminToken,
        body: { templateId: agreement.body.templateId, version: agreement.body.version },
      }),
      201,
    );
    const provider = await createProvider(app);
    const invited = await ok(inviteReseller(app, provider, reseller), 201);
    await ok(
      app.api('POST', '/api/partner-invitations/accept', {
        token: reseller.adminToken,
        body: { token: tokenOf(invited.body.link) },
      }),
      200,
    );
    await ok(
      app.api('POST', `/api/me/customers/${customerId}/relationship-extension`, {
        token: reseller.adminToken,
        body: {
          providerId: provider.partnerId,
          customerConsentAttested: true,
          consentGivenBy: 'Dana Buyer (dana@wingtiptoys.example)',
          consentGivenAt: '2025-04-07T08:00:00.000Z',
        },
      }),
      201,
    );
    const transfer = await ok(
      app.api('POST', `/api/me/customers/${customerId}/transfers`, {
        token: reseller.adminToken,
        body: { providerId: provider.partnerId, lineItems: [{ subscriptionId: e3 }] },
      }),
      201,
    );
    await ok(
      app.api('POST', `/api/me/transfers/${transfer.body.transferId}/accept`, {
        token: provider.adminToken,
      }),
      200,
    );
    await app.runTimer('sendIncentiveInvitations');
    await app.api('POST', '/api/me/incentives/indirect-reseller/enrollment', {
      token: reseller.adminToken,
    });

    const { batches, services } = recordingBatches();
    await recordTransition(services, reseller.partnerId);
    const written = batches.at(-1)!;
    const patches = written.filter(
      (operation): operation is Extract<WriteOperation<PartnerDocument>, { op: 'patch' }> =>
        operation.op === 'patch',
    );
    // One patch of the day, holding its ten steps: a patch without steps changes nothing, yet
    // is one more operation of the batch sent to Cosmos DB.
    expect(patches.map((patch) => [patch.id, patch.steps.length])).toEqual([
      [transitionDayId('2025-04-07'), 10],
    ]);
    expect(written).toHaveLength(2); // with the partner's entry
    const report = await reportOf('2025-04-07', '2025-04-07');
    expect(report.funnel).toEqual({
      enrollmentsSubmitted: 1,
      autoApproved: 0,
      approvedAfterReview: 1,
      rejected: 1,
      agreementsAccepted: 1,
      firstPartnership: 1,
      firstCustomerExtended: 1,
      firstTransferCompleted: 1,
      incentivesInvited: 1,
      incentivesEnrolled: 1,
    });
  });
});

describe('the stuck list', () => {
  it('names partners stuck since the same instant in partner id order, whatever order they were recorded in', async () => {
    app.clock.set('2025-05-05T09:00:00.000Z');
    // Approved at once, none accepts the agreement: all at it since the same instant.
    const partners = [
      await createPartnerWithProfile(app, { mpnVerified: true }),
      await createPartnerWithProfile(app, { mpnVerified: true }),
      await createPartnerWithProfile(app, { mpnVerified: true }),
    ];
    for (const partner of partners) await ok(submitEnrollment(app, partner), 201);
    const ids = partners.map((partner) => partner.partnerId).sort();
    // Recorded the greatest id first.
    for (const partnerId of [...ids].reverse()) await recordTransition(app.services, partnerId);
    app.clock.set('2025-05-21T09:00:00.000Z');
    const stuck = (await reportOf('2025-05-01', '2025-05-31')).stuck.filter((entry) =>
      ids.includes(entry.partnerId),
    );
    expect(stuck.map((entry) => [entry.partnerId, entry.step, entry.since])).toEqual(
      ids.map((partnerId) => [partnerId, 'agreement', '2025-05-05T09:00:00.000Z']),
    );
  });
});
