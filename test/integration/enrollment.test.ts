import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import {
  createPartner,
  createPartnerWithProfile,
  globalAdminToken,
  profile,
} from '../support/builders';
import { ManualClock } from '../support/clock';
import { rangeOf } from '../support/ranges';
import {
  approvedPartner,
  enrollmentForm,
  primaryContact,
  submitEnrollment,
} from '../support/enrollment';

let app: TestApp;
beforeAll(async () => {
  // A Monday morning, UTC.
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('eligibility on POST /api/me/enrollment', () => {
  it('refuses anyone but a global admin with 403', async () => {
    const { partnerId, record } = await createPartnerWithProfile(app);
    for (const roles of [['AdminAgent'], ['SalesAgent']]) {
      const response = await app.api('POST', '/api/me/enrollment', {
        token: await app.token({ tenant: partnerId, roles }),
        body: enrollmentForm(record),
      });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden');
    }
  });

  it('refuses a partner outside the direct-bill program with not-eligible', async () => {
    const partner = await createPartnerWithProfile(app, { programs: { directBill: false } });
    const response = await submitEnrollment(app, partner);
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('not-eligible');
  });

  it('refuses a partner whose profile was never confirmed, listing what is missing', async () => {
    const { partnerId, record } = await createPartner(app);
    const response = await submitEnrollment(app, {
      record,
      adminToken: await globalAdminToken(app, partnerId),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('profile-incomplete');
    expect(response.body.errors).toEqual([
      { path: 'profile', message: expect.stringContaining('never been confirmed') },
    ]);
  });

  it('refuses a profile confirmed more than 12 months ago, naming it', async () => {
    const partner = await createPartnerWithProfile(app);
    app.clock.advance({ days: 366 });
    try {
      const response = await submitEnrollment(app, {
        ...partner,
        adminToken: await globalAdminToken(app, partner.partnerId),
      });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('profile-incomplete');
      expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual([
        'profile.confirmedAt',
      ]);
    } finally {
      app.clock.set('2026-03-02T09:00:00.000Z');
    }
  });

  it('requires the authorization confirmation and the irreversibility acknowledgement to be true', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await submitEnrollment(app, partner, {
      authorizationConfirmed: false,
      irreversibleAcknowledged: undefined,
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation-failed');
    const paths = response.body.errors.map((error: { path: string }) => error.path);
    expect(paths).toEqual(
      expect.arrayContaining(['body.authorizationConfirmed', 'body.irreversibleAcknowledged']),
    );
  });

  it('refuses reviewed details that do not match the profile, naming the field', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await submitEnrollment(app, partner, {
      reviewedDetails: { companyName: 'Someone Else Ltd', mpnId: partner.record.mpnId },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      {
        path: 'body.reviewedDetails.companyName',
        message: expect.stringContaining(partner.record.companyName),
      },
    ]);
  });

  it('changes nothing when it refuses', async () => {
    const partner = await createPartnerWithProfile(app, { programs: { directBill: false } });
    const before = await app.documents(partner.partnerId);
    const refused = await submitEnrollment(app, partner);
    expect(refused.status).toBe(403);
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body).toMatchObject({ status: 'not-enrolled', history: [] });
    // No audit event, no email, no other write in the partner's partition.
    expect(await app.documents(partner.partnerId)).toEqual(before);
  });
});

describe('approval', () => {
  it('approves at once when every check passes and the MPN ID is verified, and emails the primary contact once', async () => {
    const partner = await createPartnerWithProfile(app, {
      mpnVerified: true,
      companyName: 'Auto Approved Ltd',
    });
    const response = await submitEnrollment(app, partner);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      status: 'approved',
      submittedAt: '2026-03-02T09:00:00.000Z',
      approvedAt: '2026-03-02T09:00:00.000Z',
    });
    expect(response.body.history.map((entry: { to: string }) => entry.to)).toEqual([
      'pending-approval',
      'approved',
    ]);

    const before = (await app.mailbox()).length;
    await app.runTimer('deliverEmails');
    await app.runTimer('deliverEmails');
    const emails = (await app.mailbox())
      .slice(before)
      .filter((email) => email.subject.includes('Auto Approved Ltd'));
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: primaryContact.email });
    expect(emails[0]!.subject).toContain('approved');
    expect(emails[0]!.text).toContain('Hello Pat,');
    expect(emails[0]!.html).toContain('Auto Approved Ltd');
    // The link in it works.
    expect(emails[0]!.links).toHaveLength(1);
    const landing = await fetch(emails[0]!.links[0]!);
    expect(landing.status).toBe(200);
    expect(landing.headers.get('content-type')).toContain('text/html');
    expect(await landing.text()).toContain('accept the indirect reseller agreement');
  });

  it('writes the approval email in the same batch as the approval', async () => {
    const partner = await approvedPartner(app);
    const emails = await app.documents(partner.partnerId, 'email');
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      kind: 'enrollment-approved',
      to: primaryContact.email,
      status: 'pending',
    });
    const audit = await app.documents(partner.partnerId, 'audit');
    expect(audit.map((event) => event.action)).toEqual(
      expect.arrayContaining(['enrollment-pending-approval', 'enrollment-approved']),
    );
  });

  it('writes the email in French for a partner in France', async () => {
    const partner = await createPartnerWithProfile(app, {
      mpnVerified: true,
      country: 'FR',
      companyName: 'Société Française',
    });
    await submitEnrollment(app, partner);
    const [email] = await app.documents(partner.partnerId, 'email');
    expect(email.subject).toContain('approuvée');
    expect(email.text).toContain('Bonjour Pat,');
  });

  it('queues an unverified MPN ID for review, oldest first, until an operator approves', async () => {
    const operator = await app.operatorToken();
    const first = await createPartnerWithProfile(app, {
      mpnVerified: false,
      companyName: 'First In Queue',
    });
    await submitEnrollment(app, first);
    app.clock.advance({ minutes: 5 });
    const second = await createPartnerWithProfile(app, {
      mpnVerified: false,
      companyName: 'Second In Queue',
    });
    const submitted = await submitEnrollment(app, second);
    expect(submitted.status).toBe(201);
    expect(submitted.body.status).toBe('pending-approval');

    const queue = await app.api('GET', '/api/operator/enrollments?status=pending-approval', {
      token: operator,
    });
    expect(queue.status).toBe(200);
    const ids = queue.body.items.map((item: { partnerId: string }) => item.partnerId);
    expect(ids.indexOf(first.partnerId)).toBeLessThan(ids.indexOf(second.partnerId));

    const decided = await app.api('POST', `/api/operator/enrollments/${first.partnerId}/decision`, {
      token: operator,
      body: { decision: 'approve' },
    });
    expect(decided.status).toBe(200);
    expect(decided.body.status).toBe('approved');
    expect(decided.body.history.at(-1)).toMatchObject({
      from: 'pending-approval',
      to: 'approved',
      actor: { kind: 'operator', name: 'Olive Operator' },
    });
    const emails = await app.documents(first.partnerId, 'email');
    expect(emails.map((email) => email.kind)).toEqual(['enrollment-approved']);

    const twice = await app.api('POST', `/api/operator/enrollments/${first.partnerId}/decision`, {
      token: operator,
      body: { decision: 'reject', reason: 'changed my mind' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('conflict');
  });

  it('pages the review queue to its end, oldest first, with no gaps or duplicates across partitions', async () => {
    // A database of its own, so that the queue holds exactly these partners.
    const own = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const submitted: string[] = [];
      for (let index = 0; index < 7; index += 1) {
        const partner = await createPartnerWithProfile(own, { mpnVerified: false });
        expect((await submitEnrollment(own, partner)).status).toBe(201);
        submitted.push(partner.partnerId);
        // Two submissions in the same millisecond: the cursor breaks the tie by partner id.
        if (index !== 3) own.clock.advance({ minutes: 1 });
      }
      const expected = [
        ...submitted.slice(0, 3),
        ...submitted.slice(3, 5).sort(),
        ...submitted.slice(5),
      ];
      const operator = await own.operatorToken();
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string = `status=pending-approval&pageSize=3${token ? `&continuationToken=${token}` : ''}`;
        const page = await own.api('GET', `/api/operator/enrollments?${query}`, {
          token: operator,
        });
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((item: { partnerId: string }) => item.partnerId));
        token = page.body.continuationToken;
        pages += 1;
      } while (token !== null && pages < 10);
      expect(seen).toEqual(expected);
      expect(pages).toBe(3);

      const forged = await own.api(
        'GET',
        `/api/operator/enrollments?status=pending-approval&continuationToken=${Buffer.from('{"after":1}').toString('base64url')}`,
        { token: operator },
      );
      expect(forged.status).toBe(400);
      expect(forged.body.code).toBe('validation-failed');
    } finally {
      await own.close();
    }
  });

  it('pages never-submitted partners to their end, oldest created first, across partitions', async () => {
    // submittedAt is null for all of them: the queue orders them by creation instead, as an
    // ORDER BY over a null across two partition key ranges throws in the SDK.
    const own = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const created: string[] = [];
      // Partner ids are random, so five may all hash into one range (1 run in 16): more are
      // created until both ranges hold some, keeping an odd count so the last page is partial.
      const spansBoth = () => new Set(created.map(rangeOf)).size === 2;
      while (created.length < 5 || !spansBoth() || created.length % 2 === 0) {
        const index = created.length;
        created.push((await createPartner(own)).partnerId);
        // Two created in the same millisecond: the cursor breaks the tie by partner id.
        if (index !== 1) own.clock.advance({ minutes: 1 });
        if (created.length > 41) break;
      }
      expect(spansBoth()).toBe(true);
      const expected = [created[0], ...created.slice(1, 3).sort(), ...created.slice(3)];
      const operator = await own.operatorToken();
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string = `status=not-enrolled&pageSize=2${token ? `&continuationToken=${token}` : ''}`;
        const page = await own.api('GET', `/api/operator/enrollments?${query}`, {
          token: operator,
        });
        expect(page.status, page.text).toBe(200);
        seen.push(...page.body.items.map((item: { partnerId: string }) => item.partnerId));
        token = page.body.continuationToken;
        pages += 1;
      } while (token !== null && pages < 30);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(created.length / 2));
    } finally {
      await own.close();
    }
  });

  it('refuses a decision from a partner with 403', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const response = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: partner.adminToken,
        body: { decision: 'approve' },
      },
    );
    expect(response.status).toBe(403);
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body.status).toBe('pending-approval');
  });

  it('answers 404 not-found to a decision on a partner that does not exist, and creates none', async () => {
    const partnerId = randomUUID();
    const operator = await app.operatorToken();
    const response = await app.api('POST', `/api/operator/enrollments/${partnerId}/decision`, {
      token: operator,
      body: { decision: 'approve' },
    });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not-found');
    const again = await app.api('GET', `/api/operator/partners/${partnerId}`, { token: operator });
    expect(again.status).toBe(404);
  });
});

