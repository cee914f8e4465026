import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AcsEmailSender } from '../../shared/adapters/email/acs-sender';
import type { OutboxRepository } from '../../shared/app/ports';
import { sendBudgetPartition } from '../../shared/domain/send-budget';
import type { Services } from '../../shared/app/services';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { approvedPartner } from '../support/enrollment';
import { startFakeAcs, type FakeAcs } from '../support/fake-acs';

describe('deliverEmails through Azure Communication Services', () => {
  let acs: FakeAcs;
  let app: TestApp;
  beforeAll(async () => {
    acs = await startFakeAcs();
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
    });
  });
  afterAll(async () => {
    await app.close();
    await acs.close();
  });

  it('delivers each email exactly once when ACS throttles and fails the first two sends', async () => {
    const partners = await Promise.all([
      approvedPartner(app),
      approvedPartner(app),
      approvedPartner(app),
    ]);
    acs.script.push({ status: 429, retryAfterSeconds: 90 }, { status: 500 });

    await app.runTimer('deliverEmails');
    expect(acs.delivered.size).toBe(1);
    // The throttled email waits for its Retry-After (90 s), more than the 30 s backoff.
    app.clock.advance({ seconds: 60 });
    await app.runTimer('deliverEmails');
    expect(acs.delivered.size).toBe(2);
    app.clock.advance({ seconds: 60 });
    await app.runTimer('deliverEmails');
    await app.runTimer('deliverEmails');
    expect(acs.delivered.size).toBe(3);

    for (const partner of partners) {
      const [email] = await app.documents(partner.partnerId, 'email');
      expect(email.status).toBe('sent');
      expect(acs.delivered.get(email.id)?.to).toBe(email.to);
    }
    const sends = acs.requests.filter((request) => request.path === '/emails:send');
    expect(sends.map((send) => send.status).sort()).toEqual([202, 202, 202, 429, 500]);
    expect(acs.badSignatures).toBe(0);
  });
});

describe('deliverEmails when the process dies between sending and recording it (ACS)', () => {
  it("sends again with the same Operation-Id, so ACS's idempotency delivers it once", async () => {
    const acs = await startFakeAcs();
    let killAfterSending: string | null = null;
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          async settle(partnerId, outcomes) {
            if (outcomes.some(({ value }) => value.id === killAfterSending))
              throw new Error('process killed');
            return services.outbox.settle(partnerId, outcomes);
          },
        }),
      }),
    });
    try {
      const partner = await approvedPartner(app);
      const [queued] = await app.documents(partner.partnerId, 'email');
      killAfterSending = queued.id;
      await expect(app.runTimer('deliverEmails')).rejects.toThrow('process killed');
      killAfterSending = null;
      app.clock.advance({ minutes: 6 }); // the claim's lease lapses
      await app.runTimer('deliverEmails');

      const sends = acs.requests.filter(
        (request) => request.method === 'POST' && request.path === '/emails:send',
      );
      expect(sends.map((send) => send.operationId)).toEqual([queued.id, queued.id]);
      expect([...acs.delivered.keys()]).toEqual([queued.id]);
      const [done] = await app.documents(partner.partnerId, 'email');
      expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    } finally {
      await app.close();
      await acs.close();
    }
  });
});

