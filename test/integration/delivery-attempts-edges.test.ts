import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteOperation, PartnerDocument } from '../../shared/app/ports';
import { countEmails } from '../../shared/app/rate-limit';
import type { Services } from '../../shared/app/services';
import { operatorEventsPartition } from '../../shared/domain/events';
import { deliveryLeaseSeconds } from '../../shared/domain/webhooks';
import { override, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

// What an attempt of a webhook delivery leaves for its owner, the operators and the run's summary
// (docs/api.md "Events and webhooks", docs/rules.md section 13): an endpoint that stops taking
// events is disabled once, its owner told within the hourly allowance, and a failed write of that
// disable is not taken as done.

const receivers: WebhookReceiver[] = [];
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
});

async function receiver(): Promise<WebhookReceiver> {
  const started = await startWebhookReceiver();
  receivers.push(started);
  return started;
}

/** The fields of the log lines a timer wrote with `message`, parsed. */
function logged(app: TestApp, level: string, message: string) {
  return app.logs
    .filter(
      (entry) =>
        entry.level === level &&
        entry.functionName === 'deliverEvents' &&
        entry.message.startsWith(`${message} {`),
    )
    .map((entry) => JSON.parse(entry.message.slice(message.length + 1)) as Record<string, unknown>);
}

const lastRun = async (app: TestApp) =>
  (
    await app.api('GET', '/api/operator/status', { token: await app.operatorToken() })
  ).body.timers.find((timer: { name: string }) => timer.name === 'deliverEvents').lastSummary;

async function partnerEndpoint(app: TestApp) {
  const partner = await createPartnerWithProfile(app);
  const hook = await receiver();
  const created = await app.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events: ['*'] },
  });
  expect(created.status).toBe(201);
  return { partner, hook, webhookId: created.body.webhookId as string };
}

const webhookDisabledEmails = async (app: TestApp, partnerId: string) =>
  (await app.documents(partnerId, 'email')).filter(
    (email: { kind: string }) => email.kind === 'webhook-disabled',
  );

describe('a waiting delivery whose endpoint its owner disabled meanwhile', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  });
  afterAll(() => app.close());

  it("fails without a request, and the run's summary counts one failed delivery and no endpoint it disabled", async () => {
    const { partner, hook, webhookId } = await partnerEndpoint(app);
    const token = partner.adminToken;
    expect((await app.api('POST', `/api/me/webhooks/${webhookId}/test`, { token })).status).toBe(
      202,
    );
    const path = `/api/me/webhooks/${webhookId}`;
    expect((await app.api('PATCH', path, { token, body: { status: 'disabled' } })).status).toBe(
      200,
    );
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(0);
    expect((await app.api('GET', `${path}/deliveries`, { token })).body.items).toEqual([
      expect.objectContaining({ status: 'failed', attempt: 0 }),
    ]);
    expect(await lastRun(app)).toMatchObject({ failed: 1, disabled: 0 });
  });

  it.each([
    ['disabled', 'PATCH', { status: 'disabled' }, 'the endpoint is disabled'],
    ['deleted', 'DELETE', undefined, 'the endpoint was deleted'],
  ] as const)(
    'records in the delivery why nothing was sent to an endpoint its owner %s',
    async (_what, method, body, detail) => {
      const { partner, webhookId } = await partnerEndpoint(app);
      const token = partner.adminToken;
      const path = `/api/me/webhooks/${webhookId}`;
      const queued = await app.api('POST', `${path}/test`, { token });
      expect(queued.status).toBe(202);
      expect((await app.api(method, path, { token, body })).status).toBeLessThan(300);
      await app.runTimer('deliverEvents');
      const [delivery] = await app.query<{ status: string; history: unknown[] }>(
        'events',
        `SELECT * FROM c WHERE c.type = 'delivery' AND c.webhookId = '${webhookId}'`,
      );
      expect(delivery).toMatchObject({ status: 'failed' });
      expect(delivery!.history).toEqual([
        expect.objectContaining({ outcome: 'endpoint-disabled', responseStatus: null, detail }),
      ]);
    },
  );
});