describe('rejection and resubmission', () => {
  it('requires a reason to reject', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const response = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'reject' },
      },
    );
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('body.reason');
  });

  it('records the reason, emails it, and allows a resubmission that keeps the earlier attempt', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const rejected = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'reject', reason: 'The MPN ID could not be verified.' },
      },
    );
    expect(rejected.status).toBe(200);
    const read = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(read.body).toMatchObject({
      status: 'rejected',
      rejectedReason: 'The MPN ID could not be verified.',
    });
    const [email] = await app.documents(partner.partnerId, 'email');
    expect(email).toMatchObject({ kind: 'enrollment-rejected', to: primaryContact.email });
    expect(email.text).toContain('The MPN ID could not be verified.');

    app.clock.advance({ hours: 2 });
    const again = await submitEnrollment(app, partner);
    expect(again.status).toBe(201);
    expect(again.body.status).toBe('pending-approval');
    expect(again.body.rejectedReason).toBeNull();
    expect(
      again.body.history.map((entry: { from: string; to: string }) => `${entry.from}>${entry.to}`),
    ).toEqual([
      'not-enrolled>pending-approval',
      'pending-approval>rejected',
      'rejected>pending-approval',
    ]);
    expect(again.body.history[1].reason).toBe('The MPN ID could not be verified.');
  });
});