describe('deliverEmails with the file outbox', () => {
  let app: TestApp;
  let failNextOutcome: ((id: string) => boolean) | null = null;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: { EMAIL_MAX_ATTEMPTS: '3' },
      decorate: (services) => {
        const outbox: OutboxRepository = override(services.outbox, {
          async settle(partnerId, outcomes) {
            // Simulates the process dying after the send, before the outcome is written.
            if (outcomes.some(({ value }) => failNextOutcome?.(value.id)))
              throw new Error('process killed');
            return services.outbox.settle(partnerId, outcomes);
          },
        });
        return { ...services, outbox };
      },
    });
  });
  afterAll(() => app.close());
  afterEach(() => {
    failNextOutcome = null;
  });

  it('loses nothing when the process dies between sending and recording it: sent again after the lease, one file', async () => {
    const partner = await approvedPartner(app);
    const [queued] = await app.documents(partner.partnerId, 'email');
    failNextOutcome = (id) => id === queued.id;
    await expect(app.runTimer('deliverEmails')).rejects.toThrow('process killed');
    failNextOutcome = null;

    const [stuck] = await app.documents(partner.partnerId, 'email');
    expect(stuck.status).toBe('sending');
    // Another run before the claim lapses leaves it alone.
    await app.runTimer('deliverEmails');
    expect((await app.documents(partner.partnerId, 'email'))[0].status).toBe('sending');

    app.clock.advance({ minutes: 6 });
    await app.runTimer('deliverEmails');
    const [done] = await app.documents(partner.partnerId, 'email');
    expect(done.status).toBe('sent');
    expect(done.attempts).toBe(2);
    const files = (await app.mailbox()).filter((email) => email.file.includes(queued.id));
    expect(files).toHaveLength(1);
  });

  it('takes over a claim whose sender died exactly when its five-minute lease lapses, not a millisecond before', async () => {
    const partner = await approvedPartner(app);
    const [queued] = await app.documents(partner.partnerId, 'email');
    const claimedAt = app.clock.now().getTime();
    failNextOutcome = (id) => id === queued.id;
    await expect(app.runTimer('deliverEmails')).rejects.toThrow('process killed');
    failNextOutcome = null;
    const statusAt = async (offsetMs: number) => {
      app.clock.set(new Date(claimedAt + offsetMs));
      await app.runTimer('deliverEmails');
      return (await app.documents(partner.partnerId, 'email'))[0].status as string;
    };
    expect(await statusAt(300_000 - 1)).toBe('sending');
    expect(await statusAt(300_000)).toBe('sent');
  });
});

describe('deliverEmails on two hosts', () => {
  it('calls the sender once per email when two hosts run the timer at the same time', async () => {
    // Every send() of either host is counted before it reaches the file outbox (which would
    // hide a repeated send: it skips a file that exists).
    const sends: string[] = [];
    const foundByRun: number[] = [];
    const counting = (services: Services): Services => ({
      ...services,
      emailSender: override(services.emailSender, {
        send: async (message, operationId) => {
          sends.push(operationId);
          return services.emailSender.send(message, operationId);
        },
      }),
      outbox: override(services.outbox, {
        due: async (now, lane, limit, passOver) => {
          const due = await services.outbox.due(now, lane, limit, passOver);
          foundByRun.push(due.length);
          return due;
        },
      }),
    });
    const first = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      decorate: counting,
    });
    const second = await startSecondHost(first, counting);
    try {
      const partners = await Promise.all(Array.from({ length: 10 }, () => approvedPartner(first)));
      const ids = await Promise.all(
        partners.map(async (partner) => (await first.documents(partner.partnerId, 'email'))[0].id),
      );
      await Promise.all([
        first.runTimer('deliverEmails'),
        second.runTimer('deliverEmails'),
        first.runTimer('deliverEmails'),
        second.runTimer('deliverEmails'),
      ]);
      // The runs overlapped: more than one of them found the ten emails due.
      expect(foundByRun.filter((count) => count === 10).length).toBeGreaterThan(1);
      expect(sends.sort()).toEqual([...ids].sort());
      for (const partner of partners) {
        const [email] = await first.documents(partner.partnerId, 'email');
        expect(email).toMatchObject({ status: 'sent', attempts: 1 });
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('deliverEmails when sending keeps failing', () => {
  it('retries with exponential backoff, then marks the email failed and logs an error', async () => {
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: { EMAIL_MAX_ATTEMPTS: '3', EMAIL_RETRY_BASE_SECONDS: '30' },
      emailSender: {
        name: 'broken',
        send: async () => {
          throw new Error('mailbox unavailable');
        },
      },
    });
    try {
      const partner = await approvedPartner(app);
      await app.runTimer('deliverEmails');
      let [email] = await app.documents(partner.partnerId, 'email');
      expect(email).toMatchObject({
        status: 'pending',
        attempts: 1,
        dueAt: '2026-03-02T09:00:30.000Z',
      });

      app.clock.advance({ seconds: 30 });
      await app.runTimer('deliverEmails');
      [email] = await app.documents(partner.partnerId, 'email');
      expect(email).toMatchObject({
        status: 'pending',
        attempts: 2,
        dueAt: '2026-03-02T09:01:30.000Z',
      });

      app.clock.advance({ seconds: 60 });
      await app.runTimer('deliverEmails');
      [email] = await app.documents(partner.partnerId, 'email');
      expect(email).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastError: 'mailbox unavailable',
      });
      expect(email.dueAt).toBeUndefined();
      const errors = app.logs.filter((entry) => entry.level === 'error');
      expect(
        errors.some(
          (entry) => entry.message.includes(email.id) && entry.message.includes('failed for good'),
        ),
      ).toBe(true);

      app.clock.advance({ days: 1 });
      await app.runTimer('deliverEmails');
      expect((await app.documents(partner.partnerId, 'email'))[0].attempts).toBe(3);
    } finally {
      await app.close();
    }
  });
});

