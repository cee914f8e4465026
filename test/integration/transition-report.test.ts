import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DependencyUnavailable,
  WriteConflict,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import { recordTransition } from '../../shared/app/transition-report';
import { transitionReportPartition } from '../../shared/domain/transition-report';
import { startSecondHost, startTestApp, override, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { submitEnrollment } from '../support/enrollment';
import { createProvider, inviteReseller } from '../support/providers';
import { extend, requestTransfer, resellerWithDirectCustomer } from '../support/transfers';

/**
 * The operators' transition report (docs/rules.md section 14) over a year of operators' data:
 * partners enrolling month after month, approved at once or after review, rejected, escalated,
 * moving customers and subscriptions, invited to the incentives, and some stuck.
 */
let app: TestApp;
const start = '2025-01-06T09:00:00.000Z'; // a Monday
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock(start) });
});
afterAll(() => app.close());

const publish = () => app.runTimer('deliverEvents');

async function reportOf(from: string, to: string, headers: Record<string, string> = {}) {
  return app.api('GET', `/api/operator/reports/transitions?from=${from}&to=${to}`, {
    token: await app.operatorToken(),
    headers,
  });
}

const decide = async (partnerId: string, decision: 'approve' | 'reject') =>
  app.api('POST', `/api/operator/enrollments/${partnerId}/decision`, {
    token: await app.operatorToken(),
    body: decision === 'approve' ? { decision } : { decision, reason: 'MPN ID unknown' },
  });

/** One month's newcomer, submitted now and approved after review `hours` later. */
async function reviewedAfter(hours: number, name: string) {
  const partner = await createPartnerWithProfile(app, { mpnVerified: false, companyName: name });
  expect((await submitEnrollment(app, partner)).status).toBe(201);
  await publish();
  app.clock.advance({ hours });
  await app.runTimer('escalatePendingEnrollments');
  expect((await decide(partner.partnerId, 'approve')).status).toBe(200);
  await publish();
  return partner;
}

const world: {
  full?: Awaited<ReturnType<typeof resellerWithDirectCustomer>>;
  stuckInReview?: { partnerId: string };
  stuckAtAgreement?: { partnerId: string };
  stuckAtAgreementSince?: string;
  stuckInReviewSince?: string;
} = {};

