import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmailSender } from '../../shared/app/ports';
import { startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { approvedPartner } from '../support/enrollment';
import { createProvider } from '../support/providers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * What Azure deletes by itself: each document's `ttl` (docs/capacity.md, "kept"). The embedded
 * emulator never purges, so no other test would notice a ttl that let Azure delete a document
 * while a rule still needs it (a rate counter before its hour is over, a failed email before an
 * operator may retry it), or one that kept a document for ever.
 */
const day = 24 * 3600;
let app: TestApp;
let hook: WebhookReceiver;

/** Refuses the addresses of `refuse.example`, as ACS refuses a mailbox; sends the others. */
const sender: EmailSender = {
  name: 'refusing',
  async send(message) {
    if (message.to.endsWith('@refuse.example')) throw new Error('recipient mailbox refused');
    return { messageId: `m-${message.to}` };
  },
};

beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    emailSender: sender,
    env: { EMAIL_MAX_ATTEMPTS: '1', EMAIL_SENDS_PER_MINUTE: '1000', EMAIL_SENDS_PER_HOUR: '1000' },
  });
  hook = await startWebhookReceiver();
});
afterAll(async () => {
  await hook.close();
  await app.close();
});

describe('what Azure deletes by itself (ttl)', () => {
  it('keeps a sent email 90 days, a failed one 30 days, each published event and settled delivery 30 days, counters past their window, and nothing waiting with a ttl', async () => {
    // An approval email (sent), an invitation email refused (failed for good), its rate counter.
    await approvedPartner(app);
    const provider = await createProvider(app);
    const invited = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      body: { mpnId: '7777777', email: 'admin@refuse.example' },
    });
    expect(invited.status).toBe(201);
    await app.runTimer('deliverEmails');
    // An event published and delivered.
    const partner = await createPartnerWithProfile(app);
    const endpoint = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: hook.url, events: ['customer.created'] },
    });
    expect(endpoint.status).toBe(201);
    await app.api('POST', '/api/me/customers', { token: partner.adminToken, body: newCustomer() });
    await app.runTimer('deliverEvents');
    expect(hook.received).toHaveLength(1);

    // Published events and deliveries live in the events container, the rest with the partner.
    const containers = await app.allDocuments();
    const documents = [...containers.partners!, ...(containers.events ?? [])];
    const ttls = (type: string, having: (document: any) => boolean = () => true) => [
      ...new Set(documents.filter((d) => d.type === type && having(d)).map((d) => d.ttl)),
    ];
    expect(ttls('email', (email) => email.status === 'sent')).toEqual([90 * day]);
    expect(ttls('email', (email) => email.status === 'failed')).toEqual([30 * day]);
    expect(ttls('event', (event) => typeof event.sequence === 'number')).toEqual([30 * day]);
    expect(ttls('event', (event) => typeof event.sequence !== 'number')).toEqual([]);
    expect(ttls('delivery', (delivery) => delivery.status === 'delivered')).toEqual([30 * day]);
    // A counter outlives the window it counts: Azure deletes none that still decides.
    expect(ttls('rate-counter')).toEqual([2 * 3600]);
    expect(ttls('send-counter', (counter) => counter.id.includes('-minute-'))).toEqual([3600]);
    expect(ttls('send-counter', (counter) => counter.id.includes('-hour-'))).toEqual([2 * 3600]);
    // What the rules keep for ever, or until deleted, carries no ttl.
    for (const type of ['partner', 'customer-relationship', 'reseller-invitation', 'webhook']) {
      expect(ttls(type), type).toEqual([undefined]);
    }
  });
});
