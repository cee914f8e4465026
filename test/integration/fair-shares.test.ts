import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/app/services';
import {
  override,
  startSecondHost,
  startTestApp,
  type ApiResponse,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { approvedPartner, submitEnrollment } from '../support/enrollment';
import { pendingTransfer, requestTransfer } from '../support/transfers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * docs/rules.md section 13, "Fair shares", for email: every email a partner's action causes
 * counts against its hourly allowance (EMAIL_SENDS_PER_PARTNER_PER_HOUR), and the outbox serves
 * partners in turn, the reviewers' and operators' mail first.
 */

type World = Awaited<ReturnType<typeof pendingTransfer>>;

const counter = async (app: TestApp, partnerId: string) =>
  (await app.documents(partnerId, 'rate-counter')).find((document: { id: string }) =>
    document.id.startsWith('rate-emails-'),
  ) as { count: number; window: string } | undefined;

interface Step {
  path: string;
  body?: unknown;
  answer: ApiResponse;
}

/**
 * The flood: a reseller withdraws its transfer request and asks again, `cycles` times, each
 * step emailing both partners. Every step, with its answer; it stops at the first refusal.
 */
async function flood(app: TestApp, world: World, cycles: number): Promise<Step[]> {
  let transferId = world.transferId;
  const steps: Step[] = [];
  const step = async (path: string, body?: unknown) => {
    const answer = await app.api('POST', path, {
      token: world.reseller.adminToken,
      ...(body === undefined ? {} : { body }),
    });
    steps.push({ path, ...(body === undefined ? {} : { body }), answer });
    return answer;
  };
  for (let cycle = 0; cycle < cycles; cycle += 1) {
    if ((await step(`/api/me/transfers/${transferId}/withdraw`)).status !== 200) break;
    const requested = await step(`/api/me/customers/${world.customerId}/transfers`, {
      providerId: world.provider.partnerId,
      lineItems: [{ subscriptionId: world.subscriptions.e3 }],
    });
    if (requested.status !== 201) break;
    transferId = requested.body.transferId as string;
  }
  return steps;
}

describe("each partner's hourly email allowance (EMAIL_SENDS_PER_PARTNER_PER_HOUR)", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  });
  afterAll(() => app.close());

  it('holds the flood of transfer request and withdraw cycles to the allowance: the step past it gets 429 with Retry-After and writes nothing', async () => {
    expect(app.config.limits.emailsPerPartnerPerHour).toBe(200);
    app.clock.set('2026-03-02T09:20:00.000Z');
    const world = await pendingTransfer(app);
    const steps = await flood(app, world, 60);
    const last = steps.at(-1)!;
    const refused = last.answer;
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.headers.get('retry-after')).toBe(String(40 * 60));
    expect(refused.body.detail).toMatch(
      /^At most 200 emails an hour may be caused by a partner's actions, and this one would send \d+ more; try again in 2400 seconds\.$/,
    );
    // Each step emailed both partners: the reseller's emails of the hour are exactly its allowance.
    const queued = (await app.documents(world.reseller.partnerId, 'email')).filter(
      (email: { kind: string }) => email.kind.startsWith('transfer-'),
    );
    expect(queued).toHaveLength(200);
    expect(await counter(app, world.reseller.partnerId)).toMatchObject({ count: 200 });
    // Refused again, it writes nothing on either side.
    const before = [
      await app.documents(world.reseller.partnerId),
      await app.documents(world.provider.partnerId),
    ];
    const resend = () =>
      app.api('POST', last.path, {
        token: world.reseller.adminToken,
        ...(last.body === undefined ? {} : { body: last.body }),
      });
    const again = await resend();
    expect(again.status).toBe(429);
    expect([
      await app.documents(world.reseller.partnerId),
      await app.documents(world.provider.partnerId),
    ]).toEqual(before);
    // The next hour opens it again.
    app.clock.set('2026-03-02T10:00:00.000Z');
    expect((await resend()).status).toBeLessThan(300);
  });

  it("counts the provider's decisions against the provider, and refuses its decision past the allowance", async () => {
    app.clock.set('2026-03-03T09:00:00.000Z');
    const world = await pendingTransfer(app);
    const provider = world.provider.partnerId;
    const before = (await counter(app, provider))?.count ?? 0;
    const rejected = await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
      token: world.provider.adminToken,
      body: { reason: 'Not now' },
    });
    expect(rejected.status).toBe(200);
    expect((await counter(app, provider))?.count).toBe(before + 2);
    // Spend the provider's hour, then a decision is refused and writes nothing.
    const next = await requestTransfer(app, world, [world.subscriptions.e3]);
    const spent = await counter(app, provider);
    await app.services.partners.commit(provider, [
      {
        op: 'replace',
        document: { ...(spent as object), count: 199 } as never,
        etag: (await app.pointRead(provider, (spent as unknown as { id: string }).id))._etag,
      },
    ]);
    const snapshot = async () => [
      await app.documents(world.reseller.partnerId),
      await app.documents(provider),
    ];
    const unchanged = await snapshot();
    const accepted = await app.api('POST', `/api/me/transfers/${next.body.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(429);
    expect(await snapshot()).toEqual(unchanged);
  });

  it('counts invitations and customer invitation sends, and ending a partnership, which is never refused', async () => {
    app.clock.set('2026-03-04T09:00:00.000Z');
    const world = await pendingTransfer(app);
    const provider = world.provider.partnerId;
    // The provider's invitation of the reseller (one email) counted this hour.
    expect((await counter(app, provider))?.count).toBe(1);
    const drafted = await app.api('POST', '/api/me/customer-invitations', {
      token: world.reseller.adminToken,
      body: { providerId: provider },
    });
    const resellerBefore = (await counter(app, world.reseller.partnerId))!.count;
    const sent = await app.api(
      'POST',
      `/api/me/customer-invitations/${drafted.body.invitationId}/send`,
      {
        token: world.reseller.adminToken,
        body: { to: 'dana@wingtiptoys.example', ...drafted.body.draft },
      },
    );
    expect(sent.status).toBe(202);
    expect((await counter(app, world.reseller.partnerId))!.count).toBe(resellerBefore + 1);
    // Spent: ending goes through all the same, counting its emails (the end's, the cancelled
    // transfer's two).
    const spent = (await counter(app, provider)) as unknown as { id: string };
    await app.services.partners.commit(provider, [
      {
        op: 'replace',
        document: { ...(spent as object), count: 200 } as never,
        etag: (await app.pointRead(provider, spent.id))._etag,
      },
    ]);
    const ended = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${world.reseller.partnerId}`,
      {
        token: world.provider.adminToken,
      },
    );
    expect(ended.status).toBe(200);
    expect((await counter(app, provider))?.count).toBe(203);
  });
});

