import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { submitEnrollment } from '../support/enrollment';

let app: TestApp;
beforeAll(async () => {
  // A Friday evening, UTC: the three business days end on Wednesday evening.
  app = await startTestApp({ clock: new ManualClock('2026-03-06T18:30:00.000Z') });
});
afterAll(() => app.close());

const escalationsFor = async (partnerId: string) =>
  (await app.documents(partnerId, 'email')).filter(
    (email) => email.kind === 'enrollment-escalated',
  );

/** The escalation timer's last summary, as the operators' status page shows it. */
async function lastSummary(): Promise<Record<string, unknown>> {
  const response = await app.api('GET', '/api/operator/status', {
    token: await app.operatorToken(),
  });
  expect(response.status, response.text).toBe(200);
  return response.body.timers.find(
    (timer: { name: string }) => timer.name === 'escalatePendingEnrollments',
  ).lastSummary;
}

/** The warnings the escalation timer logged about a partner, each line's fields parsed. */
const warningsAbout = (partnerId: string) =>
  app.logs
    .filter(
      (entry) =>
        entry.level === 'warning' &&
        entry.functionName === 'escalatePendingEnrollments' &&
        entry.message.includes(partnerId),
    )
    .map((entry) => {
      const fields = entry.message.indexOf(' {');
      return {
        message: entry.message.slice(0, fields),
        fields: JSON.parse(entry.message.slice(fields + 1)),
      };
    });