describe('one enrollment per partner', () => {
  it('refuses a second submission while pending or approved with 409', async () => {
    const pending = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, pending);
    const second = await submitEnrollment(app, pending);
    expect(second.status).toBe(409);
    expect(second.body.code).toBe('conflict');

    const approved = await approvedPartner(app);
    expect((await submitEnrollment(app, approved)).status).toBe(409);
  });

  it('leaves exactly one enrollment after 20 concurrent submissions', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => submitEnrollment(app, partner)),
    );
    const statuses = responses.map((response) => response.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    const audit = await app.documents(partner.partnerId, 'audit');
    expect(audit.filter((event) => event.action === 'enrollment-pending-approval')).toHaveLength(1);
    expect(audit.filter((event) => event.action === 'enrollment-approved')).toHaveLength(1);
    expect(await app.documents(partner.partnerId, 'email')).toHaveLength(1);
  });
});

describe('the agreement', () => {
  it('is not available before approval', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    const response = await app.api('GET', '/api/me/agreement', { token: partner.adminToken });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('agreement-not-available');
    const accept = await app.api('POST', '/api/me/agreement/acceptance', {
      token: partner.adminToken,
      body: { templateId: 'indirect-reseller-agreement', version: '2026-01' },
    });
    expect(accept.status).toBe(409);
    expect(accept.body.code).toBe('agreement-not-available');
  });

  it('turns the partner into both a direct and an indirect reseller when a global admin accepts it', async () => {
    const partner = await approvedPartner(app);
    const agreement = await app.api('GET', '/api/me/agreement', { token: partner.adminToken });
    expect(agreement.body).toMatchObject({
      templateId: 'indirect-reseller-agreement',
      version: '2026-01',
      accepted: false,
    });

    const agent = await app.api('POST', '/api/me/agreement/acceptance', {
      token: await app.token({ tenant: partner.partnerId, roles: ['AdminAgent'] }),
      body: { templateId: 'indirect-reseller-agreement', version: '2026-01' },
    });
    expect(agent.status).toBe(403);

    const stale = await app.api('POST', '/api/me/agreement/acceptance', {
      token: partner.adminToken,
      body: { templateId: 'indirect-reseller-agreement', version: '2025-01' },
    });
    expect(stale.status).toBe(409);

    app.clock.advance({ minutes: 30 });
    const admin = await app.token({
      tenant: partner.partnerId,
      roles: ['GlobalAdmin'],
      oid: 'gina-oid',
      name: 'Gina Admin',
      email: 'gina@contoso.example',
    });
    const accepted = await app.api('POST', '/api/me/agreement/acceptance', {
      token: admin,
      body: { templateId: 'indirect-reseller-agreement', version: '2026-01' },
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.acceptance).toEqual({
      templateId: 'indirect-reseller-agreement',
      version: '2026-01',
      acceptedAt: app.clock.now().toISOString(),
      userId: 'gina-oid',
      name: 'Gina Admin',
      email: 'gina@contoso.example',
    });
    const me = await app.api('GET', '/api/me', { token: admin });
    expect(me.body).toMatchObject({
      partnerType: 'both',
      programs: { indirectReseller: { status: 'active' } },
      navigation: { indirectProviders: true },
    });

    app.clock.advance({ minutes: 5 });
    const again = await app.api('POST', '/api/me/agreement/acceptance', {
      token: partner.adminToken,
      body: { templateId: 'indirect-reseller-agreement', version: '2026-01' },
    });
    expect(again.status).toBe(200);
    expect(again.body.acceptance).toEqual(accepted.body.acceptance);
  });
});

