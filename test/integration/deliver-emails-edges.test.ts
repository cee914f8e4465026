import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliverEmails } from '../../shared/app/deliver-emails';
import { SendThrottled, type DueEmail, type EmailSender } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { override, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { approvedPartner } from '../support/enrollment';
import { recordingLogger } from '../support/recording-logger';

/**
 * What a deliverEmails run reports and logs to the operators (docs/rules.md, email delivery):
 * the report of a run, the warning of a retry or a throttled send, and the error of an email that
 * failed for good, with the id POST /api/operator/emails/{emailId}/retry takes.
 */

/** A sender whose next sends fail as the test says (nothing: they are delivered). */
function scriptedSender(): EmailSender & { failure: Error | null; sent: number } {
  const sender = {
    name: 'scripted',
    failure: null as Error | null,
    sent: 0,
    send: async (_message: unknown, operationId: string) => {
      if (sender.failure) throw sender.failure;
      sender.sent += 1;
      return { messageId: operationId };
    },
  };
  return sender;
}

describe('deliverEmails: its report and what it logs', () => {
  let app: TestApp;
  const sender = scriptedSender();
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      emailSender: sender,
      env: { EMAIL_MAX_ATTEMPTS: '2', EMAIL_RETRY_BASE_SECONDS: '30' },
    });
  });
  afterAll(() => app.close());

  it('reports a run that sent everything due as within budget, and warns of no spent budget', async () => {
    sender.failure = null;
    await approvedPartner(app);
    const logger = recordingLogger();
    const report = await deliverEmails(app.services, logger);
    expect(report).toEqual({
      sent: 1,
      retried: 0,
      failed: 0,
      skipped: 0,
      throttled: 0,
      outOfBudget: false,
    });
    expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([]);
  });

  it('starts no send once the run has no time left (a budget of 0 ms)', async () => {
    sender.failure = null;
    const { partnerId } = await approvedPartner(app);
    const before = sender.sent;
    const report = await deliverEmails(app.services, recordingLogger(), 0);
    expect(report.sent).toBe(0);
    expect(sender.sent).toBe(before);
    expect((await app.documents(partnerId, 'email'))[0]).toMatchObject({ status: 'pending' });
    // The next run, with its time, sends it.
    expect((await deliverEmails(app.services, recordingLogger())).sent).toBe(1);
  });

  describe("the run's time budget (budgetMs, on the host's clock)", () => {
    afterEach(() => {
      vi.restoreAllMocks();
    });

    /** Runs with a budget of 1 s, the host's clock `elapsed` ms on from the run's start. */
    async function sentWith(elapsed: number): Promise<number> {
      const start = Date.now();
      vi.spyOn(Date, 'now')
        .mockImplementationOnce(() => start)
        .mockImplementation(() => start + elapsed);
      const report = await deliverEmails(app.services, recordingLogger(), 1000);
      vi.restoreAllMocks();
      return report.sent;
    }

    it('still reads and sends 1 ms before the budget is spent', async () => {
      sender.failure = null;
      await approvedPartner(app);
      expect(await sentWith(999)).toBe(1);
    });

    it('starts nothing once the budget is spent, to the ms', async () => {
      sender.failure = null;
      await approvedPartner(app);
      expect(await sentWith(1000)).toBe(0);
      expect(await sentWith(0)).toBe(1);
    });
  });

  it('warns of a throttled send with the Retry-After it waits, and of a failed attempt with its retry delay', async () => {
    app.clock.set('2026-03-03T09:00:00.000Z');
    const { partnerId } = await approvedPartner(app);
    const [email] = await app.documents(partnerId, 'email');

    sender.failure = new SendThrottled('quota exceeded', 120);
    let logger = recordingLogger();
    expect((await deliverEmails(app.services, logger)).throttled).toBe(1);
    expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([
      {
        level: 'warn',
        message: `email ${email.id} (${email.kind}) throttled; retrying in 120s`,
        properties: { emailId: email.id, reason: 'quota exceeded' },
      },
    ]);

    app.clock.advance({ seconds: 120 });
    sender.failure = new Error('mailbox unavailable');
    logger = recordingLogger();
    expect((await deliverEmails(app.services, logger)).retried).toBe(1);
    expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([
      {
        level: 'warn',
        message: `email ${email.id} (${email.kind}) attempt 1 failed; retrying in 30s`,
        properties: { emailId: email.id, reason: 'mailbox unavailable' },
      },
    ]);
  });

  it("logs an email that failed for good as an error naming the id an operator's retry takes", async () => {
    app.clock.set('2026-03-04T09:00:00.000Z');
    const { partnerId } = await approvedPartner(app);
    const [email] = await app.documents(partnerId, 'email');
    sender.failure = new Error('mailbox unavailable');
    await deliverEmails(app.services, recordingLogger()); // attempt 1 of 2
    app.clock.advance({ seconds: 30 });
    const logger = recordingLogger();
    expect((await deliverEmails(app.services, logger)).failed).toBe(1);
    const errors = logger.lines.filter((line) => line.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      `email ${email.id} (${email.kind}) failed for good after 2 attempts`,
    );
    const { retryId, ...rest } = errors[0]!.properties!;
    expect(rest).toEqual({
      emailId: email.id,
      kind: email.kind,
      partnerId,
      reason: 'mailbox unavailable',
    });
    // The logged id is the one the operators' retry takes.
    const retried = await app.api('POST', `/api/operator/emails/${String(retryId)}/retry`, {
      token: await app.operatorToken(),
    });
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body).toMatchObject({ emailId: retryId, status: 'pending' });
  });
});

