import { tokenOf } from '../support/providers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { incentivesView, incentiveView } from '../../shared/http/schemas/incentives';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, createPartnerWithProfile, globalAdminToken } from '../support/builders';
import { ManualClock } from '../support/clock';
import { approvedPartner, primaryContact, submitEnrollment } from '../support/enrollment';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

const run = (on: TestApp = app): Promise<void> => on.runTimer('sendIncentiveInvitations');

const invitationEmails = async (partnerId: string, on: TestApp = app) =>
  (await on.documents(partnerId, 'email')).filter((email) => email.kind === 'incentive-invitation');

const logLinesAbout = (partnerId: string, level: string, on: TestApp = app): string[] =>
  on.logs
    .filter((entry) => entry.level === level && entry.message.includes(partnerId))
    .map((entry) => entry.message);

const incentives = async (token: string) => {
  const response = await app.api('GET', '/api/me/incentives', { token });
  expect(response.status).toBe(200);
  return incentivesView.parse(response.body);
};

const program = (items: { program: string }[], name: string) =>
  items.find((item) => item.program === name);

const enroll = async (token: string, name: string) =>
  app.api('POST', `/api/me/incentives/${name}/enrollment`, { token });

/** The link of the partner's incentives invitation, once delivered to the mailbox. */
async function deliveredLink(companyName: string): Promise<string> {
  await app.runTimer('deliverEmails');
  const delivered = (await app.mailbox()).filter(
    (email) => email.subject.includes(companyName) && email.subject.includes('incentives'),
  );
  expect(delivered).toHaveLength(1);
  expect(delivered[0]!.links).toHaveLength(1);
  return delivered[0]!.links[0]!;
}

