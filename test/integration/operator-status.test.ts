import {
  eventSequenceId,
  operatorEventsPartition,
  type EventSequence,
} from '../../shared/domain/events';
import { describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import { timerFunctions } from '../../functions/timers';
import { reportBacklog } from '../../shared/app/backlog';
import type { EmailSender } from '../../shared/app/ports';
import { loggerFor } from '../../shared/adapters/logger';
import type { EventDelivery } from '../../shared/domain/webhooks';
import { defineTimer } from '../../shared/functions';
import {
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
  type TestAppOptions,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { activeReseller, approvedPartner, submitEnrollment } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';

/**
 * What an operator sees (docs/rules.md section 12): GET /api/operator/status, its figures as the
 * timers last counted them, and POST /api/operator/emails/{emailId}/retry. Each test has an app
 * (and database) of its own: timers act on every partner of their database.
 */
async function withApp(
  options: TestAppOptions,
  test: (app: TestApp) => Promise<void>,
): Promise<void> {
  const app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    ...options,
  });
  try {
    await test(app);
  } finally {
    await app.close();
  }
}

async function status(app: TestApp) {
  const response = await app.api('GET', '/api/operator/status', {
    token: await app.operatorToken(),
  });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** The lines of one prefix (`timer run`, ...), each with its level and its fields. */
const linesOf = (app: TestApp, prefix: string) =>
  app.logs
    .filter((entry) => entry.message.startsWith(`${prefix} {`))
    .map((entry) => ({
      level: entry.level,
      fields: JSON.parse(entry.message.slice(prefix.length + 1)) as Record<string, unknown>,
    }));

/** The fields of the `outbox backlog` lines logged for an outbox (the alert rules read them). */
const backlogLines = (app: TestApp, outbox: string) =>
  app.logs
    .map((entry) => /^outbox backlog (\{.*\})$/s.exec(entry.message)?.[1])
    .filter((line): line is string => line !== undefined)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.outbox === outbox);

const timerOf = async (app: TestApp, name: string) =>
  (await status(app)).timers.find((timer: { name: string }) => timer.name === name);

/** A sender that fails until told to work, as ACS does when an address is refused. */
function switchableSender(): EmailSender & { working: boolean; sent: number } {
  return {
    name: 'switchable',
    working: false,
    sent: 0,
    async send() {
      if (!this.working) throw new Error('recipient mailbox refused');
      this.sent += 1;
      return { messageId: `m-${this.sent}` };
    },
  };
}

