import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { approvedPartner } from '../support/enrollment';
import { tokenOf } from '../support/providers';

// The edges of docs/rules.md section 10 an operator and a partner see: the timer's summary and
// log lines (each naming its partner in its fields), the 30-day lateness threshold, and the
// audit trail and invitation link of an enrollment.

// A fresh app for each test: a run's summary counts every partner of the app.
let app: TestApp;
beforeEach(async () => {
  app = await startTestApp({ clock: new ManualClock('2027-01-04T09:00:00.000Z') });
});
afterEach(() => app.close());

const run = (): Promise<void> => app.runTimer('sendIncentiveInvitations');

/** The summary of the last sendIncentiveInvitations run, as its `timer run` line logs it. */
function lastSummary(): Record<string, unknown> {
  const line = app.logs
    .filter((entry) => entry.message.startsWith('timer run {'))
    .map((entry) => JSON.parse(entry.message.slice('timer run '.length)))
    .filter((timerRun) => timerRun.timerName === 'sendIncentiveInvitations')
    .at(-1);
  return line.summary;
}

/** The timer's lines of a level naming the partner: the message and the fields logged with it. */
function linesAbout(partnerId: string, level: string): { text: string; fields: any }[] {
  return app.logs
    .filter(
      (entry) =>
        entry.functionName === 'sendIncentiveInvitations' &&
        entry.level === level &&
        entry.message.includes(partnerId),
    )
    .map((entry) => {
      const at = entry.message.indexOf(' {"');
      return { text: entry.message.slice(0, at), fields: JSON.parse(entry.message.slice(at + 1)) };
    });
}

const fillEmail = async (partner: Awaited<ReturnType<typeof approvedPartner>>, email: string) => {
  const updated = await app.api('PUT', `/api/operator/partners/${partner.partnerId}`, {
    token: await app.operatorToken(),
    body: { ...partner.record, mpnAccountEmail: email },
  });
  expect(updated.status).toBe(200);
};

describe('sendIncentiveInvitations: what a run reports', () => {
  it('counts a queued invitation and a held partner apart, and logs each naming its partner', async () => {
    app.clock.set('2027-01-04T09:00:00.000Z');
    const invitable = await approvedPartner(app);
    const noEmail = await approvedPartner(app, { mpnAccountEmail: null });
    app.clock.advance({ minutes: 1 });
    await run();
    expect(lastSummary()).toMatchObject({ queued: 1, missingEmail: 1, held: 1, overdue: 0 });

    const queued = linesAbout(invitable.partnerId, 'information');
    expect(queued).toEqual([
      {
        text: `incentives invitation queued for partner ${invitable.partnerId}`,
        fields: expect.objectContaining({ partnerId: invitable.partnerId }),
      },
    ]);
    expect(linesAbout(invitable.partnerId, 'warning')).toEqual([]);
    expect(linesAbout(noEmail.partnerId, 'information')).toEqual([]);
    const missing = linesAbout(noEmail.partnerId, 'error');
    expect(missing).toHaveLength(1);
    expect(missing[0]!.text).toContain('no MPN account email');
    expect(missing[0]!.fields).toMatchObject({ partnerId: noEmail.partnerId });

    // The next run finds nothing due: nothing queued, the held partner still counted as held.
    app.clock.advance({ minutes: 1 });
    await run();
    expect(lastSummary()).toMatchObject({ queued: 0, missingEmail: 0, held: 1, overdue: 0 });
  });

  it('alerts once per run on a partner found overdue while it is being held, with its approval in the fields', async () => {
    app.clock.set('2027-02-01T09:00:00.000Z');
    const partner = await approvedPartner(app, { mpnAccountEmail: null });
    // No run until 30 days after the approval: this run holds it and finds it overdue at once.
    app.clock.set('2027-03-03T09:00:00.000Z');
    await run();
    const overdue = linesAbout(partner.partnerId, 'error').filter((line) =>
      line.text.includes('is overdue'),
    );
    expect(overdue).toEqual([
      {
        text: expect.stringContaining('approved 2027-02-01T09:00:00.000Z'),
        fields: expect.objectContaining({
          partnerId: partner.partnerId,
          approvedAt: '2027-02-01T09:00:00.000Z',
        }),
      },
    ]);
    expect(lastSummary()).toMatchObject({ missingEmail: 1, overdue: 1 });
  });
});