describe('sendIncentiveInvitations', () => {
  it('queues the invitation once the partner is due, to the MPN account email and not the primary contact', async () => {
    app.clock.set('2026-03-02T09:00:00.000Z');
    const partner = await approvedPartner(app, {
      companyName: 'Northwind Incentives',
      mpnAccountEmail: 'mpn.owner@northwind.example',
    });
    const [stored] = await app.documents(partner.partnerId, 'partner');
    expect(stored.incentiveInviteDueAt).toBe('2026-03-02T09:00:00.000Z');
    // Approval alone sends nothing: the timer does.
    expect(await invitationEmails(partner.partnerId)).toHaveLength(0);

    app.clock.advance({ minutes: 30 });
    await run();
    const emails = await invitationEmails(partner.partnerId);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ to: 'mpn.owner@northwind.example', status: 'pending' });
    expect(emails[0].to).not.toBe(primaryContact.email);
    expect(emails[0].subject).toContain('Northwind Incentives');
    expect(emails[0].html).toContain('Northwind Incentives');
    expect(emails[0].links).toEqual([
      expect.stringMatching(
        new RegExp(`^${app.url}/api/links/incentive-invitations#[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`),
      ),
    ]);
    expect(emails[0].text).toContain(emails[0].links[0]);

    const [after] = await app.documents(partner.partnerId, 'partner');
    expect(after.incentiveInviteDueAt).toBeNull();
    const audit = await app.documents(partner.partnerId, 'audit');
    expect(audit.filter((event) => event.action === 'incentives-invited')).toHaveLength(1);
  });

  it("writes the invitation in the partner's language", async () => {
    app.clock.set('2026-03-02T10:00:00.000Z');
    const partner = await approvedPartner(app, { country: 'FR', companyName: 'Société Incitée' });
    await run();
    const [email] = await invitationEmails(partner.partnerId);
    expect(email.subject).toBe(
      "Société Incitée : invitation au programme d'incitations revendeur indirect",
    );
    expect(email.text).toContain('Bonjour,');
  });

  it('waits for the configured delay: nothing before day 5, the invitation on day 5', async () => {
    const delayed = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { INCENTIVE_INVITE_DELAY_DAYS: '5' },
    });
    try {
      const partner = await approvedPartner(delayed);
      await run(delayed);
      delayed.clock.set('2026-03-07T08:59:59.999Z'); // a millisecond before day 5
      await run(delayed);
      expect(await invitationEmails(partner.partnerId, delayed)).toHaveLength(0);

      delayed.clock.set('2026-03-07T09:00:00.000Z');
      await run(delayed);
      const emails = await invitationEmails(partner.partnerId, delayed);
      expect(emails).toHaveLength(1);
      expect(emails[0].createdAt).toBe('2026-03-07T09:00:00.000Z');
    } finally {
      await delayed.close();
    }
  });

  it('sends it on day 29 with the longest delay the settings accept, inside the 30-day window, and refuses a longer one at start-up', async () => {
    await expect(startTestApp({ env: { INCENTIVE_INVITE_DELAY_DAYS: '30' } })).rejects.toThrow(
      /INCENTIVE_INVITE_DELAY_DAYS/,
    );
    const latest = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { INCENTIVE_INVITE_DELAY_DAYS: '29' },
    });
    try {
      const partner = await approvedPartner(latest);
      latest.clock.set('2026-03-31T08:59:59.000Z');
      await run(latest);
      expect(await invitationEmails(partner.partnerId, latest)).toHaveLength(0);
      latest.clock.set('2026-03-31T09:00:00.000Z'); // day 29
      await run(latest);
      const emails = await invitationEmails(partner.partnerId, latest);
      expect(emails).toHaveLength(1);
      expect(emails[0].createdAt).toBe('2026-03-31T09:00:00.000Z');
      expect(logLinesAbout(partner.partnerId, 'error', latest)).toEqual([]);
    } finally {
      await latest.close();
    }
  });

  it('makes a partner approved by a reviewer due as well', async () => {
    app.clock.set('2026-03-03T09:00:00.000Z');
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, partner);
    await run();
    expect(await invitationEmails(partner.partnerId)).toHaveLength(0);

    app.clock.advance({ days: 1 });
    await app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
      token: await app.operatorToken(),
      body: { decision: 'approve' },
    });
    await run();
    expect(await invitationEmails(partner.partnerId)).toHaveLength(1);
  });

  it('invites each partner exactly once across repeated and concurrent runs', async () => {
    app.clock.set('2026-03-04T09:00:00.000Z');
    const partners = await Promise.all(Array.from({ length: 5 }, () => approvedPartner(app)));
    await Promise.all([run(), run(), run()]);
    await run();
    app.clock.advance({ hours: 1 });
    await Promise.all([run(), run()]);

    for (const partner of partners) {
      expect(await invitationEmails(partner.partnerId)).toHaveLength(1);
      expect(await app.documents(partner.partnerId, 'incentive-invitation')).toHaveLength(1);
      const audit = await app.documents(partner.partnerId, 'audit');
      expect(audit.filter((event) => event.action === 'incentives-invited')).toHaveLength(1);
    }
  });

  it('logs an error naming a partner without an MPN account email, then sends once an operator fills it in', async () => {
    app.clock.set('2026-03-05T09:00:00.000Z');
    const partner = await approvedPartner(app, { mpnAccountEmail: null });
    await run();
    expect(await invitationEmails(partner.partnerId)).toHaveLength(0);
    expect(logLinesAbout(partner.partnerId, 'error')).toEqual([
      expect.stringContaining('no MPN account email'),
    ]);

    app.clock.advance({ hours: 1 });
    const updated = await app.api('PUT', `/api/operator/partners/${partner.partnerId}`, {
      token: await app.operatorToken(),
      body: { ...partner.record, mpnAccountEmail: 'mpn.account@fixed.example' },
    });
    expect(updated.status).toBe(200);
    app.clock.advance({ hours: 1 });
    await run();
    await run();
    const emails = await invitationEmails(partner.partnerId);
    expect(emails).toHaveLength(1);
    expect(emails[0].to).toBe('mpn.account@fixed.example');
    expect(logLinesAbout(partner.partnerId, 'error')).toHaveLength(1);
  });

  it('raises the overdue alert on every run from 30 days after the approval until it is sent', async () => {
    app.clock.set('2026-03-06T09:00:00.000Z');
    const partner = await approvedPartner(app, { mpnAccountEmail: null });
    const overdueLines = () =>
      logLinesAbout(partner.partnerId, 'error').filter((line) => line.includes('overdue'));

    app.clock.set('2026-04-05T08:59:59.999Z'); // a millisecond before 30 days
    await run();
    expect(overdueLines()).toHaveLength(0);

    app.clock.set('2026-04-05T09:00:00.000Z'); // 30 days
    await run();
    app.clock.advance({ hours: 1 });
    await run();
    expect(overdueLines()).toHaveLength(2);
    expect(overdueLines()[0]).toContain(partner.partnerId);

    await app.api('PUT', `/api/operator/partners/${partner.partnerId}`, {
      token: await app.operatorToken(),
      body: { ...partner.record, mpnAccountEmail: 'late@contoso.example' },
    });
    app.clock.advance({ hours: 1 });
    await run();
    await run();
    expect(overdueLines()).toHaveLength(2);
    expect(await invitationEmails(partner.partnerId)).toHaveLength(1);
  });
});