describe('the outbox serves partners in turn (deliverEmails)', () => {
  // A custom domain's starting ACS quota, the infra default.
  const quota = { EMAIL_SENDS_PER_MINUTE: '30', EMAIL_SENDS_PER_HOUR: '100' };

  it("sends another partner's approval email on the next run after one partner's flood", async () => {
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: quota,
    });
    try {
      const world = await pendingTransfer(app);
      await flood(app, world, 60);
      const backlog = (await app.documents(world.reseller.partnerId, 'email')).filter(
        (email: { status: string }) => email.status === 'pending',
      );
      expect(backlog.length).toBeGreaterThan(100);
      app.clock.advance({ minutes: 1 });
      const victim = await approvedPartner(app, { companyName: 'Victim Traders' });
      app.clock.advance({ minutes: 1 });
      await app.runTimer('deliverEmails');
      const [approval] = await app.documents(victim.partnerId, 'email');
      expect(approval).toMatchObject({ kind: 'enrollment-approved', status: 'sent' });
      // The flood had its turns, no more than the others'.
      const sent = (await app.documents(world.reseller.partnerId, 'email')).filter(
        (email: { status: string }) => email.status === 'sent',
      );
      expect(sent.length).toBeLessThan(30);
    } finally {
      await app.close();
    }
  });

  it("sends the reviewers' escalation first, ahead of an older backlog", async () => {
    const app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EMAIL_SENDS_PER_MINUTE: '1', EMAIL_SENDS_PER_HOUR: '100' },
    });
    try {
      const waiting = await createPartnerWithProfile(app, { mpnVerified: false });
      expect((await submitEnrollment(app, waiting)).body.status).toBe('pending-approval');
      await Promise.all(Array.from({ length: 3 }, () => approvedPartner(app)));
      app.clock.advance({ days: 7 });
      await app.runTimer('escalatePendingEnrollments');
      await app.runTimer('deliverEmails');
      const [escalation] = (await app.documents(waiting.partnerId, 'email')).filter(
        (email: { kind: string }) => email.kind === 'enrollment-escalated',
      );
      expect(escalation).toMatchObject({ lane: 'platform', status: 'sent' });
    } finally {
      await app.close();
    }
  });

  it('sends each email once when two hosts serve partners in turn at the same time', async () => {
    const sends: string[] = [];
    const counting = (services: Services): Services => ({
      ...services,
      emailSender: override(services.emailSender, {
        send: async (message, operationId) => {
          sends.push(operationId);
          return services.emailSender.send(message, operationId);
        },
      }),
    });
    const first = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: quota,
      decorate: counting,
    });
    const second = await startSecondHost(first, counting);
    try {
      const world = await pendingTransfer(first);
      await flood(first, world, 10);
      await Promise.all(Array.from({ length: 5 }, () => approvedPartner(first)));
      for (let minute = 0; minute < 3; minute += 1) {
        await Promise.all([first.runTimer('deliverEmails'), second.runTimer('deliverEmails')]);
        first.clock.advance({ minutes: 1 });
      }
      expect(new Set(sends).size).toBe(sends.length);
    } finally {
      await second.close({ keepDatabase: true });
      await first.close();
    }
  });
});