describe('GET /api/operator/status', () => {
  it('lists every timer of the function table, none run yet, and empty backlogs', async () => {
    await withApp({}, async (app) => {
      const body = await status(app);
      expect(body.timers).toEqual(
        timerFunctions.map((timer) => ({
          name: timer.name,
          lastRunAt: null,
          lastSuccessAt: null,
          lastOutcome: null,
          lastSummary: null,
          stale: false,
        })),
      );
      expect(body.emails).toMatchObject({ pending: 0, failed: 0, oldestPendingAgeSeconds: null });
      expect(body.events).toEqual({
        pending: 0,
        failed: 0,
        oldestPendingAgeSeconds: null,
        reportedAt: null,
        recentFailures: [],
        endpointsFailing: 0,
      });
      expect(body).toMatchObject({
        enrollmentsPastReviewWindow: null,
        incentiveInvitationsOverdue: null,
        partnersWithoutMpnEmail: null,
      });
    });
  });

  it('records each run of a timer: when it ran, when it last succeeded, and what it did', async () => {
    await withApp({}, async (app) => {
      await approvedPartner(app);
      app.clock.advance({ seconds: 20 });
      await app.runTimer('deliverEmails');
      expect(await timerOf(app, 'deliverEmails')).toEqual({
        name: 'deliverEmails',
        lastRunAt: '2026-03-02T09:00:20.000Z',
        lastSuccessAt: '2026-03-02T09:00:20.000Z',
        lastOutcome: 'succeeded',
        lastSummary: expect.objectContaining({ sent: 1, failed: 0, pending: 0 }),
        stale: false,
      });
    });
  });

  it('shows a timer stale once it has not succeeded for three of its periods', async () => {
    await withApp({}, async (app) => {
      for (const timer of timerFunctions) await app.runTimer(timer.name);
      app.clock.advance({ minutes: 3 });
      expect((await timerOf(app, 'deliverEmails')).stale).toBe(false);
      app.clock.advance({ seconds: 1 });
      expect((await timerOf(app, 'deliverEmails')).stale).toBe(true);
      // The hourly timers have three hours.
      expect((await timerOf(app, 'escalatePendingEnrollments')).stale).toBe(false);
      app.clock.advance({ hours: 3 });
      expect((await timerOf(app, 'escalatePendingEnrollments')).stale).toBe(true);
      await app.runTimer('deliverEmails');
      expect((await timerOf(app, 'deliverEmails')).stale).toBe(false);
    });
  });

  it('shows a timer that never ran stale three periods after the app started', async () => {
    await withApp({}, async (app) => {
      app.clock.advance({ minutes: 3, seconds: 1 });
      const body = await status(app);
      const stale = body.timers.filter((timer: { stale: boolean }) => timer.stale);
      // The timers that run every minute; the hourly ones have three hours.
      expect(stale.map((timer: { name: string }) => timer.name)).toEqual([
        'deliverEmails',
        'deliverEvents',
      ]);
    });
  });

  it('records a run that throws as failed, keeping its last success, until it turns stale', async () => {
    let failing = false;
    await withApp(
      {
        decorate: (services) => ({
          ...services,
          partners: override(services.partners, {
            incentiveInvitationsDue: (now: Date) => {
              if (failing) throw new Error('the query failed');
              return services.partners.incentiveInvitationsDue(now);
            },
          }),
        }),
      },
      async (app) => {
        await app.runTimer('sendIncentiveInvitations');
        failing = true;
        app.clock.advance({ hours: 1 });
        await expect(app.runTimer('sendIncentiveInvitations')).rejects.toThrow('the query failed');
        // The run's line is an error, with the error, where the alerts look for failed runs.
        const runs = linesOf(app, 'timer run').filter(
          (line) => line.fields.timerName === 'sendIncentiveInvitations',
        );
        expect(runs.map((line) => [line.level, line.fields.outcome])).toEqual([
          ['information', 'succeeded'],
          ['error', 'failed'],
        ]);
        expect(runs[1]!.fields).toMatchObject({
          error: 'the query failed',
          startedAt: '2026-03-02T10:00:00.000Z',
          periodSeconds: 3600,
        });
        expect(await timerOf(app, 'sendIncentiveInvitations')).toMatchObject({
          lastRunAt: '2026-03-02T10:00:00.000Z',
          lastSuccessAt: '2026-03-02T09:00:00.000Z',
          lastOutcome: 'failed',
          stale: false,
        });
        app.clock.advance({ hours: 2, seconds: 1 });
        expect((await timerOf(app, 'sendIncentiveInvitations')).stale).toBe(true);
      },
    );
  });

  it('keeps the outcome of a timer run whose heartbeat cannot be written, and logs why', async () => {
    await withApp(
      {
        decorate: (services) => ({
          ...services,
          operations: override(services.operations, {
            save: async (document, etag) => {
              if (document.type === 'timer-heartbeat') throw new Error('operations unavailable');
              return services.operations.save(document, etag);
            },
          }),
        }),
      },
      async (app) => {
        await app.runTimer('expireTransfers'); // succeeds all the same
        expect(linesOf(app, 'timer heartbeat not written')).toEqual([
          {
            level: 'error',
            fields: expect.objectContaining({
              timerName: 'expireTransfers',
              reason: 'operations unavailable',
            }),
          },
        ]);
        // No heartbeat: the status page shows the timer as never run, stale in due time.
        expect(await timerOf(app, 'expireTransfers')).toMatchObject({ lastRunAt: null });
      },
    );
  });

  it('counts the emails waiting in the outbox and the age of the oldest', async () => {
    await withApp({ emailSender: switchableSender() }, async (app) => {
      await approvedPartner(app);
      app.clock.advance({ minutes: 10 });
      await approvedPartner(app);
      await app.runTimer('deliverEmails'); // both fail once and wait for their retry
      expect((await status(app)).emails).toMatchObject({
        pending: 2,
        failed: 0,
        oldestPendingAgeSeconds: 600,
      });
      // The alerts read the same figures from the run's log line; the emails have no endpoints.
      const [line, ...more] = backlogLines(app, 'emails');
      expect(more).toEqual([]);
      expect(line).toMatchObject({ pending: 2, failed: 0, newlyFailed: 0 });
      expect(line!.oldestPendingAgeSeconds).toBe(600);
      expect(line).not.toHaveProperty('endpointsFailing');
      // The recorded backlog is counted, so exact, and has no endpoints either.
      const recorded = await app.services.operations.backlog('emails');
      expect(recorded!.value.pendingCapped).toBe(false);
      expect(recorded!.value).not.toHaveProperty('endpointsFailing');
      // The age is as of now, counted from the figures of the last run.
      app.clock.advance({ seconds: 30 });
      expect((await status(app)).emails.oldestPendingAgeSeconds).toBe(630);
    });
  });

  it('counts an email that failed for good and keeps its body until an operator retries it', async () => {
    const sender = switchableSender();
    await withApp({ emailSender: sender, env: { EMAIL_MAX_ATTEMPTS: '1' } }, async (app) => {
      const { partnerId } = await approvedPartner(app);
      await app.runTimer('deliverEmails');
      const [email] = await app.documents(partnerId, 'email');
      expect(email).toMatchObject({ status: 'failed', failedAt: '2026-03-02T09:00:00.000Z' });
      expect(email.text).not.toBe('');
      const emailId = `${partnerId}.${email.id}`;
      expect((await status(app)).emails).toMatchObject({
        pending: 0,
        failed: 1,
        recentFailures: [{ id: emailId, kind: email.kind, failedAt: '2026-03-02T09:00:00.000Z' }],
      });

      app.clock.advance({ minutes: 5 });
      const retried = await app.api('POST', `/api/operator/emails/${emailId}/retry`, {
        token: await app.operatorToken(),
      });
      expect(retried.status, retried.text).toBe(200);
      expect(retried.body).toEqual({
        emailId,
        status: 'pending',
        dueAt: '2026-03-02T09:05:00.000Z',
      });
      expect((await status(app)).emails).toMatchObject({
        pending: 1,
        failed: 0,
        oldestPendingAgeSeconds: 0,
        recentFailures: [],
      });

      sender.working = true;
      await app.runTimer('deliverEmails');
      expect(sender.sent).toBe(1);
      const [sent] = await app.documents(partnerId, 'email');
      expect(sent).toMatchObject({ status: 'sent', attempts: 1, text: '', html: '', links: [] });
      expect((await status(app)).emails).toMatchObject({ pending: 0, failed: 0 });
    });
  });

  it("keeps a failed invitation email's link secret only until its retry is sent", async () => {
    const sender = switchableSender();
    await withApp({ emailSender: sender, env: { EMAIL_MAX_ATTEMPTS: '1' } }, async (app) => {
      const provider = await createProvider(app);
      const reseller = await activeReseller(app);
      const invited = await inviteReseller(app, provider, reseller);
      expect(invited.status).toBe(201);
      const secret = tokenOf(invited.body.link as string).split('.')[1]!;
      await app.runTimer('deliverEmails');
      const stored = async () => JSON.stringify(await app.allDocuments());
      expect(await stored()).toContain(secret); // failed: its body is kept for a retry

      const [email] = (await app.documents(provider.partnerId, 'email')).filter(
        (candidate) => candidate.status === 'failed',
      );
      const retried = await app.api(
        'POST',
        `/api/operator/emails/${provider.partnerId}.${email.id}/retry`,
        { token: await app.operatorToken() },
      );
      expect(retried.status).toBe(200);
      sender.working = true;
      await app.runTimer('deliverEmails');
      expect(sender.sent).toBe(1);
      expect(await stored()).not.toContain(secret);
    });
  });

  it("reports the events backlog as deliverEvents will: deliveries waiting and events endpoints have yet to be sent, through reportBacklog, a failing endpoint's apart", async () => {
    const deliverEvents = defineTimer({
      name: 'deliverEvents',
      schedule: '0 */1 * * * *',
      description: 'stands in for the webhook delivery timer',
      async handler(_timer, context, services) {
        const backlog = await reportBacklog(services, loggerFor(context), 'events', {
          newlyFailed: 0,
        });
        return { pending: backlog.pending, failedForGood: backlog.failed };
      },
    });
    await withApp({ table: [...functionTable, deliverEvents] }, async (app) => {
      const { partnerId } = await approvedPartner(app);
      const delivery = (id: string, status: string, extra: Partial<EventDelivery>) => {
        const webhookId = extra.webhookId ?? 'w1';
        return {
          type: 'delivery',
          id,
          stream: `webhook:${webhookId}`,
          partnerId,
          webhookId,
          eventId: `e-${id}`,
          eventType: 'enrollment.approved',
          body: '{}',
          status,
          attempts: 0,
          firstAttemptAt: null,
          createdAt: '2026-03-02T08:40:00.000Z',
          updatedAt: '2026-03-02T08:40:00.000Z',
          history: [],
          ...extra,
        } as EventDelivery;
      };
      const due = { dueAt: '2026-03-02T09:00:00.000Z' };
      // Waiting for its first attempt: the platform's backlog.
      await app.services.events.createDelivery(delivery('d1', 'pending', due));
      // Another endpoint that failed and waits for a retry, with an older delivery behind it.
      await app.services.events.createDelivery(
        delivery('d4', 'pending', { ...due, webhookId: 'w2', attempts: 2 }),
      );
      await app.services.events.createDelivery(
        delivery('d5', 'pending', {
          ...due,
          webhookId: 'w2',
          createdAt: '2026-03-02T08:00:00.000Z',
        }),
      );
      // A partner's delivery failed for good: its endpoint was disabled, its owner told.
      await app.services.events.createDelivery(
        delivery('d2', 'failed', { failedAt: '2026-03-02T08:50:00.000Z' }),
      );
      await app.services.events.createDelivery(delivery('d3', 'delivered', {}));
      // The operators' own endpoint failed for good: the platform's matter.
      await app.services.events.createDelivery(
        delivery('d6', 'failed', {
          partnerId: operatorEventsPartition,
          webhookId: 'w4',
          failedAt: '2026-03-02T08:55:00.000Z',
        }),
      );
      // The partner's feed has given numbers up to 5 (its sequence's next is 6).
      const sequence = await app.services.partners.getDocument<EventSequence>(
        partnerId,
        eventSequenceId,
      );
      const fiveGiven: EventSequence = {
        type: 'event-sequence',
        id: eventSequenceId,
        partnerId,
        next: 6,
      };
      await app.services.partners.commit(partnerId, [
        sequence
          ? { op: 'replace', document: fiveGiven, etag: sequence.etag }
          : { op: 'create', document: fiveGiven },
      ]);
      // What each has yet to be sent is counted up to the partner's feed head.
      const cursor = (webhookId: string, through: number, behindSince: string) =>
        app.services.events.advance(
          {
            type: 'webhook-cursor',
            id: 'cursor',
            stream: `webhook:${webhookId}`,
            partnerId,
            webhookId,
            through,
            dueAt: '2026-03-02T08:59:00.000Z',
            behindSince,
          },
          null,
          [],
        );
      // An endpoint three events behind in its partner's feed since 08:30.
      await cursor('w3', 2, '2026-03-02T08:30:00.000Z');
      // The failing endpoint is behind too, for longer: its partner's matter, counted apart.
      await cursor('w2', 1, '2026-03-02T07:00:00.000Z');
      await app.runTimer('deliverEvents');
      expect((await status(app)).events).toMatchObject({
        pending: 1 + 3,
        failed: 1,
        oldestPendingAgeSeconds: 30 * 60,
        endpointsFailing: 1,
        recentFailures: [{ id: `${operatorEventsPartition}.d6`, kind: 'enrollment.approved' }],
      });
      expect(backlogLines(app, 'events').at(-1)).toMatchObject({
        pending: 1 + 3,
        failed: 1,
        oldestPendingAgeSeconds: 30 * 60,
        endpointsFailing: 1,
      });
    });
  });

  it('counts enrollments past the review window as the escalation timer last saw them', async () => {
    // A Friday evening: three business days end on Wednesday evening.
    await withApp({ clock: new ManualClock('2026-03-06T18:30:00.000Z') }, async (app) => {
      const partner = await createPartnerWithProfile(app, { mpnVerified: false });
      await submitEnrollment(app, partner);
      await app.runTimer('escalatePendingEnrollments');
      expect((await status(app)).enrollmentsPastReviewWindow).toBe(0);
      // Five calendar days later, at the very end of the third business day: not past it yet.
      app.clock.set('2026-03-11T18:30:00.000Z');
      await app.runTimer('escalatePendingEnrollments');
      expect((await status(app)).enrollmentsPastReviewWindow).toBe(0);
      app.clock.set('2026-03-11T18:30:00.001Z');
      await app.runTimer('escalatePendingEnrollments');
      expect((await status(app)).enrollmentsPastReviewWindow).toBe(1);
      app.clock.set('2026-03-11T19:00:00Z');
      await app.runTimer('escalatePendingEnrollments');
      expect((await status(app)).enrollmentsPastReviewWindow).toBe(1);
      const decided = await app.api(
        'POST',
        `/api/operator/enrollments/${partner.partnerId}/decision`,
        { token: await app.operatorToken(), body: { decision: 'approve' } },
      );
      expect(decided.status).toBe(200);
      await app.runTimer('escalatePendingEnrollments');
      expect((await status(app)).enrollmentsPastReviewWindow).toBe(0);
    });
  });

  it('counts partners held for want of an MPN account email, and invitations overdue past day 30', async () => {
    await withApp({}, async (app) => {
      await approvedPartner(app, { mpnAccountEmail: null });
      await approvedPartner(app);
      await app.runTimer('sendIncentiveInvitations');
      expect(await status(app)).toMatchObject({
        partnersWithoutMpnEmail: 1,
        incentiveInvitationsOverdue: 0,
      });
      app.clock.advance({ days: 31 });
      await app.runTimer('sendIncentiveInvitations');
      expect(await status(app)).toMatchObject({
        partnersWithoutMpnEmail: 1,
        incentiveInvitationsOverdue: 1,
      });
    });
  });
});

