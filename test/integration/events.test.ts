import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import { loggerFor } from '../../shared/adapters/logger';
import { deliverWritten } from '../../shared/app/deliver-events';
import { defineTimer } from '../../shared/functions';
import { eventFor, eventSequenceId, operatorEventsPartition } from '../../shared/domain/events';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { roundTrips } from '../support/cosmos-requests';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { activeReseller, approvedPartner, submitEnrollment } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { expireFromFeed, storedEvents } from '../support/events';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

let app: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await app.close();
});

async function endpointFor(token: string, path = '/api/me/webhooks', events = ['*'], on = app) {
  const secrets: string[] = [];
  const hook = await startWebhookReceiver({ secrets });
  receivers.push(hook);
  const created = await on.api('POST', path, { token, body: { url: hook.url, events } });
  expect(created.status).toBe(201);
  secrets.push(created.body.secret);
  return hook;
}

async function readWholeFeed(token: string, after?: string) {
  await app.runTimer('deliverEvents');
  const items: { id: string; type: string; data: any; partnerId: string }[] = [];
  let cursor = after;
  for (;;) {
    const page = await app.api(
      'GET',
      `/api/me/events?pageSize=7${cursor ? `&after=${cursor}` : ''}`,
      {
        token,
      },
    );
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    if (page.body.cursor === cursor || page.body.items.length === 0)
      return { items, cursor: page.body.cursor as string };
    cursor = page.body.cursor;
  }
}

describe('the pull feed (GET /api/me/events)', () => {
  it('lists an auto-approved enrollment as enrollment.submitted then enrollment.approved, and keeps the cursor when nothing is new', async () => {
    const partner = await approvedPartner(app);
    const { items, cursor } = await readWholeFeed(partner.adminToken);
    expect(items.map((event) => event.type)).toEqual([
      'enrollment.submitted',
      'enrollment.approved',
    ]);
    expect(items[0]).toEqual(
      expect.objectContaining({
        partnerId: partner.partnerId,
        occurredAt: '2026-03-02T09:00:00.000Z',
        data: expect.objectContaining({ status: 'approved' }),
      }),
    );
    expect(items[0]!.id).toMatch(/^evt_[0-9a-f]{32}$/);
    const again = await app.api('GET', `/api/me/events?after=${cursor}`, {
      token: partner.adminToken,
    });
    expect(again.body).toEqual({ items: [], cursor });
  });

  it('shows a partner only its own events', async () => {
    const one = await approvedPartner(app);
    const other = await createPartnerWithProfile(app);
    const { items } = await readWholeFeed(other.adminToken);
    expect(items.filter((event) => event.partnerId === one.partnerId)).toEqual([]);
  });

  it('answers 410 cursor-expired, not a page with a gap, when events after the cursor have expired', async () => {
    const partner = await createPartnerWithProfile(app);
    for (let i = 0; i < 3; i += 1) {
      await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
    }
    const { items } = await readWholeFeed(partner.adminToken);
    expect(items).toHaveLength(3);
    // What the 30-day ttl does: the oldest events are gone.
    const stored = (await storedEvents(app, partner.partnerId)).sort(
      (a, b) => a.sequence! - b.sequence!,
    );
    await expireFromFeed(app, partner.partnerId, [stored[0]!.id, stored[1]!.id]);
    const stale = await app.api('GET', '/api/me/events?after=1', { token: partner.adminToken });
    expect(stale.status).toBe(410);
    expect(stale.body.code).toBe('cursor-expired');
    expect(stale.body.detail).toBe(
      'Events after this cursor expired (the feed keeps 30 days): read from the start (no after) and reconcile; the oldest kept is number 3.',
    );
    // At the edge: the cursor just before the oldest kept event skips nothing.
    const atEdge = await app.api('GET', '/api/me/events?after=2', { token: partner.adminToken });
    expect(atEdge.status).toBe(200);
    expect(atEdge.body).toMatchObject({ cursor: '3', items: [{ type: 'customer.created' }] });
    const fromStart = await app.api('GET', '/api/me/events', { token: partner.adminToken });
    expect(fromStart.body.items.map((event: { type: string }) => event.type)).toEqual([
      'customer.created',
    ]);
  });

  it('refuses a cursor it did not give with 400, in plain words', async () => {
    const partner = await createPartnerWithProfile(app);
    for (const after of ['abc', '-1', '1e3', '00']) {
      const response = await app.api('GET', `/api/me/events?after=${after}`, {
        token: partner.adminToken,
      });
      expect(response.status, after).toBe(400);
      expect(response.body.code).toBe('validation-failed');
    }
  });

  it('has no gaps or duplicates while 24 changes are written at once and two hosts publish beside the reader', async () => {
    const partner = await createPartnerWithProfile(app);
    const second = await startSecondHost(app, (services) => services);
    try {
      const seen: string[] = [];
      let cursor: string | undefined;
      const read = async () => {
        const page = await app.api(
          'GET',
          `/api/me/events?pageSize=5${cursor ? `&after=${cursor}` : ''}`,
          {
            token: partner.adminToken,
          },
        );
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((event: { id: string }) => event.id));
        cursor = page.body.cursor;
      };
      let writing = true;
      const writes = Promise.all(
        Array.from({ length: 24 }, (_, index) =>
          (index % 2 === 0 ? app : second).api('POST', '/api/me/customers', {
            token: partner.adminToken,
            body: newCustomer({ companyName: `Customer ${index}` }),
          }),
        ),
      ).finally(() => {
        writing = false;
      });
      const readers = (async () => {
        while (writing) {
          await Promise.all([
            read(),
            app.runTimer('deliverEvents'),
            second.runTimer('deliverEvents'),
          ]);
        }
      })();
      const responses = await writes;
      await readers;
      expect(responses.map((response) => response.status)).toEqual(Array(24).fill(201));
      await app.runTimer('deliverEvents');
      for (let i = 0; i < 10; i += 1) await read();
      expect(new Set(seen).size).toBe(seen.length);
      const stored = await storedEvents(app, partner.partnerId, 'customer.created');
      expect(stored).toHaveLength(24);
      expect([...seen].sort()).toEqual(stored.map((event) => event.id).sort());
      const numbers = stored.map((event) => event.sequence!).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 24 }, (_, index) => numbers[0]! + index));
    } finally {
      await second.close({ keepDatabase: true });
    }
  });
});