describe('deliverEmails within the platform send budget (ACS quotas)', () => {
  const budget = { EMAIL_SENDS_PER_MINUTE: '2', EMAIL_SENDS_PER_HOUR: '5' };
  const statuses = async (app: TestApp, partnerIds: string[]): Promise<string[]> =>
    (
      await Promise.all(partnerIds.map(async (id) => (await app.documents(id, 'email'))[0].status))
    ).sort();

  it('sends at most EMAIL_SENDS_PER_MINUTE a minute and EMAIL_SENDS_PER_HOUR an hour, carrying the rest to the next runs', async () => {
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: budget,
    });
    try {
      const partners = await Promise.all(Array.from({ length: 6 }, () => approvedPartner(app)));
      const ids = partners.map((partner) => partner.partnerId);
      const delivered = async (): Promise<number> => (await app.mailbox()).length;

      await app.runTimer('deliverEmails');
      expect(await delivered()).toBe(2);
      const waiting = (await Promise.all(ids.map((id) => app.documents(id, 'email'))))
        .flat()
        .filter((email) => email.status === 'pending');
      expect(waiting).toHaveLength(4);
      for (const email of waiting) expect(email).toMatchObject({ attempts: 0, lastError: null });
      expect(app.logs.some((entry) => entry.message.includes('send budget is spent'))).toBe(true);

      await app.runTimer('deliverEmails'); // the same minute: nothing more
      expect(await delivered()).toBe(2);
      app.clock.advance({ minutes: 1 });
      await app.runTimer('deliverEmails');
      expect(await delivered()).toBe(4);
      app.clock.advance({ minutes: 1 });
      await app.runTimer('deliverEmails');
      expect(await delivered()).toBe(5); // the hour's 5 are spent
      app.clock.advance({ minutes: 1 });
      await app.runTimer('deliverEmails');
      expect(await delivered()).toBe(5);

      app.clock.set('2026-03-02T10:00:00Z');
      await app.runTimer('deliverEmails');
      expect(await delivered()).toBe(6);
      expect(await statuses(app, ids)).toEqual(Array(6).fill('sent'));
    } finally {
      await app.close();
    }
  });

  it('holds two hosts running deliverEmails at the same time to one budget', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const env = { EMAIL_SENDS_PER_MINUTE: '3', EMAIL_SENDS_PER_HOUR: '100' };
    const first = await startTestApp({ clock, env });
    const second = await startTestApp({
      clock,
      env: { ...env, COSMOS_DATABASE: first.config.cosmos.database },
    });
    try {
      const partners = await Promise.all(Array.from({ length: 8 }, () => approvedPartner(first)));
      await Promise.all([
        first.runTimer('deliverEmails'),
        second.runTimer('deliverEmails'),
        first.runTimer('deliverEmails'),
        second.runTimer('deliverEmails'),
      ]);
      const sent = [...(await first.mailbox()), ...(await second.mailbox())];
      expect(sent).toHaveLength(3);
      const ids = partners.map((partner) => partner.partnerId);
      expect(await statuses(first, ids)).toEqual([
        ...Array(5).fill('pending'),
        'sent',
        'sent',
        'sent',
      ]);
    } finally {
      await second.close({ keepDatabase: true });
      await first.close();
    }
  });

  it('counts with etags: a host that read the budget before another spent it sends nothing more', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const env = { EMAIL_SENDS_PER_MINUTE: '3', EMAIL_SENDS_PER_HOUR: '100' };
    const first = await startTestApp({ clock, env });
    // The second host reads the counters, then waits there until the first has spent them.
    let budgetRead: () => void = () => undefined;
    const secondHasRead = new Promise<void>((resolve) => (budgetRead = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let paused = false;
    const second = await startTestApp({
      clock,
      env: { ...env, COSMOS_DATABASE: first.config.cosmos.database },
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          async sendCounters(ids) {
            const counters = await services.outbox.sendCounters(ids);
            if (!paused) {
              paused = true;
              budgetRead();
              await released;
            }
            return counters;
          },
        }),
      }),
    });
    try {
      // 09:00: three approvals go out and spend the minute; their incentives invitations wait.
      const early = await Promise.all(
        Array.from({ length: 3 }, () =>
          approvedPartner(first, { mpnAccountEmail: 'mpn.owner@fabrikam.example' }),
        ),
      );
      await first.runTimer('deliverEmails');
      await first.runTimer('sendIncentiveInvitations');
      // 09:01: the second host finds the three invitations due and reads the budget (all left)...
      clock.advance({ minutes: 1 });
      const secondRun = second.runTimer('deliverEmails');
      await secondHasRead;
      // ...while the first spends the minute on three new approvals.
      await Promise.all(Array.from({ length: 3 }, () => approvedPartner(first)));
      await first.runTimer('deliverEmails');
      expect(await first.mailbox()).toHaveLength(6);
      release();
      await secondRun;
      expect(await second.mailbox()).toHaveLength(0);
      for (const partner of early) {
        const emails = await first.documents(partner.partnerId, 'email');
        const invitation = emails.find((email) => email.kind === 'incentive-invitation');
        expect(invitation).toMatchObject({ status: 'pending', attempts: 0 });
      }
    } finally {
      release();
      await second.close({ keepDatabase: true });
      await first.close();
    }
  });

  it("counts with etags once the minute's counters exist: a host that read them before another spent the rest sends nothing more", async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const env = { EMAIL_SENDS_PER_MINUTE: '3', EMAIL_SENDS_PER_HOUR: '100' };
    const first = await startTestApp({ clock, env });
    const held = gate();
    let armed = false;
    const second = await startTestApp({
      clock,
      env: { ...env, COSMOS_DATABASE: first.config.cosmos.database },
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          async sendCounters(ids) {
            const counters = await services.outbox.sendCounters(ids);
            if (armed) {
              armed = false;
              await held.hold();
            }
            return counters;
          },
        }),
      }),
    });
    try {
      // 09:00: one email sent, so this minute's counters are there (1 of 3).
      await approvedPartner(first);
      await first.runTimer('deliverEmails');
      expect(await first.mailbox()).toHaveLength(1);
      // Four more wait. The second host reads the counters (2 left), then waits...
      await Promise.all(Array.from({ length: 4 }, () => approvedPartner(first)));
      armed = true;
      const secondRun = second.runTimer('deliverEmails');
      await held.reached;
      // ...while the first spends the 2 left.
      await first.runTimer('deliverEmails');
      expect(await first.mailbox()).toHaveLength(3);
      held.open();
      await secondRun;
      expect(await second.mailbox()).toHaveLength(0);
      const minute = await first.pointRead(
        sendBudgetPartition,
        'send-budget-minute-2026-03-02T09:00',
      );
      expect(minute).toMatchObject({ count: 3 });
    } finally {
      held.open();
      await second.close({ keepDatabase: true });
      await first.close();
    }
  });

  it('costs a run one read of the counters and one counting batch per page of sends; a spent budget or nothing to give back writes nothing', async () => {
    const clock = new ManualClock('2026-03-02T09:00:00Z');
    const calls = { reads: 0, writes: 0 };
    const app = await startTestApp({
      clock,
      env: { EMAIL_SENDS_PER_MINUTE: '4', EMAIL_SENDS_PER_HOUR: '100' },
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          async sendCounters(ids) {
            calls.reads += 1;
            return services.outbox.sendCounters(ids);
          },
          async writeSendCounters(operations) {
            calls.writes += 1;
            return services.outbox.writeSendCounters(operations);
          },
        }),
      }),
    });
    try {
      await Promise.all(
        Array.from({ length: 2 }, () =>
          approvedPartner(app, { mpnAccountEmail: 'mpn.owner@fabrikam.example' }),
        ),
      );
      await app.runTimer('deliverEmails');
      expect(await app.mailbox()).toHaveLength(2);
      expect(calls).toEqual({ reads: 1, writes: 1 });
      // One approval (transactional) and two incentives invitations (bulk): two pages of sends,
      // one read; the budget allows two of the three, the last waits.
      await app.runTimer('sendIncentiveInvitations');
      await approvedPartner(app);
      await app.runTimer('deliverEmails');
      expect(await app.mailbox()).toHaveLength(4);
      expect(calls).toEqual({ reads: 2, writes: 3 });
      // The same minute again: the budget is read, found spent, and nothing is written.
      await app.runTimer('deliverEmails');
      expect(await app.mailbox()).toHaveLength(4);
      expect(calls).toEqual({ reads: 3, writes: 3 });
      expect(
        await app.pointRead(sendBudgetPartition, 'send-budget-minute-2026-03-02T09:00'),
      ).toMatchObject({ count: 4 });
    } finally {
      await app.close();
    }
  });

  it('gives up counting after ten conflicts in a row: the run sends nothing, the emails wait whole for the next run', async () => {
    let conflicts = 0;
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          // Another host wins every count: each write finds the counters changed.
          async writeSendCounters() {
            conflicts += 1;
            return null;
          },
        }),
      }),
    });
    try {
      const partner = await approvedPartner(app);
      await app.runTimer('deliverEmails');
      expect(conflicts).toBe(10);
      expect(await app.mailbox()).toEqual([]);
      expect((await app.documents(partner.partnerId, 'email'))[0]).toMatchObject({
        status: 'pending',
        attempts: 0,
      });
    } finally {
      await app.close();
    }
  });

  it('reads a short page while the budget is short: with one send a minute, the first read of a run does not take every due email', async () => {
    const pages: number[] = [];
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: { EMAIL_SENDS_PER_MINUTE: '1', EMAIL_SENDS_PER_HOUR: '100' },
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          async due(now, lane, limit, passOver) {
            const due = await services.outbox.due(now, lane, limit, passOver);
            pages.push(due.length);
            return due;
          },
        }),
      }),
    });
    try {
      const partners = await Promise.all(Array.from({ length: 6 }, () => approvedPartner(app)));
      const due = (
        await Promise.all(partners.map((partner) => app.documents(partner.partnerId, 'email')))
      ).flat();
      expect(due.length).toBeGreaterThanOrEqual(partners.length);
      await app.runTimer('deliverEmails');
      expect(await app.mailbox()).toHaveLength(1);
      // The first read that found any (the lanes before it had none).
      const first = pages.find((found) => found > 0);
      expect(first).toBeLessThan(due.length);
    } finally {
      await app.close();
    }
  });

  // A run spends the budget lane by lane; when the minute (or the hour) turns between two lanes,
  // the later lane counts in the new window, whatever the old one had left.
  for (const turn of [
    {
      name: 'counts in the new minute when the minute turns during a run: the budget the old one had spent holds back nothing',
      env: { EMAIL_SENDS_PER_MINUTE: '2', EMAIL_SENDS_PER_HOUR: '100' },
      start: '2026-03-02T09:00:00Z',
      during: '2026-03-02T09:01:59Z',
      turnsTo: '2026-03-02T09:02:00Z',
      counters: {
        'send-budget-minute-2026-03-02T09:01': 2,
        'send-budget-minute-2026-03-02T09:02': 2,
      },
    },
    {
      name: 'counts in the new hour when the hour turns during a run: the budget the old one had spent holds back nothing',
      env: { EMAIL_SENDS_PER_MINUTE: '100', EMAIL_SENDS_PER_HOUR: '4' },
      start: '2026-03-02T09:58:00Z',
      during: '2026-03-02T09:59:59Z',
      turnsTo: '2026-03-02T10:00:00Z',
      counters: { 'send-budget-hour-2026-03-02T09': 4, 'send-budget-hour-2026-03-02T10': 2 },
    },
  ]) {
    it(turn.name, async () => {
      const clock = new ManualClock(turn.start);
      let turnAfterFirstCount = false;
      const app = await startTestApp({
        clock,
        env: turn.env,
        decorate: (services) => ({
          ...services,
          outbox: override(services.outbox, {
            async writeSendCounters(operations) {
              const etags = await services.outbox.writeSendCounters(operations);
              if (turnAfterFirstCount && etags) {
                turnAfterFirstCount = false;
                clock.set(turn.turnsTo);
              }
              return etags;
            },
          }),
        }),
      });
      try {
        // Two approvals sent; their incentives invitations (bulk) wait.
        const early = await Promise.all(
          Array.from({ length: 2 }, () =>
            approvedPartner(app, { mpnAccountEmail: 'mpn.owner@fabrikam.example' }),
          ),
        );
        await app.runTimer('deliverEmails');
        await app.runTimer('sendIncentiveInvitations');
        expect(await app.mailbox()).toHaveLength(2);
        // Just before the turn: two approvals (transactional) spend what is left of the window.
        clock.set(turn.during);
        await Promise.all(Array.from({ length: 2 }, () => approvedPartner(app)));
        turnAfterFirstCount = true;
        await app.runTimer('deliverEmails');
        // The window turned after they were counted: the invitations go out in the new one.
        expect(await app.mailbox()).toHaveLength(6);
        for (const partner of early) {
          const emails = await app.documents(partner.partnerId, 'email');
          expect(emails.map((email) => [email.kind, email.status]).sort()).toEqual([
            ['enrollment-approved', 'sent'],
            ['incentive-invitation', 'sent'],
          ]);
        }
        for (const [id, count] of Object.entries(turn.counters)) {
          expect(await app.pointRead(sendBudgetPartition, id), id).toMatchObject({ count });
        }
      } finally {
        await app.close();
      }
    });
  }

  it('sends transactional emails (enrollment decisions, invitations) before bulk ones (incentives invitations)', async () => {
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: { EMAIL_SENDS_PER_MINUTE: '1', EMAIL_SENDS_PER_HOUR: '100' },
    });
    try {
      const early = await approvedPartner(app, { mpnAccountEmail: 'mpn.owner@fabrikam.example' });
      await app.runTimer('deliverEmails'); // its approval
      await app.runTimer('sendIncentiveInvitations'); // queued at 09:00, bulk
      app.clock.advance({ minutes: 1 });
      const late = await approvedPartner(app); // its approval, queued at 09:01
      const kindOf = async (partnerId: string, kind: string): Promise<any> =>
        (await app.documents(partnerId, 'email')).find((email) => email.kind === kind);

      await app.runTimer('deliverEmails');
      expect((await kindOf(late.partnerId, 'enrollment-approved')).status).toBe('sent');
      expect((await kindOf(early.partnerId, 'incentive-invitation')).status).toBe('pending');

      app.clock.advance({ minutes: 1 });
      await app.runTimer('deliverEmails');
      expect((await kindOf(early.partnerId, 'incentive-invitation')).status).toBe('sent');
    } finally {
      await app.close();
    }
  });
});

