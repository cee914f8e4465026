import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/app/services';
import { startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { activeReseller, approvedPartner, submitEnrollment } from '../support/enrollment';

/**
 * The edges of enrollment and the agreement (docs/rules.md sections 2 and 3): the texts of each
 * refusal, the audit trail the partner reads in its activity, the emails each step queues, and
 * the agreement in force once the platform offers a newer one.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-07-06T09:00:00.000Z') });
});
afterAll(() => app.close());

type Partner = Awaited<ReturnType<typeof createPartnerWithProfile>>;

const agreement = { templateId: 'indirect-reseller-agreement', version: '2026-01' };

const acceptAgreement = (partner: Partner, body: Record<string, string> = agreement) =>
  app.api('POST', '/api/me/agreement/acceptance', { token: partner.adminToken, body });

const decide = async (partner: Partner, body: Record<string, string>) =>
  app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
    token: await app.operatorToken(),
    body,
  });

/** The partner's audit events of the enrollment, newest first, as its activity lists them. */
async function enrollmentActivity(partner: Partner, host: TestApp = app) {
  const page = await host.api('GET', '/api/me/activity?pageSize=100', {
    token: partner.adminToken,
  });
  expect(page.status).toBe(200);
  return (page.body.items as { action: string }[]).filter((item) =>
    item.action.startsWith('enrollment-'),
  );
}

describe('submitting', () => {
  it('says which enrollment the partner already has', async () => {
    const pending = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, pending)).status).toBe(201);
    const again = await submitEnrollment(app, pending);
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(
      'This partner already has an enrollment (pending-approval); a partner enrolls once.',
    );
    const approved = await approvedPartner(app);
    expect((await submitEnrollment(app, approved)).body.detail).toBe(
      'This partner already has an enrollment (approved); a partner enrolls once.',
    );
  });

  it('records an automatic approval after the submission it follows, by the system, with why', async () => {
    // Ids that sort the other way round from the order they are made in: the activity's order
    // of two events of one instant is then the order the app gave them, not the ids' luck.
    let next = 0xffffffffffff;
    const host = await startSecondHost(app, (services: Services) => ({
      ...services,
      ids: {
        newId: () => {
          const hex = (next -= 1).toString(16).padStart(12, '0');
          return `${hex.slice(0, 8)}-${hex.slice(8)}-4000-8000-${crypto.randomUUID().slice(-12)}`;
        },
      },
    }));
    try {
      const partner = await createPartnerWithProfile(app, { mpnVerified: true });
      const token = await host.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] });
      const submitted = await submitEnrollment(host, { ...partner, adminToken: token });
      expect(submitted.body.status).toBe('approved');
      expect(await enrollmentActivity({ ...partner, adminToken: token }, host)).toEqual([
        expect.objectContaining({
          action: 'enrollment-approved',
          actor: expect.objectContaining({ kind: 'system' }),
          from: 'pending-approval',
          to: 'approved',
          reason: 'every automatic check passed',
        }),
        expect.objectContaining({
          action: 'enrollment-pending-approval',
          actor: expect.objectContaining({ kind: 'user', tenantId: partner.partnerId }),
          from: 'not-enrolled',
          to: 'pending-approval',
          reason: null,
        }),
      ]);
    } finally {
      await host.close({ keepDatabase: true });
    }
  });
});

describe("an operator's decision", () => {
  it('is recorded as the operator’s, with the reason given for a rejection and none for an approval', async () => {
    const approved = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, approved);
    app.clock.advance({ minutes: 1 });
    expect((await decide(approved, { decision: 'approve' })).status).toBe(200);
    const [approval] = await enrollmentActivity(approved);
    expect(approval).toMatchObject({
      action: 'enrollment-approved',
      actor: { kind: 'operator' },
      from: 'pending-approval',
      to: 'approved',
      reason: null,
    });
    const rejected = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, rejected);
    app.clock.advance({ minutes: 1 });
    expect(
      (await decide(rejected, { decision: 'reject', reason: 'Address not verified' })).status,
    ).toBe(200);
    const [rejection] = await enrollmentActivity(rejected);
    expect(rejection).toMatchObject({
      action: 'enrollment-rejected',
      actor: { kind: 'operator' },
      to: 'rejected',
      reason: 'Address not verified',
    });
  });

  it('says what the enrollment is when it is not pending approval', async () => {
    const approved = await approvedPartner(app);
    const twice = await decide(approved, { decision: 'approve' });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe(
      'The enrollment is approved, not pending approval; it has been decided already or was never submitted.',
    );
    const never = await createPartnerWithProfile(app);
    const undecidable = await decide(never, { decision: 'reject', reason: 'No' });
    expect(undecidable.status).toBe(409);
    expect(undecidable.body.detail).toBe(
      'The enrollment is not-enrolled, not pending approval; it has been decided already or was never submitted.',
    );
  });
});

