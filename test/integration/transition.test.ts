import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  createPartner,
  createPartnerWithProfile,
  globalAdminToken,
  masterRecord,
} from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { submitEnrollment } from '../support/enrollment';
import { newTenantId } from '../support/ids';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { extend, requestTransfer, resellerWithDirectCustomer } from '../support/transfers';
import { stepsOf, transitionOf, type TransitionAnswer } from '../support/transition';

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
});
