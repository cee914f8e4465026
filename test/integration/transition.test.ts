import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, createPartnerWithProfile, globalAdminToken } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { submitEnrollment } from '../support/enrollment';
import { newTenantId } from '../support/ids';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { extend, requestTransfer, resellerWithDirectCustomer } from '../support/transfers';
import { stepsOf, transitionOf } from '../support/transition';

let app: TestApp;
beforeAll(async () => {
  // A Monday morning: three business days after it is Thursday.
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('GET /api/me/transition', () => {
  it('answers each step of a partner just recorded: its profile to do, the others not yet, nothing counted', async () => {
    const { partnerId } = await createPartner(app);
    const view = await transitionOf(app, await globalAdminToken(app, partnerId));
    expect(stepsOf(view)).toEqual({
      profile: 'todo',
      enrollment: 'not-yet',
      approval: 'not-yet',
      agreement: 'not-yet',
      provider: 'not-yet',
      customers: 'not-yet',
      subscriptions: 'not-yet',
      incentives: 'not-yet',
    });
    expect(view.next).toBe('profile');
    expect(view.steps[0]).toMatchObject({
      action: { method: 'PUT', path: '/api/me/profile' },
      detail: expect.stringContaining('profile'),
    });
    expect(view.counts).toEqual({
      providers: 0,
      customers: { directBill: 0, extendedToProvider: 0, indirect: 0 },
      subscriptions: { directBillActive: 0, inTransfer: 0, transferred: 0 },
    });
  });

  it('follows a direct-bill partner through every stage, each step as docs/rules.md section 14 says', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    const token = partner.adminToken;
    let view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({ profile: 'done', enrollment: 'todo' });
    expect(view.next).toBe('enrollment');

    // Submitted on a Monday at 09:00: the reviewers decide by Thursday 09:00.
    const submittedAt = app.clock.now().toISOString();
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({
      enrollment: 'done',
      approval: 'waiting',
      agreement: 'not-yet',
      incentives: 'not-yet',
    });
    expect(view.steps[1]).toMatchObject({ at: submittedAt });
    expect(view.steps[2]).toMatchObject({
      waitingOn: 'reviewers',
      dueBy: '2026-03-05T09:00:00.000Z',
    });
    expect(view.next).toBeNull();

    const approved = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'approve' },
      },
    );
    expect(approved.status).toBe(200);
    view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({
      approval: 'done',
      agreement: 'todo',
      provider: 'todo',
      customers: 'not-yet',
      incentives: 'waiting',
    });
    expect(view.next).toBe('agreement');
    expect(view.steps[7]).toMatchObject({
      waitingOn: 'platform',
      dueBy: new Date(Date.parse(app.clock.now().toISOString()) + 30 * 86_400_000).toISOString(),
    });
  });

  it('says a review past its window is late, then a rejection blocks the approval with its reason until the partner submits again', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    const token = partner.adminToken;
    const submitted = app.clock.now();
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    const dueBy = (await transitionOf(app, token)).steps[2]!.dueBy!;
    // Past the review window (three business days): still waiting on the reviewers, said late.
    app.clock.set(new Date(Date.parse(dueBy) + 60_000).toISOString());
    await app.runTimer('escalatePendingEnrollments');
    let view = await transitionOf(app, token);
    expect(view.steps[2]).toMatchObject({ status: 'waiting', waitingOn: 'reviewers', dueBy });
    expect(view.steps[2]!.detail).toContain('has been escalated');
    expect(view.next).toBeNull();

    const rejected = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'reject', reason: 'MPN ID unknown' },
      },
    );
    expect(rejected.status, rejected.text).toBe(200);
    view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({
      profile: 'done',
      enrollment: 'todo',
      approval: 'blocked',
      agreement: 'not-yet',
      incentives: 'not-yet',
    });
    expect(view.next).toBe('enrollment');
    expect(view.steps[1]!.detail).toContain('MPN ID unknown');
    expect(view.steps[1]!.action).toMatchObject({ method: 'POST', path: '/api/me/enrollment' });
    expect(view.steps[2]!.detail).toContain('MPN ID unknown');

    // Submitted again: waiting on the reviewers, due three business days after the new one.
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({ enrollment: 'done', approval: 'waiting' });
    expect(view.steps[2]!.dueBy! > dueBy).toBe(true);
    expect(Date.parse(view.steps[1]!.at!)).toBeGreaterThan(submitted.getTime());
  });

  it('follows a reseller with its own customer from partnership to transferred subscriptions, counting each move', async () => {
    const world = await resellerWithDirectCustomer(app);
    const token = world.reseller.adminToken;
    // The order's subscriptions are counted when its event is relayed to the reseller.
    await app.runTimer('deliverEvents');
    let view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({
      agreement: 'done',
      provider: 'done',
      customers: 'todo',
      subscriptions: 'not-yet',
    });
    expect(view.next).toBe('customers');
    expect(view.steps[5]!.action).toMatchObject({
      method: 'POST',
      path: '/api/me/customers/{customerId}/relationship-extension',
    });
    expect(view.counts).toEqual({
      providers: 1,
      customers: { directBill: 1, extendedToProvider: 0, indirect: 0 },
      subscriptions: { directBillActive: 3, inTransfer: 0, transferred: 0 },
    });

    const extendedAt = app.clock.now().toISOString();
    expect((await extend(app, world)).status).toBe(201);
    view = await transitionOf(app, token);
    expect(stepsOf(view)).toMatchObject({ customers: 'done', subscriptions: 'todo' });
    expect(view.steps[5]).toMatchObject({ at: extendedAt });
    expect(view.counts.customers).toEqual({ directBill: 0, extendedToProvider: 1, indirect: 0 });

    app.clock.advance({ hours: 1 });
    const requested = await requestTransfer(app, world, [
      world.subscriptions.e3,
      world.subscriptions.phone,
    ]);
    expect(requested.status, requested.text).toBe(201);
    view = await transitionOf(app, token);
    expect(view.steps[6]).toMatchObject({ status: 'waiting', waitingOn: 'provider' });
    expect(view.counts.subscriptions).toEqual({
      directBillActive: 3,
      inTransfer: 2,
      transferred: 0,
    });

    app.clock.advance({ hours: 1 });
    const completedAt = app.clock.now().toISOString();
    const accepted = await app.api(
      'POST',
      `/api/me/transfers/${requested.body.transferId}/accept`,
      {
        token: world.provider.adminToken,
      },
    );
    expect(accepted.status, accepted.text).toBe(200);
    view = await transitionOf(app, token);
    expect(view.steps[6]).toMatchObject({ status: 'done', at: completedAt });
    expect(view.steps[6]!.detail).toContain('2 subscriptions were transferred');
    // The Azure plan stays billed directly: it is not a license, so it does not move.
    expect(view.counts.subscriptions).toEqual({
      directBillActive: 1,
      inTransfer: 0,
      transferred: 2,
    });

    const ended = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${world.reseller.partnerId}`,
      {
        token: world.provider.adminToken,
      },
    );
    expect(ended.status, ended.text).toBe(200);
    view = await transitionOf(app, token);
    expect(view.steps[4]).toMatchObject({ status: 'todo' });
    expect(view.steps[4]!.detail).toContain('partnership ended');
    // The operators' report lists it as waiting for a provider again since the end, not since
    // its enrollment, once that has lasted TRANSITION_STUCK_DAYS (14).
    await app.runTimer('deliverEvents');
    app.clock.advance({ days: 15 });
    const report = await app.api(
      'GET',
      '/api/operator/reports/transitions?from=2026-01-01&to=2026-12-31',
      {
        token: await app.operatorToken(),
      },
    );
    expect(report.status, report.text).toBe(200);
    expect(
      report.body.stuck.filter(
        (entry: { partnerId: string }) => entry.partnerId === world.reseller.partnerId,
      ),
    ).toEqual([expect.objectContaining({ step: 'provider', since: ended.body.endedAt })]);
    expect(view.counts.providers).toBe(0);
    // What moved stays moved.
    expect(stepsOf(view)).toMatchObject({ customers: 'done', subscriptions: 'done' });
  });

  it('takes the incentives from waiting on the platform to invited (to do) to enrolled (done)', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    expect((await transitionOf(app, partner.adminToken)).steps[7]).toMatchObject({
      status: 'waiting',
      waitingOn: 'platform',
    });
    await app.runTimer('sendIncentiveInvitations');
    let incentives = (await transitionOf(app, partner.adminToken)).steps[7]!;
    expect(incentives).toMatchObject({
      status: 'todo',
      action: { method: 'POST', path: '/api/me/incentives/indirect-reseller/enrollment' },
    });
    const enrolled = await app.api('POST', '/api/me/incentives/indirect-reseller/enrollment', {
      token: partner.adminToken,
    });
    expect(enrolled.status, enrolled.text).toBe(201);
    incentives = (await transitionOf(app, partner.adminToken)).steps[7]!;
    expect(incentives).toMatchObject({ status: 'done', at: enrolled.body.enrolledAt });
  });

  it('says the invitation is blocked while no MPN account email is on record', async () => {
    const partner = await createPartnerWithProfile(app, {
      mpnVerified: true,
      mpnAccountEmail: null,
    });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    await app.runTimer('sendIncentiveInvitations');
    const incentives = (await transitionOf(app, partner.adminToken)).steps[7]!;
    expect(incentives.status).toBe('blocked');
    expect(incentives.detail).toContain('no MPN account email');
  });

  it('counts customers a provider creates for the reseller as indirect, and tells the reseller with none of its own that moving is optional', async () => {
    const world = await resellerWithDirectCustomer(app, { azurePlan: false });
    const created = await app.api('POST', '/api/me/customers', {
      token: world.provider.adminToken,
      body: newCustomer({ indirectResellerId: world.reseller.partnerId }),
    });
    expect(created.status, created.text).toBe(201);
    const view = await transitionOf(app, world.reseller.adminToken);
    expect(view.counts.customers).toEqual({ directBill: 1, extendedToProvider: 0, indirect: 1 });

    const provider = await createProvider(app, { companyName: 'Fabrikam Supply' });
    const newcomer = await createPartnerWithProfile(app, { mpnVerified: true });
    expect((await submitEnrollment(app, newcomer)).status).toBe(201);
    const agreement = await app.api('GET', '/api/me/agreement', { token: newcomer.adminToken });
    await app.api('POST', '/api/me/agreement/acceptance', {
      token: newcomer.adminToken,
      body: { templateId: agreement.body.templateId, version: agreement.body.version },
    });
    const invited = await inviteReseller(app, provider, newcomer);
    await app.api('POST', '/api/partner-invitations/accept', {
      token: newcomer.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    const none = await transitionOf(app, newcomer.adminToken);
    expect(stepsOf(none)).toMatchObject({
      provider: 'done',
      customers: 'optional',
      subscriptions: 'optional',
    });
    expect(none.steps[5]!.action).toMatchObject({
      method: 'POST',
      path: '/api/me/customer-invitations',
    });
  });

  it("answers in the partner's language: French for a partner in France, with Content-Language", async () => {
    const { partnerId } = await createPartner(app, { country: 'FR' });
    const response = await app.api('GET', '/api/me/transition', {
      token: await globalAdminToken(app, partnerId),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-language')).toBe('fr');
    expect(response.body.steps[0].detail).toContain('profil partenaire');
  });

  it('answers 404 to a tenant without a partner record', async () => {
    const response = await app.api('GET', '/api/me/transition', {
      token: await globalAdminToken(app, newTenantId()),
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });
});