describe('sendIncentiveInvitations at scale', () => {
  it('invites every partner due in one run, past 100 and past partners it cannot invite, who are held and alerted on', async () => {
    const big = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      // 110 partners due first (earliest approvals) but without an MPN account email, then 5
      // that can be invited: the 5 must not wait behind the 110, and no page may be lost.
      const inBatches = async <T>(count: number, make: () => Promise<T>): Promise<T[]> => {
        const made: T[] = [];
        while (made.length < count) {
          made.push(...(await Promise.all(Array.from({ length: 10 }, make))));
        }
        return made.slice(0, count);
      };
      const held = await inBatches(110, () => approvedPartner(big, { mpnAccountEmail: null }));
      big.clock.advance({ minutes: 5 });
      const invitable = await inBatches(5, () => approvedPartner(big));
      big.clock.advance({ minutes: 5 });
      await run(big);
      for (const partner of invitable) {
        expect(await invitationEmails(partner.partnerId, big)).toHaveLength(1);
      }
      const missingEmailLines = () =>
        big.logs.filter(
          (entry) => entry.level === 'error' && entry.message.includes('no MPN account email'),
        );
      expect(missingEmailLines()).toHaveLength(110);
      const [stored] = await big.documents(held[0]!.partnerId, 'partner');
      expect(stored.incentiveInviteDueAt).toBeNull();
      expect(stored.incentiveInviteHeldSince).toBe('2026-03-02T09:10:00.000Z');

      // Held partners are not read again as due (no second missing-email line), but the
      // 30-day alert still names each of them on every run.
      big.clock.advance({ days: 30 });
      await run(big);
      expect(missingEmailLines()).toHaveLength(110);
      const overdue = big.logs.filter(
        (entry) => entry.level === 'error' && entry.message.includes('is overdue'),
      );
      expect(new Set(overdue.map((entry) => entry.message))).toHaveLength(110);
    } finally {
      await big.close();
    }
  });
});

describe('the due-partner query', () => {
  it('finds only the partners due now, not every partner', async () => {
    const delayed = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { INCENTIVE_INVITE_DELAY_DAYS: '3' },
    });
    try {
      const notEnrolled = await createPartner(delayed);
      const invited = await approvedPartner(delayed);
      delayed.clock.advance({ days: 3 });
      await run(delayed);
      const due = await approvedPartner(delayed, { mpnAccountEmail: null }); // due on 03-08
      delayed.clock.advance({ days: 1 });
      const notYetDue = await approvedPartner(delayed); // due on 03-09
      const found: string[] = [];
      for await (const partner of delayed.services.partners.incentiveInvitationsDue(
        new Date('2026-03-08T09:00:00.000Z'),
      )) {
        found.push(partner.value.partnerId);
      }
      expect(found).toEqual([due.partnerId]);
      expect(found).not.toContain(notEnrolled.partnerId);
      expect(found).not.toContain(invited.partnerId);
      expect(found).not.toContain(notYetDue.partnerId);
    } finally {
      await delayed.close();
    }
  });
});

describe('the invitation link', () => {
  it('lands on a page naming the partner and saying how to enroll; a bad link lands on a 404 page', async () => {
    app.clock.set('2026-04-10T09:00:00.000Z');
    await approvedPartner(app, { companyName: 'Tailspin Link Test' });
    await run();
    const link = await deliveredLink('Tailspin Link Test');
    expect(link.startsWith(`${app.url}/api/links/incentive-invitations#`)).toBe(true);

    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const lookup = (token: string) =>
      app.api('POST', '/api/incentive-invitations/lookup', { body: { token } });
    const found = (await lookup(tokenOf(link))).body;
    const text = JSON.stringify(found.page);
    expect(text).toContain('Tailspin Link Test');
    expect(text).toContain('/api/me/incentives/indirect-reseller/enrollment');
    expect(text).toContain('10 May 2026, 09:00 UTC'); // the link's expiry, 30 days on

    const bad = await lookup(`${tokenOf(link).slice(0, -4)}AAAA`);
    expect(bad.status).toBe(404);

    app.clock.set('2026-05-10T09:00:00.000Z');
    const expired = (await lookup(tokenOf(link))).body;
    expect(expired.status).toBe('expired');
    expect(expired.page.title).toBe('This invitation has expired');
  });

  it('is stored only as its hash and never logged', async () => {
    app.clock.set('2026-05-11T09:00:00.000Z');
    const partner = await approvedPartner(app, { companyName: 'Secret Keeping Ltd' });
    await run();
    const link = await deliveredLink('Secret Keeping Ltd');
    const secret = link.split('/').pop()!.split('.')[1]!;
    expect(secret).toHaveLength(43);

    // Once delivered, the outbox email keeps no body: no stored document holds the secret.
    const documents = await app.documents(partner.partnerId);
    expect(documents.map((document) => document.type)).toEqual(
      expect.arrayContaining(['partner', 'audit', 'incentive-invitation', 'email']),
    );
    expect(documents.find((document) => document.type === 'email')).toMatchObject({
      status: 'sent',
    });
    expect(JSON.stringify(documents)).not.toContain(secret);
    expect(app.logs.some((entry) => entry.message.includes(secret))).toBe(false);
  });
});