describe('POST /api/operator/emails/{emailId}/retry', () => {
  it('answers 404 for an email that does not exist, 409 for one not failed, 400 for a malformed id', async () => {
    await withApp({}, async (app) => {
      const token = await app.operatorToken();
      const { partnerId } = await approvedPartner(app);
      await app.runTimer('deliverEmails');
      const [sent] = await app.documents(partnerId, 'email');
      const retry = (id: string) => app.api('POST', `/api/operator/emails/${id}/retry`, { token });

      const unknown = await retry(`${partnerId}.${crypto.randomUUID()}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('not-found');
      expect(unknown.body.detail).toMatch(/^email /);
      // Another document of the partition (the partner record) is no email either.
      const [record] = await app.documents(partnerId, 'partner');
      const notAnEmail = await retry(`${partnerId}.${record.id}`);
      expect({ status: notAnEmail.status, detail: notAnEmail.body.detail }).toEqual({
        status: 404,
        detail: unknown.body.detail,
      });
      const notFailed = await retry(`${partnerId}.${sent.id}`);
      expect(notFailed.status).toBe(409);
      expect(notFailed.body.code).toBe('conflict');
      // It says what the email is and which ones a retry takes.
      expect(notFailed.body.detail).toContain(`is ${sent.status}`);
      expect(notFailed.body.detail).toMatch(/only an email that failed/);
      const malformed = await retry(sent.id);
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('validation-failed');
    });
  });

  it('sends a retried email once: a retry that read it before another retry was sent gets 409', async () => {
    const sender = switchableSender();
    await withApp({ emailSender: sender, env: { EMAIL_MAX_ATTEMPTS: '1' } }, async (app) => {
      const { partnerId } = await approvedPartner(app);
      await app.runTimer('deliverEmails');
      const [email] = await app.documents(partnerId, 'email');
      expect(email.status).toBe('failed');
      const path = `/api/operator/emails/${partnerId}.${email.id}/retry`;
      const held = gate();
      let armed = true;
      const slow = await startSecondHost(app, (services) => ({
        ...services,
        partners: override(services.partners, {
          getDocument: (async (partition: string, id: string) => {
            const found = await services.partners.getDocument(partition, id);
            if (armed && id === email.id) {
              armed = false;
              await held.hold();
            }
            return found;
          }) as typeof services.partners.getDocument,
        }),
      }));
      try {
        const late = slow.api('POST', path, { token: await app.operatorToken() });
        await held.reached;
        expect((await app.api('POST', path, { token: await app.operatorToken() })).status).toBe(
          200,
        );
        sender.working = true;
        await app.runTimer('deliverEmails'); // sent
        held.open();
        const refused = await late;
        expect(refused.status).toBe(409);
        expect(refused.body.detail).toMatch(
          /changed while it was being retried.*read the status again/,
        );
      } finally {
        held.open();
        await slow.close({ keepDatabase: true });
      }
      await app.runTimer('deliverEmails');
      expect(sender.sent).toBe(1);
      expect((await app.documents(partnerId, 'email'))[0]).toMatchObject({ status: 'sent' });
    });
  });

  it('retries a failed email until a millisecond before its 30 days', async () => {
    await withApp(
      { emailSender: switchableSender(), env: { EMAIL_MAX_ATTEMPTS: '1' } },
      async (app) => {
        const { partnerId } = await approvedPartner(app);
        await app.runTimer('deliverEmails');
        const [email] = await app.documents(partnerId, 'email');
        app.clock.set(new Date(Date.parse(email.failedAt) + 30 * 24 * 3600 * 1000 - 1));
        const retried = await app.api(
          'POST',
          `/api/operator/emails/${partnerId}.${email.id}/retry`,
          {
            token: await app.operatorToken(),
          },
        );
        expect(retried.status, retried.text).toBe(200);
      },
    );
  });

  it('answers 404 for a failed email past its 30 days, when its link is dead', async () => {
    await withApp(
      { emailSender: switchableSender(), env: { EMAIL_MAX_ATTEMPTS: '1' } },
      async (app) => {
        const { partnerId } = await approvedPartner(app);
        await app.runTimer('deliverEmails');
        const [email] = await app.documents(partnerId, 'email');
        app.clock.advance({ days: 30 });
        const retried = await app.api(
          'POST',
          `/api/operator/emails/${partnerId}.${email.id}/retry`,
          {
            token: await app.operatorToken(),
          },
        );
        expect(retried.status).toBe(404);
        expect(retried.body).toMatchObject({
          code: 'not-found',
          detail: expect.stringMatching(/^email /),
        });
      },
    );
  });
});

describe('GET /api/health, degraded', () => {
  it('says degraded, still 200, when the oldest email has waited more than 15 minutes', async () => {
    await withApp({ emailSender: switchableSender() }, async (app) => {
      await approvedPartner(app);
      await app.runTimer('deliverEmails');
      expect((await app.api('GET', '/api/health')).body.status).toBe('ok');
      app.clock.advance({ minutes: 15, seconds: 1 });
      await app.runTimer('deliverEmails'); // still failing: it waits for its next attempt
      const health = await app.api('GET', '/api/health', { token: await app.operatorToken() });
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'degraded',
        checks: { cosmos: 'ok', email: 'degraded' },
        details: {
          outbox: 'backed-up',
          degraded: expect.arrayContaining(['the emails outbox is backed up']),
        },
      });
    });
  });
  /** An item waiting in each outbox since 09:00, its delivery failing. */
  const backedUp = {
    emails: {
      options: { emailSender: switchableSender() },
      async wait(app: TestApp) {
        await approvedPartner(app);
        await app.runTimer('deliverEmails');
      },
    },
    events: {
      // A partner's endpoint waiting for its first attempt is the platform's backlog (a failing
      // one is its partner's matter, counted apart): the delivery timer here only reports it.
      options: {
        table: [
          ...functionTable,
          defineTimer({
            name: 'deliverEvents',
            schedule: '0 */1 * * * *',
            description: 'stands in for the webhook delivery timer: reports, sends nothing',
            async handler(_timer, context, services) {
              const backlog = await reportBacklog(services, loggerFor(context), 'events', {
                newlyFailed: 0,
              });
              return { pending: backlog.pending, failedForGood: backlog.failed };
            },
          }),
        ],
      },
      async wait(app: TestApp) {
        const { partnerId } = await approvedPartner(app);
        const at = '2026-03-02T09:00:00.000Z';
        await app.services.events.createDelivery({
          type: 'delivery',
          id: 'waiting',
          stream: 'webhook:w1',
          partnerId,
          webhookId: 'w1',
          eventId: 'e-waiting',
          eventType: 'customer.created',
          body: '{}',
          status: 'pending',
          attempts: 0,
          firstAttemptAt: null,
          dueAt: at,
          createdAt: at,
          updatedAt: at,
          history: [],
        } as EventDelivery);
        await app.runTimer('deliverEvents');
      },
    },
  } as const;

  for (const outbox of ['emails', 'events'] as const) {
    it(`says the ${outbox} outbox is backed up once its oldest item has waited more than 15 minutes: not at 899 s nor at 900 s, at 901 s`, async () => {
      await withApp(backedUp[outbox].options, async (app) => {
        await backedUp[outbox].wait(app);
        const start = new Date('2026-03-02T09:00:00.000Z').getTime();
        // Which outbox is backed up is an operator's detail; anyone else reads only the words.
        const operator = await app.operatorToken();
        const backedUpAt = async (seconds: number) => {
          app.clock.set(new Date(start + seconds * 1000));
          const health = await app.api('GET', '/api/health', { token: operator });
          expect(health.status).toBe(200);
          return (health.body.details.degraded as string[]).includes(
            `the ${outbox} outbox is backed up`,
          );
        };
        expect(await backedUpAt(899)).toBe(false);
        expect(await backedUpAt(900)).toBe(false);
        expect(await backedUpAt(901)).toBe(true);
        const health = await app.api('GET', '/api/health', { token: operator });
        expect(health.body).toMatchObject({
          status: 'degraded',
          details: { outbox: 'backed-up' },
        });
        expect((await app.api('GET', '/api/health')).body.status).toBe('degraded');
      });
    });
  }
});