describe('the feed numbers under a publisher that read before another published', () => {
  /**
   * A second host whose next publication of `partnerId` stops after its first read (the feed's
   * sequence document, or the waiting events: whichever it reads first) until `held.open()`.
   */
  async function slowPublisher(partnerId: string) {
    const held = gate();
    let armed = false;
    const pauseOnce = async () => {
      if (!armed) return;
      armed = false;
      await held.hold();
    };
    const host = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const found = await services.partners.getDocument(partition, id);
          if (partition === partnerId && id === eventSequenceId) await pauseOnce();
          return found;
        }) as typeof services.partners.getDocument,
      }),
      events: override(services.events, {
        toPublish: async (partition, now, limit) => {
          const waiting = await services.events.toPublish(partition, now, limit);
          if (partition === partnerId) await pauseOnce();
          return waiting;
        },
      }),
    }));
    return {
      host,
      held,
      arm: () => {
        armed = true;
      },
    };
  }

  async function feedNumbers(partnerId: string): Promise<number[]> {
    return (await storedEvents(app, partnerId))
      .filter((event) => typeof event.sequence === 'number')
      .map((event) => event.sequence as number)
      .sort((a, b) => a - b);
  }

  it('numbers each event once, consecutively, when the sequence document already exists', async () => {
    const partner = await createPartnerWithProfile(app);
    const customer = () =>
      app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
    // Published once already: the sequence document is there, as for any partner after day one.
    expect((await customer()).status).toBe(201);
    await app.runTimer('deliverEvents');
    const { cursor } = await readWholeFeed(partner.adminToken);
    expect(await app.pointRead(partner.partnerId, eventSequenceId)).not.toBeNull();

    const slow = await slowPublisher(partner.partnerId);
    try {
      expect((await customer()).status).toBe(201); // waiting: the slow host will find it
      slow.arm();
      const slowRun = slow.host.runTimer('deliverEvents');
      await slow.held.reached;
      // Meanwhile another host publishes it, and one more change is written.
      await app.runTimer('deliverEvents');
      expect((await customer()).status).toBe(201);
      slow.held.open();
      await slowRun;
      await app.runTimer('deliverEvents');
    } finally {
      slow.held.open();
      await slow.host.close({ keepDatabase: true });
    }
    // Numbers 1 to 3, each once: no duplicate (a stale sequence) and no gap (a batch that
    // moved the sequence although its events were published meanwhile).
    expect(await feedNumbers(partner.partnerId)).toEqual([1, 2, 3]);
    const after = await readWholeFeed(partner.adminToken, cursor);
    expect(after.items.map((event) => event.type)).toEqual([
      'customer.created',
      'customer.created',
    ]);
    expect(new Set(after.items.map((event) => event.id)).size).toBe(2);
  });
});