describe('what the log tells the operators about a failing endpoint', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  });
  afterAll(() => app.close());

  it('warns of each retry with the answer, the attempt and the wait, then logs the endpoint it disabled and why', async () => {
    const { partner, hook, webhookId } = await partnerEndpoint(app);
    const token = partner.adminToken;
    hook.answer({ status: 500 }, { status: 410 });
    // A test event is tried once: a customer's event is retried.
    const customer = await app.api('POST', '/api/me/customers', { token, body: newCustomer() });
    expect(customer.status).toBe(201);
    await app.runTimer('deliverEvents');
    const [waiting] = (await app.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, { token }))
      .body.items;
    expect(waiting).toMatchObject({
      type: 'customer.created',
      status: 'pending',
      attempt: 1,
      responseStatus: 500,
    });
    const eventId = waiting.eventId as string;
    const retries = logged(app, 'warning', 'webhook delivery failed; retrying');
    expect(retries).toEqual([
      expect.objectContaining({
        partnerId: partner.partnerId,
        webhookId,
        eventId,
        attempt: 1,
        responseStatus: 500,
        retryInSeconds: (Date.parse(waiting.nextAttemptAt) - app.clock.now().getTime()) / 1000,
      }),
    ]);
    expect(retries[0]!.retryInSeconds).toBeGreaterThan(0);

    app.clock.set(new Date(waiting.nextAttemptAt));
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(2);
    expect(logged(app, 'error', 'webhook endpoint disabled')).toEqual([
      expect.objectContaining({
        partnerId: partner.partnerId,
        webhookId,
        eventId,
        reason: 'it answered 410 Gone',
      }),
    ]);
  });
});

describe("the operators' own endpoint answering 410 Gone", () => {
  const reviewers = 'webhook-watch@partner-transition.example';
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EMAIL_SENDS_PER_PARTNER_PER_HOUR: '2', REVIEWERS_EMAIL: reviewers },
    });
  });
  afterAll(() => app.close());

  it("emails the reviewers each time, however many a partner's hourly allowance would let through, and shows each failure on the status page", async () => {
    const operatorToken = await app.operatorToken();
    const hook = await receiver();
    const created = await app.api('POST', '/api/operator/webhooks', {
      token: operatorToken,
      body: { url: hook.url, events: ['*'] },
    });
    expect(created.status).toBe(201);
    const path = `/api/operator/webhooks/${created.body.webhookId}`;
    for (let cycle = 0; cycle < 3; cycle += 1) {
      hook.answer({ status: 410 });
      expect(
        (await app.api('PATCH', path, { token: operatorToken, body: { status: 'active' } })).status,
      ).toBe(200);
      expect((await app.api('POST', `${path}/test`, { token: operatorToken })).status).toBe(202);
      await app.runTimer('deliverEvents');
      const endpoint = await app.api('GET', path, { token: operatorToken });
      expect(endpoint.body).toMatchObject({
        status: 'disabled',
        disabledReason: 'it answered 410 Gone',
      });
    }
    const status = await app.api('GET', '/api/operator/status', { token: operatorToken });
    expect(status.body.events.recentFailures).toEqual(
      Array.from({ length: 3 }, () => ({
        id: expect.stringMatching(new RegExp(`^${operatorEventsPartition}\\.`)),
        kind: 'webhook.test',
        failedAt: app.clock.now().toISOString(),
      })),
    );
    await app.runTimer('deliverEmails');
    const told = (await app.mailbox()).filter((mail) =>
      mail.subject.includes('Webhook endpoint disabled'),
    );
    expect(told.map((mail) => mail.to)).toEqual([reviewers, reviewers, reviewers]);
  });

  it("disables a partner's endpoint past its allowance without an email, and warns that the allowance is spent", async () => {
    const { partner, hook, webhookId } = await partnerEndpoint(app);
    const token = partner.adminToken;
    const path = `/api/me/webhooks/${webhookId}`;
    for (let cycle = 0; cycle < 3; cycle += 1) {
      hook.answer({ status: 410 });
      await app.api('PATCH', path, { token, body: { status: 'active' } });
      expect((await app.api('POST', `${path}/test`, { token })).status).toBe(202);
      await app.runTimer('deliverEvents');
      expect((await app.api('GET', path, { token })).body.status).toBe('disabled');
    }
    expect(await webhookDisabledEmails(app, partner.partnerId)).toHaveLength(2);
    expect(
      logged(
        app,
        'warning',
        "webhook endpoint disabled without an email: the partner's hourly email allowance is spent",
      ),
    ).toEqual([expect.objectContaining({ partnerId: partner.partnerId })]);
  });
});