describe('the agreement', () => {
  it('says from when it is offered and accepted, naming the enrollment status', async () => {
    const pending = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, pending);
    const read = await app.api('GET', '/api/me/agreement', { token: pending.adminToken });
    expect(read.status).toBe(409);
    expect(read.body.detail).toBe(
      'The indirect reseller agreement is offered once the enrollment is approved; it is pending-approval.',
    );
    const accepted = await acceptAgreement(pending);
    expect(accepted.status).toBe(409);
    expect(accepted.body.detail).toBe(
      'The agreement can be accepted once the enrollment is approved; it is pending-approval.',
    );
  });

  it('names the current agreement to a partner accepting another template or version', async () => {
    const partner = await approvedPartner(app);
    for (const body of [
      { ...agreement, version: '2025-01' },
      { ...agreement, templateId: 'another-agreement' },
    ]) {
      const refused = await acceptAgreement(partner, body);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe(
        'That is not the current agreement: accept indirect-reseller-agreement version 2026-01.',
      );
    }
    const read = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(read.body.status).toBe('approved');
  });

  it('is recorded as accepted in its version, queues no email, and reads as accepted', async () => {
    const partner = await approvedPartner(app);
    app.clock.advance({ minutes: 10 });
    const accepted = await acceptAgreement(partner);
    expect(accepted.status).toBe(201);
    const [activation] = await enrollmentActivity(partner);
    expect(activation).toMatchObject({
      action: 'enrollment-active',
      actor: { kind: 'user', tenantId: partner.partnerId },
      from: 'approved',
      to: 'active',
      reason: 'agreement 2026-01 accepted',
    });
    const emails = await app.documents(partner.partnerId, 'email');
    expect(emails.map((email) => email.kind)).toEqual(['enrollment-approved']);
    const read = await app.api('GET', '/api/me/agreement', { token: partner.adminToken });
    expect(read.body).toMatchObject({
      ...agreement,
      accepted: true,
      acceptance: accepted.body.acceptance,
    });
  });

  it('stays the one accepted once the platform offers a newer version, which a new partner accepts', async () => {
    const partner = await activeReseller(app);
    const approved = await approvedPartner(app);
    const newer = await startSecondHost(app, (services) => services, {
      AGREEMENT_TEMPLATE_ID: 'reseller-agreement-2',
      AGREEMENT_VERSION: '2026-07',
    });
    try {
      const readBy = async (who: Partner) =>
        (
          await newer.api('GET', '/api/me/agreement', {
            token: await newer.token({ tenant: who.partnerId, roles: ['GlobalAdmin'] }),
          })
        ).body;
      expect(await readBy(partner)).toMatchObject({ ...agreement, accepted: true });
      expect(await readBy(approved)).toMatchObject({
        templateId: 'reseller-agreement-2',
        version: '2026-07',
        accepted: false,
        acceptance: null,
      });
      const token = await newer.token({ tenant: partner.partnerId, roles: ['GlobalAdmin'] });
      for (const body of [
        { templateId: 'reseller-agreement-2', version: '2026-07' },
        { ...agreement, version: '2026-07' },
        { ...agreement, templateId: 'reseller-agreement-2' },
      ]) {
        const refused = await newer.api('POST', '/api/me/agreement/acceptance', { token, body });
        expect(refused.status).toBe(409);
        expect(refused.body.detail).toBe(
          'The agreement was accepted in indirect-reseller-agreement version 2026-01; that is the one in force.',
        );
      }
      const same = await newer.api('POST', '/api/me/agreement/acceptance', {
        token,
        body: agreement,
      });
      expect(same.status).toBe(200);
    } finally {
      await newer.close({ keepDatabase: true });
    }
  });
});

describe('withdrawing', () => {
  it('says there is nothing to withdraw before a submission, and why nothing is withdrawn after', async () => {
    const never = await createPartnerWithProfile(app);
    const nothing = await app.api('DELETE', '/api/me/enrollment', { token: never.adminToken });
    expect(nothing.status).toBe(404);
    expect(nothing.body.detail).toBe('There is no enrollment to withdraw.');
    const pending = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, pending);
    const refused = await app.api('DELETE', '/api/me/enrollment', { token: pending.adminToken });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      'Becoming an indirect reseller is irreversible: an enrollment cannot be withdrawn, deleted or reverted once submitted, and the indirect reseller capabilities cannot be removed.',
    );
  });
});