describe('publication: rounds of 50 events, the per-run cap, copies written before a crash', () => {
  async function customersCreated(token: string, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) {
      const created = await app.api('POST', '/api/me/customers', { token, body: newCustomer() });
      expect(created.status).toBe(201);
      app.clock.advance({ seconds: 1 }); // each its own instant: the feed's order is theirs
    }
  }

  it('publishes 120 waiting events in one run, in rounds, numbered 1 to 120 in the order written', async () => {
    const partner = await createPartnerWithProfile(app);
    await customersCreated(partner.adminToken, 120);
    const written = (await app.documents(partner.partnerId, 'event'))
      .sort((a, b) => a.publishDueAt.localeCompare(b.publishDueAt))
      .map((event) => event.id);
    expect(written).toHaveLength(120);
    await app.runTimer('deliverEvents');
    // Nothing is left for the next run, and the feed reads 1..120 without a gap.
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
    const { items, cursor } = await readWholeFeed(partner.adminToken);
    expect(cursor).toBe('120');
    expect(items.map((event) => event.id)).toEqual(written);
    expect(await app.pointRead(partner.partnerId, eventSequenceId)).toMatchObject({ next: 121 });
  });

  it("publishes an operators' event once when a publisher died after copying it to the operators: the next run finds the copy there and goes on", async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    expect((await submitEnrollment(app, partner)).body.status).toBe('pending-approval');
    // A publisher that dies at its first write in the partner's partition (the reservation of
    // the feed numbers), after the copy into the operators' partition.
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partition, operations) => {
          if (partition === partner.partnerId) throw new Error('process killed');
          return services.partners.commit(partition, operations);
        },
      }),
    }));
    try {
      await dying.runTimer('deliverEvents');
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const submittedBy = (events: { eventType: string; subjectId?: string; data: any }[]) =>
      events.filter(
        (event) =>
          event.eventType === 'enrollment.submitted' && event.subjectId === partner.partnerId,
      );
    // The copy is written, the event itself not numbered yet.
    expect(submittedBy(await app.documents(operatorEventsPartition, 'event'))).toHaveLength(1);
    expect(submittedBy(await app.documents(partner.partnerId, 'event'))).toHaveLength(1);
    await app.runTimer('deliverEvents');
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
    const { items } = await readWholeFeed(partner.adminToken);
    expect(items.map((event) => event.type)).toEqual(['enrollment.submitted']);
    const operators = submittedBy(await storedEvents(app, operatorEventsPartition));
    expect(operators).toHaveLength(1);
    expect(operators[0]).toMatchObject({ sequence: expect.any(Number) });
  });

  it('publishes at most 20 rounds (1,000 events) of one partition per run: the rest waits for the next run', async () => {
    const partner = await createPartnerWithProfile(app);
    // A bulk import's events, as its batches write them (100 operations a batch).
    const at = app.clock.now();
    for (let batch = 0; batch < 11; batch += 1) {
      await app.services.partners.commit(
        partner.partnerId,
        Array.from({ length: batch === 10 ? 1 : 100 }, (_, index) => ({
          op: 'create' as const,
          document: {
            ...eventFor(
              `bulk-${batch}-${index}`,
              partner.partnerId,
              'agreement.accepted',
              { templateId: 'bulk', version: `${batch}.${index}`, acceptedAt: at.toISOString() },
              at,
            ),
            publishDueAt: new Date(at.getTime() + batch * 100 + index).toISOString(),
          },
        })),
      );
    }
    await app.runTimer('deliverEvents');
    expect(await app.documents(partner.partnerId, 'event')).toHaveLength(1);
    expect(await app.pointRead(partner.partnerId, eventSequenceId)).toMatchObject({ next: 1001 });
    await app.runTimer('deliverEvents');
    expect(await app.documents(partner.partnerId, 'event')).toEqual([]);
    expect(await app.pointRead(partner.partnerId, eventSequenceId)).toMatchObject({ next: 1002 });
  });
});