/**
 * A disable's batch (the owner's email counter first, the endpoint, the email) whose counter
 * other actions move meanwhile, `moves` times; or whose write fails once for another reason.
 */
const faults = { moves: 0, failures: 0, claimsTaken: 0, counterReads: 0, sealedElsewhere: false };

const isDisable = (operations: WriteOperation<PartnerDocument>[]) =>
  operations.some(
    (operation) =>
      operation.op === 'replace' &&
      operation.document.type === 'webhook' &&
      operation.document.status === 'disabled' &&
      operation.document.disabledReason === 'it answered 410 Gone',
  );

function meddling(services: Services): Services {
  return {
    ...services,
    // A secret sealed under another server key (IDEMPOTENCY_SECRET changed) does not open.
    webhooks: override(services.webhooks, {
      open: (sealed: string) => {
        if (faults.sealedElsewhere)
          throw new Error('unsupported state or unable to authenticate data');
        return services.webhooks.open(sealed);
      },
    }),
    // Another host claims the delivery between this run's read of it and its claim.
    events: override(services.events, {
      replaceDelivery: async (delivery, etag) => {
        if (delivery.status === 'sending' && faults.claimsTaken > 0) {
          faults.claimsTaken -= 1;
          await services.events.replaceDelivery(delivery, etag);
        }
        return services.events.replaceDelivery(delivery, etag);
      },
    }),
    partners: override(services.partners, {
      getDocument: (async (partnerId: string, id: string) => {
        if (id.startsWith('rate-emails-') && faults.counterReads > 0) {
          faults.counterReads -= 1;
          throw new Error('the partners container is unavailable');
        }
        return services.partners.getDocument(partnerId, id);
      }) as typeof services.partners.getDocument,
      commit: (async (partnerId: string, operations: WriteOperation<PartnerDocument>[]) => {
        if (isDisable(operations) && faults.failures > 0) {
          faults.failures -= 1;
          throw new Error('the partners container is unavailable');
        }
        if (isDisable(operations) && faults.moves > 0) {
          faults.moves -= 1;
          const other = await countEmails(services, partnerId, services.clock.now(), { emails: 1 });
          await services.partners.commit(partnerId, [other]);
        }
        return services.partners.commit(partnerId, operations);
      }) as typeof services.partners.commit,
    }),
  };
}