describe('deliverEmails when the send budget is spent', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EMAIL_SENDS_PER_MINUTE: '1', EMAIL_SENDS_PER_HOUR: '7' },
    });
  });
  afterAll(() => app.close());

  it('reports it and warns the operators with the budget that stopped it', async () => {
    await approvedPartner(app);
    await approvedPartner(app);
    const logger = recordingLogger();
    const report = await deliverEmails(app.services, logger);
    expect(report).toMatchObject({ sent: 1, outOfBudget: true });
    expect(logger.lines.filter((line) => line.level !== 'info')).toEqual([
      {
        level: 'warn',
        message:
          'deliverEmails: the send budget is spent; the emails still due wait for the next run',
        properties: { sendsPerMinute: 1, sendsPerHour: 7 },
      },
    ]);
  });

  it("counts the run's sends against the minute: a second run in the same minute sends nothing more", async () => {
    // The test above sent one of its two emails; the other waits.
    const again = await deliverEmails(app.services, recordingLogger());
    expect(again).toMatchObject({ sent: 0, outOfBudget: true });
    app.clock.advance({ minutes: 1 });
    expect(await deliverEmails(app.services, recordingLogger())).toMatchObject({
      sent: 1,
      outOfBudget: false,
    });
  });
});

/**
 * Due emails the test puts in front of the outbox (of partners that do not exist, so claiming
 * them finds none: skipped), and each read of due emails: its lane and the partners passed over.
 */
const staged: { backlog: DueEmail[] | null; reads: string[] } = { backlog: null, reads: [] };

function staging(services: Services): Services {
  return {
    ...services,
    outbox: override(services.outbox, {
      due: async (now, lane, limit, passOver = []) => {
        if (!staged.backlog) return services.outbox.due(now, lane, limit, passOver);
        staged.reads.push(`${lane}:${[...passOver].sort().join(',')}`);
        if (lane !== 'platform') return [];
        return staged.backlog
          .filter((email) => !passOver.includes(email.partnerId))
          .slice(0, limit);
      },
      claim: async (partnerId, emails, leaseUntil) => {
        if (!staged.backlog) return services.outbox.claim(partnerId, emails, leaseUntil);
        return [];
      },
    }),
  };
}

/** `count` due emails of each partner, the partners one after another, oldest first. */
function backlog(partners: Record<string, number>): DueEmail[] {
  return Object.entries(partners).flatMap(([partnerId, count]) =>
    Array.from({ length: count }, (_, n) => ({
      id: `${partnerId}-${n}`,
      partnerId,
      attempts: 0,
      dueAt: '2026-03-02T08:59:00.000Z',
      etag: `etag-${partnerId}-${n}`,
    })),
  );
}

describe("deliverEmails' reads of due emails (partners take turns, docs/rules.md section 13)", () => {
  let app: TestApp;
  beforeAll(async () => {
    // 2 sends a minute: a read asks for 8 due emails (4 per send the budget allows).
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EMAIL_SENDS_PER_MINUTE: '2', EMAIL_SENDS_PER_HOUR: '1000' },
      decorate: staging,
    });
  });
  afterAll(() => app.close());
  beforeEach(() => {
    staged.backlog = null;
    staged.reads = [];
  });

  it('reads a lane at most four times a turn, each past the partners found so far', async () => {
    staged.backlog = backlog({ a: 8, b: 8, c: 8, d: 8, e: 2 });
    const report = await deliverEmails(app.services, recordingLogger());
    expect(staged.reads).toEqual(['platform:', 'platform:a', 'platform:a,b', 'platform:a,b,c']);
    // The budget allows 2 of the 32 found: the rest waits for the next run.
    expect(report).toMatchObject({ skipped: 2, outOfBudget: true });
  });

  it('stops reading at the first read that finds fewer than it asked for', async () => {
    staged.backlog = backlog({ a: 8, b: 1 });
    await deliverEmails(app.services, recordingLogger());
    expect(staged.reads).toEqual(['platform:', 'platform:a']);
  });

  it('reads a lane once when its first read finds all that is due, then goes on to the next lane', async () => {
    staged.backlog = backlog({ a: 2 });
    const report = await deliverEmails(app.services, recordingLogger());
    expect(staged.reads).toEqual(['platform:', 'transactional:', 'bulk:']);
    expect(report).toMatchObject({ skipped: 2, outOfBudget: false });
  });
});