describe('a disabled endpoint emails its owner within its allowance', () => {
  let app: TestApp;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EMAIL_SENDS_PER_PARTNER_PER_HOUR: '2' },
    });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await app.close();
  });

  it('counts each disabled-endpoint email, and past the allowance disables it without one', async () => {
    const partner = await approvedPartner(app);
    const created = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: receiver.url, events: ['*'] },
    });
    const webhookId = created.body.webhookId as string;
    for (let cycle = 0; cycle < 3; cycle += 1) {
      receiver.answer({ status: 410 });
      await app.api('PATCH', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
        body: { status: 'active' },
      });
      expect(
        (await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken }))
          .status,
      ).toBe(202);
      await app.runTimer('deliverEvents');
      const endpoint = await app.api('GET', `/api/me/webhooks/${webhookId}`, {
        token: partner.adminToken,
      });
      expect(endpoint.body.status).toBe('disabled');
    }
    const emails = (await app.documents(partner.partnerId, 'email')).filter(
      (email: { kind: string }) => email.kind === 'webhook-disabled',
    );
    expect(emails).toHaveLength(2);
    expect(await counter(app, partner.partnerId)).toMatchObject({ count: 2 });
  });
});

/**
 * docs/rules.md section 13, webhooks: one partner's failing endpoint is that partner's matter.
 * Its deliveries and its endpoint show it, but the platform's health, the status page's backlog
 * and the alerts (their queries read the `outbox backlog` log line) do not move.
 */
describe("one partner's failing endpoint is its own matter", () => {
  let app: TestApp;
  let failing: WebhookReceiver;
  beforeAll(async () => {
    app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    failing = await startWebhookReceiver();
  });
  afterAll(async () => {
    await failing.close();
    await app.close();
  });

  const eventsBacklogLines = () =>
    app.logs
      .map((entry) => /^outbox backlog (\{.*\})$/s.exec(entry.message)?.[1])
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.outbox === 'events');

  const endpointOf = async (partner: { adminToken: string }, url: string) =>
    (
      await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url, events: ['*'] },
      })
    ).body.webhookId as string;

  it('moves neither the health check, nor the events backlog, nor an alert, for as long as it fails', async () => {
    const partner = await approvedPartner(app);
    failing.answer(...Array.from({ length: 100 }, () => ({ status: 500 })));
    const webhookId = await endpointOf(partner, failing.url);
    await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
    await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    for (let minute = 0; minute < 40; minute += 5) {
      app.clock.advance({ minutes: 5 });
      await app.runTimer('deliverEvents');
      await app.runTimer('deliverEmails');
    }
    expect(failing.received.length).toBeGreaterThan(2);
    const status = await app.api('GET', '/api/operator/status', {
      token: await app.operatorToken(),
    });
    expect(status.body.events).toMatchObject({
      pending: 0,
      failed: 0,
      oldestPendingAgeSeconds: null,
      endpointsFailing: 1,
      recentFailures: [],
    });
    app.clock.advance({ seconds: 31 }); // past the health check's cached look
    const health = await app.api('GET', '/api/health');
    expect(health.body).toEqual({ status: 'ok', checks: { cosmos: 'ok', email: 'ok' } });
    // What the events-failed and events-backed-up alerts read: nothing to fire on.
    for (const line of eventsBacklogLines()) {
      expect(line.newlyFailed).toBe(0);
      expect(line.oldestPendingAgeSeconds).toBeNull();
    }
    // The partner sees it on its own deliveries.
    const [delivery] = (
      await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, {
        token: partner.adminToken,
      })
    ).body.items;
    expect(delivery).toMatchObject({ status: 'pending', outcome: 'failed', responseStatus: 500 });
  });

  it("does not alert when a partner's endpoint answers 410 Gone; the operators' own endpoint failing for good does", async () => {
    const partner = await approvedPartner(app);
    const gone = await startWebhookReceiver();
    try {
      gone.answer({ status: 410 }, { status: 410 });
      const webhookId = await endpointOf(partner, gone.url);
      await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token: partner.adminToken });
      const lines = eventsBacklogLines().length;
      await app.runTimer('deliverEvents');
      expect(eventsBacklogLines().slice(lines)).toEqual([
        expect.objectContaining({ newlyFailed: 0, failed: 0 }),
      ]);
      const operators = await app.api('POST', '/api/operator/webhooks', {
        token: await app.operatorToken(),
        body: { url: gone.url, events: ['*'] },
      });
      await app.api('POST', `/api/operator/webhooks/${operators.body.webhookId}/test`, {
        token: await app.operatorToken(),
      });
      await app.runTimer('deliverEvents');
      expect(eventsBacklogLines().at(-1)).toMatchObject({ newlyFailed: 1, failed: 1 });
    } finally {
      await gone.close();
    }
  });
});