describe('a disable whose counter other actions move meanwhile', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      decorate: meddling,
    });
  });
  afterAll(() => app.close());

  async function goneEndpoint(moves: number) {
    const world = await partnerEndpoint(app);
    world.hook.answer({ status: 410 });
    const path = `/api/me/webhooks/${world.webhookId}`;
    expect(
      (await app.api('POST', `${path}/test`, { token: world.partner.adminToken })).status,
    ).toBe(202);
    faults.moves = moves;
    try {
      await app.runTimer('deliverEvents');
    } finally {
      faults.moves = 0;
    }
    const endpoint = await app.api('GET', path, { token: world.partner.adminToken });
    const deliveries = await app.api('GET', `${path}/deliveries`, {
      token: world.partner.adminToken,
    });
    return { ...world, endpoint: endpoint.body, deliveries: deliveries.body.items };
  }

  it('counts again each time it was moved, up to five counts: the endpoint is disabled and its owner emailed once', async () => {
    const { partner, endpoint, deliveries } = await goneEndpoint(4);
    expect(endpoint).toMatchObject({ status: 'disabled', disabledReason: 'it answered 410 Gone' });
    expect(deliveries).toEqual([expect.objectContaining({ status: 'failed', attempt: 1 })]);
    expect(await webhookDisabledEmails(app, partner.partnerId)).toHaveLength(1);
    expect(await lastRun(app)).toMatchObject({ failed: 1, disabled: 1 });
  });

  it('gives up when the fifth count is moved too: the delivery fails, the endpoint stays active and no email is queued', async () => {
    const { partner, endpoint, deliveries } = await goneEndpoint(5);
    expect(endpoint).toMatchObject({ status: 'active' });
    expect(deliveries).toEqual([expect.objectContaining({ status: 'failed', attempt: 1 })]);
    expect(await webhookDisabledEmails(app, partner.partnerId)).toHaveLength(0);
    expect(await lastRun(app)).toMatchObject({ failed: 1, disabled: 0 });
  });

  it.each([
    ['its write fails', 'failures'],
    ["its owner's email counter cannot be read", 'counterReads'],
  ] as const)(
    'is not taken as done when %s for another reason: the attempt is sent again once its claim lapses, and then disables it',
    async (_what, fault) => {
      const { partner, hook, webhookId } = await partnerEndpoint(app);
      const token = partner.adminToken;
      const path = `/api/me/webhooks/${webhookId}`;
      hook.answer({ status: 410 }, { status: 410 });
      expect((await app.api('POST', `${path}/test`, { token })).status).toBe(202);
      faults[fault] = 1;
      try {
        await app.runTimer('deliverEvents');
      } finally {
        faults[fault] = 0;
      }
      expect((await app.api('GET', path, { token })).body.status).toBe('active');
      expect((await app.api('GET', `${path}/deliveries`, { token })).body.items).toEqual([
        expect.objectContaining({ status: 'sending', attempt: 1 }),
      ]);
      expect(await webhookDisabledEmails(app, partner.partnerId)).toHaveLength(0);

      const first = app.clock.now().getTime();
      try {
        app.clock.set(new Date(first + deliveryLeaseSeconds * 1000));
        await app.runTimer('deliverEvents');
      } finally {
        app.clock.set(new Date(first));
      }
      expect(hook.received).toHaveLength(2);
      expect((await app.api('GET', path, { token })).body).toMatchObject({
        status: 'disabled',
        disabledReason: 'it answered 410 Gone',
      });
      expect(await webhookDisabledEmails(app, partner.partnerId)).toHaveLength(1);
    },
  );
});

describe('a delivery another host claims first', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      decorate: meddling,
    });
  });
  afterAll(() => app.close());

  it("is left to that host: nothing is sent, and the run's summary counts it skipped, with no endpoint disabled", async () => {
    const { partner, hook, webhookId } = await partnerEndpoint(app);
    const path = `/api/me/webhooks/${webhookId}`;
    expect((await app.api('POST', `${path}/test`, { token: partner.adminToken })).status).toBe(202);
    faults.claimsTaken = 1;
    try {
      await app.runTimer('deliverEvents');
    } finally {
      faults.claimsTaken = 0;
    }
    expect(hook.received).toHaveLength(0);
    expect(await lastRun(app)).toMatchObject({ skipped: 1, failed: 0, disabled: 0 });
    expect((await app.api('GET', path, { token: partner.adminToken })).body.status).toBe('active');
  });
});

describe('an endpoint whose signing secret this server cannot open', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      decorate: meddling,
    });
  });
  afterAll(() => app.close());

  it('is sent nothing: the attempt fails, is retried, and the delivery records why', async () => {
    const { partner, hook, webhookId } = await partnerEndpoint(app);
    const token = partner.adminToken;
    const customer = await app.api('POST', '/api/me/customers', { token, body: newCustomer() });
    expect(customer.status).toBe(201);
    faults.sealedElsewhere = true;
    try {
      await app.runTimer('deliverEvents');
    } finally {
      faults.sealedElsewhere = false;
    }
    expect(hook.received).toHaveLength(0);
    const [delivery] = await app.query<{ status: string; history: unknown[] }>(
      'events',
      `SELECT * FROM c WHERE c.type = 'delivery' AND c.webhookId = '${webhookId}'`,
    );
    expect(delivery).toMatchObject({ status: 'pending' });
    expect(delivery!.history).toEqual([
      expect.objectContaining({
        outcome: 'failed',
        responseStatus: null,
        detail: expect.stringContaining('signing secret'),
      }),
    ]);
  });
});