describe('sendIncentiveInvitations: the 30-day lateness warning', () => {
  it('warns of an invitation queued 30 days or more after the approval, not one a millisecond sooner', async () => {
    app.clock.set('2027-04-01T09:00:00.000Z');
    const early = await approvedPartner(app, { mpnAccountEmail: null });
    const late = await approvedPartner(app, { mpnAccountEmail: null });
    await run(); // both held for want of an email

    app.clock.set('2027-05-01T08:59:59.999Z'); // a millisecond before 30 days
    await fillEmail(early, 'early@contoso.example');
    await run();
    expect(lastSummary()).toMatchObject({ queued: 1 });
    expect(linesAbout(early.partnerId, 'warning')).toEqual([]);

    app.clock.set('2027-05-01T09:00:00.000Z'); // 30 days
    await fillEmail(late, 'late@contoso.example');
    await run();
    expect(lastSummary()).toMatchObject({ queued: 1 });
    expect(linesAbout(late.partnerId, 'warning')).toEqual([
      {
        text: `incentives invitation for partner ${late.partnerId} queued late, 30 days or more after the approval of 2027-04-01T09:00:00.000Z`,
        fields: expect.objectContaining({ partnerId: late.partnerId }),
      },
    ]);
    expect(linesAbout(early.partnerId, 'warning')).toEqual([]);
  });
});

describe('the audit trail and the link of incentives enrollments', () => {
  it('records the invitation, and each enrollment from the status of its own program', async () => {
    app.clock.set('2027-06-01T09:00:00.000Z');
    const partner = await approvedPartner(app);
    app.clock.advance({ minutes: 1 });
    await run();
    const [invitation] = await app.documents(partner.partnerId, 'incentive-invitation');
    const audit = async (action: string) =>
      (await app.documents(partner.partnerId, 'audit')).filter((event) => event.action === action);
    expect(await audit('incentives-invited')).toEqual([
      expect.objectContaining({
        from: 'not-invited',
        to: 'invited',
        reason: expect.stringMatching(
          new RegExp(`invitation ${invitation.invitationId} sent to the MPN account email$`),
        ),
      }),
    ]);

    // Direct bill, never invited, goes from not-invited; the invitation's link stays usable.
    app.clock.advance({ minutes: 1 });
    const direct = await app.api('POST', '/api/me/incentives/direct-bill/enrollment', {
      token: partner.adminToken,
    });
    expect(direct.status).toBe(201);
    const [stillActive] = await app.documents(partner.partnerId, 'incentive-invitation');
    expect(stillActive).toMatchObject({ status: 'active' });
    expect(stillActive.usedAt ?? null).toBeNull();

    // The indirect reseller incentives go from invited, and use the link up.
    app.clock.advance({ minutes: 1 });
    const indirect = await app.api('POST', '/api/me/incentives/indirect-reseller/enrollment', {
      token: partner.adminToken,
    });
    expect(indirect.status).toBe(201);
    const enrolled = await audit('incentives-enrolled');
    const byReason = (reason: string) => enrolled.find((event) => event.reason === reason);
    expect(enrolled).toHaveLength(2);
    expect(byReason('direct-bill incentives')).toMatchObject({
      from: 'not-invited',
      to: 'enrolled',
    });
    expect(byReason('indirect-reseller incentives')).toMatchObject({
      from: 'invited',
      to: 'enrolled',
    });
    const [used] = await app.documents(partner.partnerId, 'incentive-invitation');
    expect(used).toMatchObject({ status: 'used', usedAt: '2027-06-01T09:03:00.000Z' });
  });

  it('leaves the link unused when enrolling in direct bill only', async () => {
    app.clock.set('2027-07-01T09:00:00.000Z');
    const partner = await approvedPartner(app, { companyName: 'Direct Only Ltd' });
    app.clock.advance({ minutes: 1 });
    await run();
    await app.runTimer('deliverEmails');
    const [email] = (await app.mailbox()).filter(
      (sent) => sent.subject.includes('Direct Only Ltd') && sent.subject.includes('incentives'),
    );
    app.clock.advance({ minutes: 1 });
    const direct = await app.api('POST', '/api/me/incentives/direct-bill/enrollment', {
      token: partner.adminToken,
    });
    expect(direct.status).toBe(201);
    const lookup = await app.api('POST', '/api/incentive-invitations/lookup', {
      body: { token: tokenOf(email!.links[0]!) },
    });
    expect(lookup.status).toBe(200);
    expect(lookup.body.status).not.toBe('accepted');
  });
});