describe('events delivered to webhooks', () => {
  it('delivers one partnership.accepted to each side when 50 accepts of one invitation race', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app, { country: 'US' });
    const providerHook = await endpointFor(provider.adminToken, '/api/me/webhooks', [
      'partnership.accepted',
    ]);
    const resellerHook = await endpointFor(reseller.adminToken, '/api/me/webhooks', [
      'partnership.accepted',
    ]);
    const invited = await inviteReseller(app, provider, reseller);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.api('POST', '/api/partner-invitations/accept', {
          token: reseller.adminToken,
          body: { token: tokenOf(invited.body.link) },
        }),
      ),
    );
    expect(answers.filter((answer) => answer.status === 200).length).toBeGreaterThanOrEqual(1);
    await Promise.all([app.runTimer('deliverEvents'), app.runTimer('deliverEvents')]);
    await app.runTimer('deliverEvents');
    for (const hook of [providerHook, resellerHook]) {
      expect(hook.received.map((received) => received.type)).toEqual(['partnership.accepted']);
      expect(hook.received[0]!.verified).toBe(true);
      expect(JSON.parse(hook.received[0]!.body).data).toEqual({
        providerId: provider.partnerId,
        resellerId: reseller.partnerId,
        invitationId: invited.body.invitationId,
      });
    }
  });

  it('delivers once when the host that wrote the change dies before publishing it, and another host delivers', async () => {
    const partner = await createPartnerWithProfile(app);
    const hook = await endpointFor(partner.adminToken, '/api/me/webhooks', ['customer.created']);
    // A host whose process dies at its first publication: after the event's copies, before
    // the batch that numbers it and writes its deliveries.
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          if (operations.some((o) => 'document' in o && o.document.type === 'event-sequence')) {
            throw new Error('process died');
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const created = await dying.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(created.status).toBe(201);
      await expect(dying.runTimer('deliverEvents')).resolves.toBeUndefined();
      expect(hook.received).toHaveLength(0);
      await app.runTimer('deliverEvents');
      await app.runTimer('deliverEvents');
      expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);
      expect(JSON.parse(hook.received[0]!.body).data.customerId).toBe(created.body.customerId);
    } finally {
      await dying.close({ keepDatabase: true });
    }
  });

  it('sends an attempt once when two hosts run deliverEvents at the same time', async () => {
    const partner = await createPartnerWithProfile(app);
    const hook = await endpointFor(partner.adminToken);
    for (let i = 0; i < 5; i += 1) {
      await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
    }
    const second = await startSecondHost(app, (services) => services);
    try {
      await Promise.all([app.runTimer('deliverEvents'), second.runTimer('deliverEvents')]);
      await Promise.all([app.runTimer('deliverEvents'), second.runTimer('deliverEvents')]);
    } finally {
      await second.close({ keepDatabase: true });
    }
    const ids = hook.received.map((received) => received.id);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
  });

  it("delivers an order's event, written in the customer's partition, to the partner's endpoint and feed", async () => {
    const partner = await createPartnerWithProfile(app);
    const created = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    const hook = await endpointFor(partner.adminToken, '/api/me/webhooks', ['order.placed']);
    const order = await app.api('POST', `/api/me/customers/${created.body.customerId}/orders`, {
      token: partner.adminToken,
      body: {
        lineItems: [
          { offerId: 'microsoft-365-business-basic', productType: 'license', quantity: 3 },
        ],
      },
    });
    expect(order.status).toBe(201);
    await app.runTimer('deliverEvents');
    expect(hook.received.map((received) => received.type)).toEqual(['order.placed']);
    const { items } = await readWholeFeed(partner.adminToken);
    expect(items.filter((event) => event.type === 'order.placed')).toHaveLength(1);
  });

  it("gives operators' endpoints every partner's enrollment waiting for review, and not the others' events", async () => {
    const operator = await app.operatorToken();
    const hook = await endpointFor(operator, '/api/operator/webhooks', ['*']);
    const waiting = await createPartnerWithProfile(app, { mpnVerified: false });
    const submitted = await submitEnrollment(app, waiting);
    expect(submitted.body.status).toBe('pending-approval');
    await approvedPartner(app);
    await app.runTimer('deliverEvents');
    await app.runTimer('deliverEvents');
    const mine = hook.received.filter(
      (received) => JSON.parse(received.body).partnerId === waiting.partnerId,
    );
    expect(mine.map((received) => received.type)).toEqual(['enrollment.submitted']);
    expect(
      hook.received.every(
        (received) =>
          received.type === 'enrollment.submitted' || received.type === 'enrollment.escalated',
      ),
    ).toBe(true);
  });

  it("publishes promptly what a request's events copied into the operators' partition: their endpoint receives an enrollment waiting for review without the timer", async () => {
    const prompt = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_PROMPT_DELIVERY: 'true' },
    });
    try {
      const hook = await endpointFor(
        await prompt.operatorToken(),
        '/api/operator/webhooks',
        ['enrollment.submitted'],
        prompt,
      );
      const waiting = await createPartnerWithProfile(prompt, { mpnVerified: false });
      const submitted = await submitEnrollment(prompt, waiting);
      expect(submitted.body.status).toBe('pending-approval');
      for (let waited = 0; hook.received.length < 1 && waited < 200; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(hook.received.map((received) => received.type)).toEqual(['enrollment.submitted']);
      expect(JSON.parse(hook.received[0]!.body).partnerId).toBe(waiting.partnerId);
    } finally {
      await prompt.close();
    }
  });

  it('sends one endpoint at most its prompt allowance a minute; the paced timer sends the rest, each event once', async () => {
    const prompt = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: {
        EVENTS_PROMPT_DELIVERY: 'true',
        EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE: '3',
      },
    });
    try {
      const partner = await createPartnerWithProfile(prompt);
      const hook = await endpointFor(
        partner.adminToken,
        '/api/me/webhooks',
        ['customer.created'],
        prompt,
      );
      for (let index = 0; index < 5; index += 1) {
        const created = await prompt.api('POST', '/api/me/customers', {
          token: partner.adminToken,
          body: newCustomer(),
        });
        expect(created.status).toBe(201);
      }
      // Prompt runs end on their own; wait for them to have sent what they may.
      for (let waited = 0; hook.received.length < 3 && waited < 200; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(hook.received).toHaveLength(3);
      await prompt.runTimer('deliverEvents');
      const ids = hook.received.map((received) => received.id);
      expect(ids).toHaveLength(5);
      expect(new Set(ids).size).toBe(5);
    } finally {
      await prompt.close();
    }
  });

  it('counts the prompt allowance by the minute of the clock: 3 sent at 09:00:00, none more at 09:00:59.999, the next at 09:01:00.000', async () => {
    // The prompt run after a request that wrote the partner's events, run by the test so that
    // it has ended before the test looks.
    let partnerId = '';
    const promptRun = defineTimer({
      name: 'promptRun',
      schedule: '0 */1 * * * *',
      description: 'runs what a request that wrote events starts after its answer',
      async handler(_timer, context, services) {
        const report = await deliverWritten(services, loggerFor(context), {
          partners: new Set([partnerId]),
          customers: new Set(),
          webhooks: new Set(),
        });
        return { delivered: report.delivered };
      },
    });
    const prompt = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_PROMPT_DELIVERIES_PER_ENDPOINT_PER_MINUTE: '3' },
      table: [...functionTable, promptRun],
    });
    try {
      const partner = await createPartnerWithProfile(prompt);
      partnerId = partner.partnerId;
      const hook = await endpointFor(
        partner.adminToken,
        '/api/me/webhooks',
        ['customer.created'],
        prompt,
      );
      const created = async (count: number) => {
        for (let index = 0; index < count; index += 1) {
          const answer = await prompt.api('POST', '/api/me/customers', {
            token: partner.adminToken,
            body: newCustomer(),
          });
          expect(answer.status).toBe(201);
        }
        await prompt.runTimer('promptRun');
        return hook.received.length;
      };
      expect(await created(3)).toBe(3);
      // The same minute, a millisecond before its end: the allowance is spent.
      prompt.clock.set('2026-03-02T09:00:59.999Z');
      expect(await created(1)).toBe(3);
      await prompt.runTimer('deliverEvents');
      expect(hook.received).toHaveLength(4);
      // The next minute: a new allowance.
      prompt.clock.set('2026-03-02T09:01:00.000Z');
      expect(await created(1)).toBe(5);
      expect(new Set(hook.received.map((received) => received.id)).size).toBe(5);
    } finally {
      await prompt.close();
    }
  });

  it('sends a test event right after the request when prompt delivery is on, without the timer', async () => {
    const prompt = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_PROMPT_DELIVERY: 'true' },
    });
    try {
      const partner = await createPartnerWithProfile(prompt);
      const secrets: string[] = [];
      const hook = await startWebhookReceiver({ secrets });
      receivers.push(hook);
      const created = await prompt.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: hook.url, events: ['customer.created'] },
      });
      expect(created.status).toBe(201);
      secrets.push(created.body.secret);
      const queued = await prompt.api('POST', `/api/me/webhooks/${created.body.webhookId}/test`, {
        token: partner.adminToken,
      });
      expect(queued.status).toBe(202);
      for (let waited = 0; hook.received.length < 1 && waited < 200; waited += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(hook.received.map((received) => [received.id, received.type])).toEqual([
        [queued.body.eventId, 'webhook.test'],
      ]);
    } finally {
      await prompt.close();
    }
  });

  it('delivers right after the request when prompt delivery is on, without waiting for the timer, and without a cross-partition query', async () => {
    const prompt = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: { EVENTS_PROMPT_DELIVERY: 'true' },
      countCosmosRequests: true,
    });
    try {
      const partner = await createPartnerWithProfile(prompt);
      const hook = await endpointFor(
        partner.adminToken,
        '/api/me/webhooks',
        ['customer.created', 'order.placed'],
        prompt,
      );
      const arrival = async (count: number) => {
        for (let waited = 0; hook.received.length < count && waited < 200; waited += 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      let customerId = '';
      const requests = await prompt.cosmosRequests!.during(async () => {
        const created = await prompt.api('POST', '/api/me/customers', {
          token: partner.adminToken,
          body: newCustomer(),
        });
        expect(created.status).toBe(201);
        customerId = created.body.customerId;
        await arrival(1);
        // An order's event is written in the customer's partition and relayed.
        const order = await prompt.api('POST', `/api/me/customers/${customerId}/orders`, {
          token: partner.adminToken,
          body: {
            lineItems: [{ offerId: 'm365-business-basic', productType: 'license', quantity: 2 }],
          },
        });
        expect(order.status).toBe(201);
        await arrival(2);
      });
      expect(hook.received.map((received) => received.type)).toEqual([
        'customer.created',
        'order.placed',
      ]);
      expect(roundTrips(requests).crossPartitionQueries).toBe(0);
    } finally {
      await prompt.close();
    }
  });
});
