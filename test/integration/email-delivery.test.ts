import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AcsEmailSender } from '../../shared/adapters/email/acs-sender';
import type { OutboxRepository } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { override, startSecondHost, startTestApp, type TestApp } from '../support/app';
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
          async replaceIfUnchanged(email, etag) {
            if (email.status !== 'sending' && email.id === killAfterSending)
              throw new Error('process killed');
            return services.outbox.replaceIfUnchanged(email, etag);
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
        const outbox: OutboxRepository = {
          due: (now, limit) => services.outbox.due(now, limit),
          async replaceIfUnchanged(email, etag) {
            // Simulates the process dying after the send, before the outcome is written.
            if (email.status !== 'sending' && failNextOutcome?.(email.id))
              throw new Error('process killed');
            return services.outbox.replaceIfUnchanged(email, etag);
          },
        };
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
        due: async (now, limit) => {
          const due = await services.outbox.due(now, limit);
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