describe('a year of operators’ data', () => {
  beforeAll(async () => {
    // January: a partner approved at once goes all the way, its subscriptions transferred.
    const full = await resellerWithDirectCustomer(app, { companyName: 'Northwind Traders' });
    await publish();
    app.clock.advance({ days: 1 });
    expect((await extend(app, full)).status).toBe(201);
    await publish();
    app.clock.advance({ days: 1 });
    const transfer = await requestTransfer(app, full, [full.subscriptions.e3]);
    await publish();
    app.clock.advance({ days: 1 });
    await app.api('POST', `/api/me/transfers/${transfer.body.transferId}/accept`, {
      token: full.provider.adminToken,
    });
    await app.runTimer('sendIncentiveInvitations');
    await publish();
    await app.api('POST', '/api/me/incentives/indirect-reseller/enrollment', {
      token: full.reseller.adminToken,
    });
    await publish();
    world.full = full;

    // February to May: one partner a month approved after review: 6, 30, 54 and 126 hours. The
    // last waits over three business days and is escalated.
    for (const [month, hours] of [
      ['2025-02-03', 6],
      ['2025-03-03', 30],
      ['2025-04-07', 54],
      ['2025-05-05', 126],
    ] as const) {
      app.clock.set(`${month}T09:00:00.000Z`);
      await reviewedAfter(hours, `Partner of ${month}`);
    }

    // June: one rejected, who submits again and is approved at once in July.
    app.clock.set('2025-06-02T09:00:00.000Z');
    const rejected = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, rejected);
    await publish();
    app.clock.advance({ hours: 2 });
    expect((await decide(rejected.partnerId, 'reject')).status).toBe(200);
    await publish();

    // September: one approved at once who never accepts the agreement.
    app.clock.set('2025-09-01T09:00:00.000Z');
    const idle = await createPartnerWithProfile(app, { mpnVerified: true });
    await submitEnrollment(app, idle);
    await publish();
    world.stuckAtAgreement = idle;
    world.stuckAtAgreementSince = app.clock.now().toISOString();

    // December: one submitted for review that nobody decides.
    app.clock.set('2025-12-01T09:00:00.000Z');
    const waiting = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, waiting);
    await publish();
    world.stuckInReview = waiting;
    world.stuckInReviewSince = app.clock.now().toISOString();

    app.clock.set('2025-12-31T12:00:00.000Z');
    await app.runTimer('escalatePendingEnrollments');
    await publish();
  }, 120_000);

  it('counts the funnel over the year, each partner once per stage', async () => {
    const report = await reportOf('2025-01-01', '2025-12-31');
    expect(report.status, report.text).toBe(200);
    expect(report.body.funnel).toEqual({
      enrollmentsSubmitted: 8,
      autoApproved: 2,
      approvedAfterReview: 4,
      rejected: 1,
      agreementsAccepted: 1,
      firstPartnership: 1,
      firstCustomerExtended: 1,
      firstTransferCompleted: 1,
      incentivesInvited: 1,
      incentivesEnrolled: 1,
    });
  });

  it('gives the time to approval after review, median, 90th percentile and maximum', async () => {
    const report = await reportOf('2025-01-01', '2025-12-31');
    expect(report.body.timeToApprovalHours).toEqual({ p50: 30, p90: 126, max: 126 });
  });

  it('counts the enrollments past the review window', async () => {
    const report = await reportOf('2025-01-01', '2025-12-31');
    // May's, decided after 126 hours, and December's, still waiting.
    expect(report.body.pastReviewWindow).toBe(2);
  });

  it('lists the partners stuck at one step longer than TRANSITION_STUCK_DAYS, longest first', async () => {
    const report = await reportOf('2025-01-01', '2025-12-31');
    // Four approved after review who never accepted the agreement, the rejected one who never
    // submitted again, the one approved at once in September, and December's waiting for the
    // reviewers; the partner who went all the way is at no step.
    expect(report.body.stuck.map((entry: { step: string }) => entry.step)).toEqual([
      'agreement',
      'agreement',
      'agreement',
      'agreement',
      'enrollment',
      'agreement',
      'approval',
    ]);
    expect(report.body.stuck.at(-2)).toEqual({
      partnerId: world.stuckAtAgreement!.partnerId,
      companyName: 'Contoso Ltd',
      step: 'agreement',
      since: world.stuckAtAgreementSince,
    });
    expect(report.body.stuck.at(-1)).toMatchObject({
      partnerId: world.stuckInReview!.partnerId,
      since: world.stuckInReviewSince,
    });
    const partners = report.body.stuck.map((entry: { partnerId: string }) => entry.partnerId);
    expect(partners).not.toContain(world.full!.reseller.partnerId);
  });

  it('counts only what happened in the period asked for', async () => {
    const march = await reportOf('2025-03-01', '2025-03-31');
    expect(march.body.funnel).toMatchObject({
      enrollmentsSubmitted: 1,
      approvedAfterReview: 1,
      autoApproved: 0,
    });
    expect(march.body.timeToApprovalHours).toEqual({ p50: 30, p90: 30, max: 30 });
    const empty = await reportOf('2024-01-01', '2024-12-31');
    expect(empty.body.timeToApprovalHours).toEqual({ p50: null, p90: null, max: null });
    expect(empty.body.funnel.enrollmentsSubmitted).toBe(0);
  });

  it('answers the stuck list as CSV with Accept: text/csv', async () => {
    const response = await reportOf('2025-01-01', '2025-12-31', { accept: 'text/csv' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = response.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('partnerId,companyName,step,since');
    expect(lines).toHaveLength(1 + 7);
    expect(lines).toContain(
      `${world.stuckInReview!.partnerId},Contoso Ltd,approval,${world.stuckInReviewSince}`,
    );
    // JSON stays the answer when JSON is preferred.
    const json = await reportOf('2025-01-01', '2025-12-31', {
      accept: 'application/json, text/csv;q=0.5',
    });
    expect(json.headers.get('content-type')).toContain('application/json');
  });

  it('lists a partner as stuck only once it has waited longer than TRANSITION_STUCK_DAYS (14) at its step', async () => {
    const restore = app.clock.now().toISOString();
    try {
      app.clock.set('2026-02-02T09:00:00.000Z');
      const waiting = await createPartnerWithProfile(app, { mpnVerified: false });
      expect((await submitEnrollment(app, waiting)).status).toBe(201);
      await publish();
      const listed = async () =>
        (await reportOf('2026-01-01', '2026-12-31')).body.stuck.map(
          (entry: { partnerId: string }) => entry.partnerId,
        );
      expect(await listed()).not.toContain(waiting.partnerId);
      app.clock.set('2026-02-16T08:59:59.999Z');
      expect(await listed()).not.toContain(waiting.partnerId);
      // Exactly 14 days: not yet longer than them.
      app.clock.set('2026-02-16T09:00:00.000Z');
      expect(await listed()).not.toContain(waiting.partnerId);
      app.clock.set('2026-02-16T09:00:00.001Z');
      expect(await listed()).toContain(waiting.partnerId);
    } finally {
      app.clock.set(restore);
    }
  });
});