/**
 * docs/rules.md's state machine, copied here as a literal table (not read from the code): for each
 * status and each HTTP action, the status after it, and whether the API answers 2xx.
 */
type Status = 'not-enrolled' | 'pending-approval' | 'approved' | 'active' | 'rejected';
type Action = 'submit' | 'approve' | 'reject' | 'accept agreement' | 'withdraw';
const stateMachine: Record<Status, Record<Action, [after: Status, answered: '2xx' | '4xx']>> = {
  'not-enrolled': {
    submit: ['pending-approval', '2xx'],
    approve: ['not-enrolled', '4xx'],
    reject: ['not-enrolled', '4xx'],
    'accept agreement': ['not-enrolled', '4xx'],
    withdraw: ['not-enrolled', '4xx'],
  },
  'pending-approval': {
    submit: ['pending-approval', '4xx'],
    approve: ['approved', '2xx'],
    reject: ['rejected', '2xx'],
    'accept agreement': ['pending-approval', '4xx'],
    withdraw: ['pending-approval', '4xx'],
  },
  approved: {
    submit: ['approved', '4xx'],
    approve: ['approved', '4xx'],
    reject: ['approved', '4xx'],
    'accept agreement': ['active', '2xx'],
    withdraw: ['approved', '4xx'],
  },
  active: {
    submit: ['active', '4xx'],
    approve: ['active', '4xx'],
    reject: ['active', '4xx'],
    // Accepting again answers the first acceptance (idempotent), and changes nothing.
    'accept agreement': ['active', '2xx'],
    withdraw: ['active', '4xx'],
  },
  rejected: {
    submit: ['pending-approval', '2xx'],
    approve: ['rejected', '4xx'],
    reject: ['rejected', '4xx'],
    'accept agreement': ['rejected', '4xx'],
    withdraw: ['rejected', '4xx'],
  },
};