describe('GET /api/me/incentives and POST /api/me/incentives/{program}/enrollment', () => {
  it('lists both programs, not invited, for any partner user', async () => {
    app.clock.set('2026-06-01T09:00:00.000Z');
    const { partnerId } = await createPartner(app);
    const sales = await app.token({ tenant: partnerId, roles: ['SalesAgent'] });
    expect(await incentives(sales)).toEqual([
      { program: 'indirect-reseller', status: 'not-invited', canEnroll: false },
      { program: 'direct-bill', status: 'not-invited', canEnroll: true },
    ]);
  });

  it('refuses anyone but a global admin with 403', async () => {
    const partner = await approvedPartner(app);
    for (const roles of [['SalesAgent'], ['AdminAgent']]) {
      const response = await enroll(
        await app.token({ tenant: partner.partnerId, roles }),
        'direct-bill',
      );
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden');
    }
  });

  it('refuses an unknown program with 400', async () => {
    const partner = await approvedPartner(app);
    const response = await enroll(partner.adminToken, 'loyalty');
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('params.program');
  });

  it('enrolls in each program separately: the invitation first for indirect-reseller, idempotently', async () => {
    app.clock.set('2026-06-02T09:00:00.000Z');
    const partner = await approvedPartner(app, { companyName: 'Two Programs Ltd' });
    const token = partner.adminToken;

    const early = await enroll(token, 'indirect-reseller');
    expect(early.status).toBe(403);
    expect(early.body.code).toBe('forbidden');
    expect(early.body.detail).toContain('invitation');

    app.clock.advance({ minutes: 1 });
    const direct = await enroll(token, 'direct-bill');
    expect(direct.status).toBe(201);
    expect(incentiveView.parse(direct.body)).toEqual({
      program: 'direct-bill',
      status: 'enrolled',
      enrolledAt: '2026-06-02T09:01:00.000Z',
      canEnroll: false,
    });
    expect(program(await incentives(token), 'indirect-reseller')).toEqual({
      program: 'indirect-reseller',
      status: 'not-invited',
      canEnroll: false,
    });

    app.clock.advance({ minutes: 1 });
    await run();
    expect(program(await incentives(token), 'indirect-reseller')).toEqual({
      program: 'indirect-reseller',
      status: 'invited',
      invitedAt: '2026-06-02T09:02:00.000Z',
      canEnroll: true,
    });
    const link = await deliveredLink('Two Programs Ltd');

    app.clock.advance({ minutes: 1 });
    const first = await enroll(token, 'indirect-reseller');
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      program: 'indirect-reseller',
      status: 'enrolled',
      invitedAt: '2026-06-02T09:02:00.000Z',
      enrolledAt: '2026-06-02T09:03:00.000Z',
      canEnroll: false,
    });
    app.clock.advance({ minutes: 1 });
    const again = await enroll(token, 'indirect-reseller');
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const directAgain = await enroll(token, 'direct-bill');
    expect(directAgain.status).toBe(200);
    expect(directAgain.body).toEqual(direct.body);

    expect(await incentives(token)).toEqual([first.body, direct.body]);
    const [invitation] = await app.documents(partner.partnerId, 'incentive-invitation');
    expect(invitation).toMatchObject({ status: 'used', usedAt: '2026-06-02T09:03:00.000Z' });
    const used = await app.api('POST', '/api/incentive-invitations/lookup', {
      body: { token: tokenOf(link) },
    });
    expect(used.body.status).toBe('accepted');
    const audit = await app.documents(partner.partnerId, 'audit');
    expect(
      audit.filter((event) => event.action === 'incentives-enrolled').map((event) => event.reason),
    ).toEqual(expect.arrayContaining(['direct-bill incentives', 'indirect-reseller incentives']));
    expect(audit.filter((event) => event.action === 'incentives-enrolled')).toHaveLength(2);
  });

  it('enrolls in the indirect reseller incentives without touching direct bill', async () => {
    app.clock.set('2026-06-03T09:00:00.000Z');
    const partner = await approvedPartner(app);
    await run();
    expect((await enroll(partner.adminToken, 'indirect-reseller')).status).toBe(201);
    expect(program(await incentives(partner.adminToken), 'direct-bill')).toEqual({
      program: 'direct-bill',
      status: 'not-invited',
      canEnroll: true,
    });
  });

  it('refuses the direct-bill programs to a partner outside direct bill with not-eligible', async () => {
    const { partnerId } = await createPartner(app, {
      programs: {
        directBill: false,
        indirectProvider: { regions: ['US'], services: ['training-support'] },
      },
    });
    const token = await globalAdminToken(app, partnerId);
    expect(program(await incentives(token), 'direct-bill')).toMatchObject({ canEnroll: false });
    const response = await enroll(token, 'direct-bill');
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('not-eligible');
    expect(program(await incentives(token), 'direct-bill')).toMatchObject({
      status: 'not-invited',
    });
  });
});