describe('escalatePendingEnrollments', () => {
  it('emails the reviewers once, after three business days, however often it runs', async () => {
    const partner = await createPartnerWithProfile(app, {
      mpnVerified: false,
      companyName: 'Slow Review Ltd',
    });
    await submitEnrollment(app, partner);

    // Monday, Tuesday, and Wednesday 18:30 exactly: not yet.
    for (const moment of ['2026-03-09T12:00:00Z', '2026-03-10T12:00:00Z', '2026-03-11T18:30:00Z']) {
      app.clock.set(moment);
      await app.runTimer('escalatePendingEnrollments');
    }
    expect(await escalationsFor(partner.partnerId)).toHaveLength(0);

    expect(await lastSummary()).toEqual({ escalated: 0, enrollmentsPastReviewWindow: 0 });
    expect(warningsAbout(partner.partnerId)).toEqual([]);

    app.clock.set('2026-03-11T19:00:00Z');
    await app.runTimer('escalatePendingEnrollments');
    // The operators see the escalation counted, and one warning names the partner.
    expect(await lastSummary()).toEqual({ escalated: 1, enrollmentsPastReviewWindow: 1 });
    expect(warningsAbout(partner.partnerId)).toEqual([
      {
        message: `enrollment of partner ${partner.partnerId} escalated to the reviewers`,
        fields: expect.objectContaining({ partnerId: partner.partnerId }),
      },
    ]);
    await app.runTimer('escalatePendingEnrollments');
    expect(await lastSummary()).toEqual({ escalated: 0, enrollmentsPastReviewWindow: 1 });
    await Promise.all([
      app.runTimer('escalatePendingEnrollments'),
      app.runTimer('escalatePendingEnrollments'),
    ]);
    app.clock.advance({ days: 2 });
    await app.runTimer('escalatePendingEnrollments');

    const escalations = await escalationsFor(partner.partnerId);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ to: 'enrollment-reviewers@partner-transition.local' });
    expect(escalations[0].subject).toContain('Slow Review Ltd');
    expect(escalations[0].text).toContain(partner.partnerId);
    expect(warningsAbout(partner.partnerId)).toHaveLength(1);

    await app.runTimer('deliverEmails');
    const delivered = (await app.mailbox()).filter((email) =>
      email.subject.includes('Slow Review Ltd'),
    );
    expect(delivered).toHaveLength(1);
    const landing = await fetch(delivered[0]!.links[0]!);
    expect(landing.status).toBe(200);

    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body.escalatedAt).toBe('2026-03-11T19:00:00.000Z');
    expect(warningsAbout(partner.partnerId)).toHaveLength(1);

    // The partner's activity says why: since when, the window, and the deadline it passed
    // (Friday 18:30 plus three business days is Wednesday 18:30).
    const activity = await app.api('GET', '/api/me/activity?pageSize=50', {
      token: partner.adminToken,
    });
    expect(activity.status).toBe(200);
    const escalatedLines = activity.body.items.filter(
      (event: { action: string }) => event.action === 'enrollment-escalated',
    );
    expect(escalatedLines).toHaveLength(1);
    expect(escalatedLines[0].reason).toBe(
      `pending since ${enrollment.body.submittedAt}, over 3 business days (deadline 2026-03-11T18:30:00.000Z)`,
    );
  });

  it('escalates a weekend submission a millisecond after three business days from Monday 00:00, not at them', async () => {
    app.clock.set('2026-07-11T15:00:00Z'); // a Saturday: the days count from Monday 00:00
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    // Monday, Tuesday, Wednesday: the window ends Thursday 00:00.
    for (const moment of ['2026-07-15T23:59:59.999Z', '2026-07-16T00:00:00.000Z']) {
      app.clock.set(moment);
      await app.runTimer('escalatePendingEnrollments');
      expect(await escalationsFor(partner.partnerId), moment).toHaveLength(0);
    }
    app.clock.set('2026-07-16T00:00:00.001Z');
    await app.runTimer('escalatePendingEnrollments');
    expect(await escalationsFor(partner.partnerId)).toHaveLength(1);
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body.escalatedAt).toBe('2026-07-16T00:00:00.001Z');
  });

  it('escalates each submission once when two hosts start their first runs together', async () => {
    app.clock.set('2026-05-04T09:00:00Z'); // a Monday
    const partners = await Promise.all(
      Array.from({ length: 5 }, () => createPartnerWithProfile(app, { mpnVerified: false })),
    );
    for (const partner of partners) await submitEnrollment(app, partner);
    app.clock.set('2026-05-08T09:00:00Z'); // Friday: past three business days, none escalated yet
    const second = await startSecondHost(app, (services) => services);
    try {
      await Promise.all([
        app.runTimer('escalatePendingEnrollments'),
        second.runTimer('escalatePendingEnrollments'),
        app.runTimer('escalatePendingEnrollments'),
      ]);
    } finally {
      await second.close();
    }
    for (const partner of partners) {
      expect(await escalationsFor(partner.partnerId)).toHaveLength(1);
      const audit = await app.documents(partner.partnerId, 'audit');
      expect(audit.filter((event) => event.action === 'enrollment-escalated')).toHaveLength(1);
    }
  });

  it('does not escalate an enrollment approved between the query that found it and the write', async () => {
    app.clock.set('2026-06-01T09:00:00Z'); // a Monday
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    app.clock.set('2026-06-05T09:00:00Z'); // Friday: past three business days
    // A second host whose query hands over the pending enrollment it read, then an operator
    // approves it before the escalation's guarded write.
    const racing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        async *overduePendingEnrollments(cutoff) {
          for await (const found of services.partners.overduePendingEnrollments(cutoff)) {
            if (found.value.partnerId === partner.partnerId) {
              const decided = await app.api(
                'POST',
                `/api/operator/enrollments/${partner.partnerId}/decision`,
                { token: await app.operatorToken(), body: { decision: 'approve' } },
              );
              expect(decided.status).toBe(200);
            }
            yield found;
          }
        },
      }),
    }));
    try {
      await racing.runTimer('escalatePendingEnrollments');
    } finally {
      await racing.close();
    }
    expect(await escalationsFor(partner.partnerId)).toHaveLength(0);
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body).toMatchObject({ status: 'approved', escalatedAt: null });
    // The run that lost the race counts and logs no escalation.
    expect(await lastSummary()).toMatchObject({ escalated: 0 });
    expect(warningsAbout(partner.partnerId)).toEqual([]);
  });

  it('does not escalate an enrollment decided in time', async () => {
    app.clock.set('2026-03-16T09:00:00Z');
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    await app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
      token: await app.operatorToken(),
      body: { decision: 'approve' },
    });
    app.clock.advance({ days: 10 });
    await app.runTimer('escalatePendingEnrollments');
    expect(await escalationsFor(partner.partnerId)).toHaveLength(0);
  });

  it('escalates a resubmission again, as a new submission', async () => {
    app.clock.set('2026-04-06T09:00:00Z'); // a Monday
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    app.clock.set('2026-04-09T10:00:00Z'); // Thursday, past three business days
    await app.runTimer('escalatePendingEnrollments');
    await app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
      token: await app.operatorToken(),
      body: { decision: 'reject', reason: 'Incomplete address' },
    });
    await submitEnrollment(app, partner);
    app.clock.set('2026-04-14T11:00:00Z'); // Tuesday, past three business days again
    await app.runTimer('escalatePendingEnrollments');
    await app.runTimer('escalatePendingEnrollments');
    expect(await escalationsFor(partner.partnerId)).toHaveLength(2);
  });

  it('uses the configured window (five business days, as the current English page says)', async () => {
    const five = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: { ESCALATION_BUSINESS_DAYS: '5' },
    });
    try {
      const partner = await createPartnerWithProfile(five, { mpnVerified: false });
      await submitEnrollment(five, partner);
      five.clock.set('2026-03-06T10:00:00Z'); // Friday: four business days
      await five.runTimer('escalatePendingEnrollments');
      expect((await five.documents(partner.partnerId, 'email')).length).toBe(0);
      five.clock.set('2026-03-09T09:00:01Z'); // Monday, just past five business days
      await five.runTimer('escalatePendingEnrollments');
      expect((await five.documents(partner.partnerId, 'email')).length).toBe(1);
    } finally {
      await five.close();
    }
  });
});