describe('deliverEmails when ACS throttles (429)', () => {
  let acs: FakeAcs;
  beforeAll(async () => {
    acs = await startFakeAcs();
  });
  afterAll(() => acs.close());
  const appOn = (env: Record<string, string>): Promise<TestApp> =>
    startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env,
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
    });

  it('uses up no attempt and keeps the email whole, link included, however long ACS throttles', async () => {
    const app = await appOn({ EMAIL_MAX_ATTEMPTS: '2' });
    try {
      const partner = await approvedPartner(app);
      const [queued] = await app.documents(partner.partnerId, 'email');
      acs.script.push(
        ...Array.from({ length: 5 }, () => ({ status: 429 as const, retryAfterSeconds: 60 })),
      );
      for (let run = 0; run < 5; run += 1) {
        await app.runTimer('deliverEmails');
        const [email] = await app.documents(partner.partnerId, 'email');
        expect(email).toMatchObject({ status: 'pending', attempts: 0, text: queued.text });
        expect(email.links).toEqual(queued.links);
        app.clock.advance({ seconds: 60 });
      }
      await app.runTimer('deliverEmails');
      const [sent] = await app.documents(partner.partnerId, 'email');
      expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
      expect(acs.delivered.get(sent.id)?.plainText).toContain(queued.links[0]);
    } finally {
      await app.close();
    }
  });

  it('gives back the sends a throttled run counted but did not make: the same minute sends them', async () => {
    const app = await appOn({
      EMAIL_DELIVERY_CONCURRENCY: '1',
      EMAIL_SENDS_PER_MINUTE: '3',
      EMAIL_SENDS_PER_HOUR: '100',
    });
    const minute = () => app.pointRead(sendBudgetPartition, 'send-budget-minute-2026-03-02T09:00');
    try {
      const partners = await Promise.all(Array.from({ length: 3 }, () => approvedPartner(app)));
      acs.script.push({ status: 429, retryAfterSeconds: 10 });
      // 09:00:00: three counted, one tried (throttled), two not sent and given back.
      await app.runTimer('deliverEmails');
      expect(await minute()).toMatchObject({ count: 1 });
      // 09:00:30, the same minute: the two given back are spent, on the three now due.
      app.clock.advance({ seconds: 30 });
      await app.runTimer('deliverEmails');
      expect(await minute()).toMatchObject({ count: 3 });
      const statuses = await Promise.all(
        partners.map(
          async (partner) => (await app.documents(partner.partnerId, 'email'))[0].status,
        ),
      );
      expect(statuses.filter((status) => status === 'sent')).toHaveLength(2);
      // The next minute sends the last.
      app.clock.advance({ seconds: 30 });
      await app.runTimer('deliverEmails');
      for (const partner of partners)
        expect((await app.documents(partner.partnerId, 'email'))[0].status).toBe('sent');
    } finally {
      await app.close();
    }
  });

  it('gives up giving back after ten conflicts in a row: the run ends, and the minute keeps counting the sends it could not return', async () => {
    let writes = 0;
    let conflicts = 0;
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00Z'),
      env: {
        EMAIL_DELIVERY_CONCURRENCY: '1',
        EMAIL_SENDS_PER_MINUTE: '3',
        EMAIL_SENDS_PER_HOUR: '100',
      },
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          // The count goes through; then another host wins every write of the give-back.
          async writeSendCounters(operations) {
            writes += 1;
            if (writes === 1) return services.outbox.writeSendCounters(operations);
            conflicts += 1;
            return null;
          },
        }),
      }),
    });
    const minute = () => app.pointRead(sendBudgetPartition, 'send-budget-minute-2026-03-02T09:00');
    try {
      const partners = await Promise.all(Array.from({ length: 3 }, () => approvedPartner(app)));
      acs.script.push({ status: 429, retryAfterSeconds: 10 });
      // Three counted, one tried (throttled), two not sent: giving them back conflicts ten times.
      await app.runTimer('deliverEmails');
      expect(conflicts).toBe(10);
      expect(await minute()).toMatchObject({ count: 3 });
      for (const partner of partners)
        expect((await app.documents(partner.partnerId, 'email'))[0].status).toBe('pending');
    } finally {
      await app.close();
    }
  });

  it('stops the run at the first 429: the other due emails are not sent into the throttled quota', async () => {
    const app = await appOn({ EMAIL_DELIVERY_CONCURRENCY: '1' });
    try {
      const partners = await Promise.all(Array.from({ length: 3 }, () => approvedPartner(app)));
      const before = acs.requests.filter((request) => request.path === '/emails:send').length;
      acs.script.push({ status: 429, retryAfterSeconds: 60 });
      await app.runTimer('deliverEmails');
      const sends = acs.requests.filter((request) => request.path === '/emails:send');
      expect(sends.length - before).toBe(1);
      for (const partner of partners) {
        const [email] = await app.documents(partner.partnerId, 'email');
        expect(email).toMatchObject({ status: 'pending', attempts: 0 });
      }
      app.clock.advance({ seconds: 60 });
      await app.runTimer('deliverEmails');
      for (const partner of partners)
        expect((await app.documents(partner.partnerId, 'email'))[0].status).toBe('sent');
    } finally {
      await app.close();
    }
  });
});