describe('GET /api/operator/reports/transitions refuses a period it cannot answer', () => {
  it.each([
    ['a missing end', 'from=2025-01-01'],
    ['an end before the start', 'from=2025-02-01&to=2025-01-31'],
    ['more than 366 days', 'from=2025-01-01&to=2026-01-02'],
    ['a day that does not exist', 'from=2025-02-29&to=2025-03-01'],
    ['a date in another format', 'from=01/02/2025&to=2025-03-01'],
  ])('with 400 problem+json: %s', async (_, query) => {
    const response = await app.api('GET', `/api/operator/reports/transitions?${query}`, {
      token: await app.operatorToken(),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(response.body.code).toBe('validation-failed');
  });

  it('answers a leap year in full (366 days)', async () => {
    expect((await reportOf('2024-01-01', '2024-12-31')).status).toBe(200);
  });
});

describe('the report, recorded by the event publisher', () => {
  /** A partner submitted on `day` (a day no other test records), and services whose report commits go through `commit`. */
  async function submittedOn(
    day: string,
    commit: (
      operations: WriteOperation<PartnerDocument>[],
      write: () => Promise<string | null>,
    ) => Promise<string | null>,
  ) {
    const restore = app.clock.now().toISOString();
    app.clock.set(`${day}T09:00:00.000Z`);
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    app.clock.set(restore);
    const services = {
      ...app.services,
      partners: override(app.services.partners, {
        commit: async (partnerId, operations) =>
          partnerId === transitionReportPartition
            ? commit(operations, () => app.services.partners.commit(partnerId, operations))
            : app.services.partners.commit(partnerId, operations),
      }),
    };
    return { partner, services };
  }

  it("counts the day's first milestone when another recording created the day's document first", async () => {
    const { partner, services } = await submittedOn('2025-10-13', async (operations, write) => {
      const created = await write();
      if (operations[0]?.op === 'create' && operations[0].document.type === 'transition-day')
        throw new WriteConflict('exists', 0); // the other recording's create came first
      return created;
    });
    await recordTransition(services, partner.partnerId);
    const report = await reportOf('2025-10-13', '2025-10-13');
    expect(report.body.funnel.enrollmentsSubmitted).toBe(1);
  });

  it("fails the recording when the day's document cannot be created, for another reason than its existing", async () => {
    const unavailable = new DependencyUnavailable('Cosmos DB');
    const { partner, services } = await submittedOn('2025-10-14', async (operations, write) => {
      if (operations[0]?.op === 'create' && operations[0].document.type === 'transition-day')
        throw unavailable;
      return write();
    });
    await expect(recordTransition(services, partner.partnerId)).rejects.toBe(unavailable);
  });

  it("creates a missing day's document at most once per write of the batch, then fails like any refused recording", async () => {
    let dayCreates = 0;
    const { partner, services } = await submittedOn('2025-10-16', async (operations, write) => {
      if (operations[0]?.op === 'create' && operations[0].document.type === 'transition-day') {
        dayCreates += 1;
        return write();
      }
      const patch = operations.findIndex((operation) => operation.op === 'patch');
      if (patch >= 0) throw new WriteConflict('missing', patch); // the day stays missing
      return write();
    });
    await expect(recordTransition(services, partner.partnerId)).rejects.toThrow(
      `the transition report of ${partner.partnerId} kept changing while it was recorded`,
    );
    // The entry and one day's patch: two writes, so two creates before it counts as refused.
    expect(dayCreates).toBe(2);
  });

  it('gives up after 5 recordings refused by concurrent ones, naming the partner', async () => {
    let batches = 0;
    const refusal = new WriteConflict('changed', 0);
    const { partner, services } = await submittedOn('2025-10-15', async () => {
      batches += 1;
      throw refusal;
    });
    const failed = recordTransition(services, partner.partnerId);
    await expect(failed).rejects.toThrow(
      `the transition report of ${partner.partnerId} kept changing while it was recorded`,
    );
    await expect(failed).rejects.toMatchObject({ cause: refusal });
    expect(batches).toBe(5);
  });

  it('writes nothing when recorded again with nothing new, after writing its entry the first time', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    expect((await submitEnrollment(app, partner)).status).toBe(201);
    const written: string[] = [];
    const counting = {
      ...app.services,
      partners: override(app.services.partners, {
        commit: async (partnerId, operations) => {
          if (partnerId === transitionReportPartition)
            written.push(...operations.map((operation) => operation.op));
          return app.services.partners.commit(partnerId, operations);
        },
      }),
    };
    await recordTransition(counting, partner.partnerId);
    expect(written).toContain('create'); // the partner's first entry
    written.length = 0;
    await recordTransition(counting, partner.partnerId);
    expect(written).toEqual([]);
  });

  it('counts a milestone once when the publisher dies before numbering the events and runs again', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-04-06T09:00:00.000Z') });
    try {
      const partner = await createPartnerWithProfile(isolated, { mpnVerified: true });
      await submitEnrollment(isolated, partner);
      const dying = await startSecondHost(isolated, (services) => ({
        ...services,
        partners: override(services.partners, {
          commit: async (partnerId, operations) => {
            if (operations.some((o) => 'document' in o && o.document.type === 'event-sequence')) {
              throw new Error('process killed');
            }
            return services.partners.commit(partnerId, operations);
          },
        }),
      }));
      try {
        await dying.runTimer('deliverEvents').catch(() => undefined);
        await dying.runTimer('deliverEvents').catch(() => undefined);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      await Promise.all([isolated.runTimer('deliverEvents'), isolated.runTimer('deliverEvents')]);
      const report = await isolated.api(
        'GET',
        '/api/operator/reports/transitions?from=2026-04-01&to=2026-04-30',
        { token: await isolated.operatorToken() },
      );
      expect(report.body.funnel).toMatchObject({ enrollmentsSubmitted: 1, autoApproved: 1 });
    } finally {
      await isolated.close();
    }
  });
});

describe('GET /api/me/reseller-pipeline', () => {
  it("lists a provider's open invitations on the first page, and each reseller with what it moved, paged", async () => {
    const provider = await createProvider(app, { companyName: 'Litware Distribution' });
    app.clock.set('2026-01-05T09:00:00.000Z');
    const moved = await resellerWithDirectCustomer(app, { provider, companyName: 'Alpine Ski' });
    expect((await extend(app, moved)).status).toBe(201);
    const pending = await requestTransfer(app, moved, [moved.subscriptions.e3]);
    expect(pending.status).toBe(201);
    app.clock.advance({ days: 1 });
    const idle = await resellerWithDirectCustomer(app, { provider, companyName: 'Blue Yonder' });
    // Two invitations still open, one revoked, one expired.
    const invitees = await Promise.all(
      [0, 1, 2, 3].map(() => createPartnerWithProfile(app, { country: 'US' })),
    );
    const sent = [];
    for (const invitee of invitees) sent.push(await inviteReseller(app, provider, invitee));
    await app.api('DELETE', `/api/me/reseller-invitations/${sent[2]!.body.invitationId}`, {
      token: provider.adminToken,
    });
    const pipeline = (query = '') =>
      app.api('GET', `/api/me/reseller-pipeline${query}`, { token: provider.adminToken });

    let first = await pipeline('?pageSize=1');
    expect(first.status, first.text).toBe(200);
    expect(
      first.body.invited.map((item: { invitationId: string }) => item.invitationId).sort(),
    ).toEqual(
      [sent[0]!.body.invitationId, sent[1]!.body.invitationId, sent[3]!.body.invitationId].sort(),
    );
    // The newest partnership first.
    expect(first.body.resellers).toEqual([
      expect.objectContaining({
        resellerId: idle.reseller.partnerId,
        companyName: 'Blue Yonder',
        status: 'active',
        customersExtended: 0,
        transfersPending: 0,
        transfersCompleted: 0,
      }),
    ]);
    const second = await pipeline(
      `?pageSize=1&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
    );
    expect(second.body.invited).toEqual([]);
    expect(second.body.resellers).toEqual([
      expect.objectContaining({
        resellerId: moved.reseller.partnerId,
        customersExtended: 1,
        transfersPending: 1,
        transfersCompleted: 0,
        lastActivityAt: '2026-01-05T09:00:00.000Z',
      }),
    ]);

    // Past its 30 days an invitation is no longer open.
    app.clock.advance({ days: 31 });
    first = await pipeline();
    expect(first.body.invited).toEqual([]);
  });

  it('follows each reseller through every stage: transfer rejected, completed, and partnership ended with its transfer cancelled', async () => {
    const provider = await createProvider(app, { companyName: 'Proseware Distribution' });
    const token = provider.adminToken;
    const decideTransfer = (transferId: string, decision: 'accept' | 'reject') =>
      app.api('POST', `/api/me/transfers/${transferId}/${decision}`, {
        token,
        ...(decision === 'reject' ? { body: { reason: 'not this quarter' } } : {}),
      });
    const transferOf = async (world: Awaited<ReturnType<typeof resellerWithDirectCustomer>>) => {
      expect((await extend(app, world)).status).toBe(201);
      const requested = await requestTransfer(app, world, [world.subscriptions.e3]);
      expect(requested.status, requested.text).toBe(201);
      return requested.body.transferId as string;
    };
    const resellers = async () => {
      const response = await app.api('GET', '/api/me/reseller-pipeline?pageSize=10', { token });
      expect(response.status, response.text).toBe(200);
      return Object.fromEntries(
        response.body.resellers.map((row: { companyName: string }) => [row.companyName, row]),
      );
    };

    // Forward from wherever the tests before left the clock: their tokens stay valid.
    app.clock.advance({ days: 1 });
    const rejected = await resellerWithDirectCustomer(app, { provider, companyName: 'Coho Wine' });
    const rejectedSince = app.clock.now().toISOString();
    const toReject = await transferOf(rejected);
    app.clock.advance({ hours: 1 });
    const completed = await resellerWithDirectCustomer(app, { provider, companyName: 'Tailwind' });
    const toAccept = await transferOf(completed);
    app.clock.advance({ hours: 1 });
    const ended = await resellerWithDirectCustomer(app, { provider, companyName: 'Woodgrove' });
    const toCancel = await transferOf(ended);
    const requestedAt = app.clock.now().toISOString();

    // Every transfer waits for the provider's answer.
    let rows = await resellers();
    for (const name of ['Coho Wine', 'Tailwind', 'Woodgrove'])
      expect(rows[name]).toMatchObject({
        status: 'active',
        customersExtended: 1,
        transfersPending: 1,
        transfersCompleted: 0,
      });

    app.clock.advance({ days: 1 });
    const answeredAt = app.clock.now().toISOString();
    expect((await decideTransfer(toReject, 'reject')).status).toBe(200);
    expect((await decideTransfer(toAccept, 'accept')).status).toBe(200);
    const ending = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${ended.reseller.partnerId}`,
      {
        token,
      },
    );
    expect(ending.status, ending.text).toBe(200);
    expect(ending.body.cancelledTransfers).toEqual([toCancel]);

    rows = await resellers();
    // Rejected: nothing pending, nothing completed; the customer it moved stays counted.
    expect(rows['Coho Wine']).toEqual({
      resellerId: rejected.reseller.partnerId,
      companyName: 'Coho Wine',
      status: 'active',
      since: rejectedSince,
      customersExtended: 1,
      transfersPending: 0,
      transfersCompleted: 0,
      lastActivityAt: answeredAt,
    });
    expect(rows['Tailwind']).toMatchObject({
      status: 'active',
      customersExtended: 1,
      transfersPending: 0,
      transfersCompleted: 1,
      lastActivityAt: answeredAt,
    });
    // Ended: still listed, as ended, its pending transfer cancelled with the partnership.
    expect(rows['Woodgrove']).toMatchObject({
      resellerId: ended.reseller.partnerId,
      status: 'ended',
      customersExtended: 1,
      transfersPending: 0,
      transfersCompleted: 0,
    });
    expect(rows['Woodgrove'].lastActivityAt >= requestedAt).toBe(true);
  });

  it('lists the open invitations newest first, those sent at the same instant in invitation id order', async () => {
    // Ids that grow with each one issued, so that id order is the order they were sent in.
    let issued = 0;
    const isolated = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      decorate: (services) => ({
        ...services,
        ids: {
          newId: () => {
            issued += 1;
            return `${issued.toString(16).padStart(8, '0')}${services.ids.newId().slice(8)}`;
          },
        },
      }),
    });
    try {
      const provider = await createProvider(isolated);
      const invitees = await Promise.all(
        [0, 1, 2, 3, 4].map(() => createPartnerWithProfile(isolated, { country: 'US' })),
      );
      const ids: string[] = [];
      for (const [index, invitee] of invitees.entries()) {
        if (index < 4) isolated.clock.advance({ minutes: 1 }); // the last two: the same instant
        const sent = await inviteReseller(isolated, provider, invitee);
        expect(sent.status).toBe(201);
        ids.push(sent.body.invitationId);
      }
      const pipeline = await isolated.api('GET', '/api/me/reseller-pipeline', {
        token: provider.adminToken,
      });
      expect(
        pipeline.body.invited.map((item: { invitationId: string }) => item.invitationId),
      ).toEqual([ids[3], ids[4], ids[2], ids[1], ids[0]]);
    } finally {
      await isolated.close();
    }
  });

  it('refuses a partner that is not a provider with 403', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('GET', '/api/me/reseller-pipeline', {
      token: partner.adminToken,
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
    expect(response.body.detail).toMatch(/^Only an indirect provider has a reseller pipeline/);
  });

  it('refuses a page size out of range with 400', async () => {
    const provider = await createProvider(app);
    const response = await app.api('GET', '/api/me/reseller-pipeline?pageSize=0', {
      token: provider.adminToken,
    });
    expect(response.status).toBe(400);
  });
});