type Partner = Awaited<ReturnType<typeof createPartnerWithProfile>>;

async function act(partner: Partner, action: Action): Promise<number> {
  const decide = async (decision: 'approve' | 'reject') =>
    app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
      token: await app.operatorToken(),
      body: decision === 'approve' ? { decision } : { decision, reason: 'Incomplete address' },
    });
  switch (action) {
    case 'submit':
      return (await submitEnrollment(app, partner)).status;
    case 'approve':
      return (await decide('approve')).status;
    case 'reject':
      return (await decide('reject')).status;
    case 'accept agreement':
      return (
        await app.api('POST', '/api/me/agreement/acceptance', {
          token: partner.adminToken,
          body: { templateId: 'indirect-reseller-agreement', version: '2026-01' },
        })
      ).status;
    case 'withdraw':
      return (await app.api('DELETE', '/api/me/enrollment', { token: partner.adminToken })).status;
  }
}

/** A partner brought to `status` through the API (its MPN ID unverified: a reviewer decides). */
async function partnerIn(status: Status): Promise<Partner> {
  const partner = await createPartnerWithProfile(app, { mpnVerified: false });
  const path: Record<Status, Action[]> = {
    'not-enrolled': [],
    'pending-approval': ['submit'],
    approved: ['submit', 'approve'],
    active: ['submit', 'approve', 'accept agreement'],
    rejected: ['submit', 'reject'],
  };
  for (const step of path[status]) {
    const answered = await act(partner, step);
    if (answered >= 300) throw new Error(`could not ${step} on the way to ${status}: ${answered}`);
  }
  return partner;
}

describe('the state machine over HTTP (docs/rules.md, copied as a literal table)', () => {
  for (const [from, actions] of Object.entries(stateMachine) as [
    Status,
    (typeof stateMachine)[Status],
  ][]) {
    it(`from ${from}: each action leads where the table says, and nowhere else`, async () => {
      const outcomes: Record<string, [Status, '2xx' | '4xx']> = {};
      for (const action of Object.keys(actions) as Action[]) {
        const partner = await partnerIn(from);
        const answered = await act(partner, action);
        const view = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
        outcomes[action] = [view.body.status, answered < 300 ? '2xx' : '4xx'];
        expect(answered, `${from} → ${action}`).toBeLessThan(500);
      }
      expect(outcomes).toEqual(actions);
    });
  }
});

describe('irreversibility', () => {
  it('answers DELETE with 404 before any enrollment', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('DELETE', '/api/me/enrollment', { token: partner.adminToken });
    expect(response.status).toBe(404);
  });

  it('refuses DELETE once enrolled with 409 irreversible, whoever asks', async () => {
    const partner = await approvedPartner(app);
    for (const roles of [['GlobalAdmin'], ['AdminAgent'], ['SalesAgent']]) {
      const response = await app.api('DELETE', '/api/me/enrollment', {
        token: await app.token({ tenant: partner.partnerId, roles }),
      });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('irreversible');
      expect(response.body.detail).toMatch(/irreversible/);
    }
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body.status).toBe('approved');
  });

  it('refuses an operator decision on an approved enrollment', async () => {
    const partner = await approvedPartner(app);
    const response = await app.api(
      'POST',
      `/api/operator/enrollments/${partner.partnerId}/decision`,
      {
        token: await app.operatorToken(),
        body: { decision: 'reject', reason: 'try to revert' },
      },
    );
    expect(response.status).toBe(409);
  });

  it('keeps the enrollment when an operator rewrites the master record', async () => {
    const partner = await approvedPartner(app);
    await app.api('PUT', `/api/operator/partners/${partner.partnerId}`, {
      token: await app.operatorToken(),
      body: { ...partner.record, companyName: 'Renamed' },
    });
    const enrollment = await app.api('GET', '/api/me/enrollment', { token: partner.adminToken });
    expect(enrollment.body.status).toBe('approved');
  });
});

describe('activity', () => {
  it("pages through the partner's audit events, newest first", async () => {
    const { partnerId, record } = await createPartner(app, { mpnVerified: true });
    const partner = { partnerId, record, adminToken: await globalAdminToken(app, partnerId) };
    for (let confirmation = 0; confirmation < 2; confirmation += 1) {
      app.clock.advance({ minutes: 1 });
      await app.api('PUT', '/api/me/profile', { token: partner.adminToken, body: profile(record) });
    }
    app.clock.advance({ minutes: 1 });
    await submitEnrollment(app, partner);
    const first = await app.api('GET', '/api/me/activity?pageSize=2', {
      token: partner.adminToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.continuationToken).toEqual(expect.any(String));
    const rest = await app.api(
      'GET',
      `/api/me/activity?pageSize=50&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
      {
        token: partner.adminToken,
      },
    );
    const all = [...first.body.items, ...rest.body.items];
    expect(all.map((event: { action: string }) => event.action)).toEqual([
      'enrollment-approved',
      'enrollment-pending-approval',
      'profile-confirmed',
      'profile-confirmed',
      'partner-created',
    ]);
    const times = all.map((event: { at: string }) => event.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('refuses a page size over 100', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('GET', '/api/me/activity?pageSize=1000', {
      token: partner.adminToken,
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('query.pageSize');
  });

  it('refuses a continuation token it did not issue', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('GET', '/api/me/activity?continuationToken=garbage', {
      token: partner.adminToken,
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('query.continuationToken');
  });
});
