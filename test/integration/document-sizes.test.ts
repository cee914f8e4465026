import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { documentSizes } from '../support/capacity-model';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { partnership, tokenOf } from '../support/providers';
import { startWebhookReceiver } from '../support/webhook-receiver';

/**
 * The document sizes docs/capacity.md computes with, measured on documents the app writes
 * through its routes: each kind's largest stored JSON (system properties included), in bytes.
 * The capacity table must not assume a kind smaller than measured, nor inflate it beyond
 * rounding up.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

/** A provider and an active reseller in partnership, with what each typically accumulates. */
async function typicalWorld(): Promise<void> {
  const { provider, reseller } = await partnership(app);
  // The reseller's automation receives its events: an endpoint, deliveries, the feed's sequence.
  const hook = await startWebhookReceiver();
  afterAll(() => hook.close());
  const endpoint = await app.api('POST', '/api/me/webhooks', {
    token: reseller.adminToken,
    body: { url: hook.url, events: ['*'], description: 'Fabrikam order automation' },
  });
  if (endpoint.status !== 201) throw new Error(endpoint.text);
  // It tries the endpoint once: the test event, counted in the endpoint's stream.
  const tried = await app.api('POST', `/api/me/webhooks/${endpoint.body.webhookId}/test`, {
    token: reseller.adminToken,
  });
  if (tried.status !== 202) throw new Error(tried.text);
  const customer = await app.api('POST', '/api/me/customers', {
    token: provider.adminToken,
    body: newCustomer({
      companyName: 'Wingtip Toys International Holdings',
      indirectResellerId: reseller.partnerId,
    }),
  });
  if (customer.status !== 201) throw new Error(customer.text);
  const customerId = customer.body.customerId as string;
  const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
    token: provider.adminToken,
    body: {
      lineItems: [
        { offerId: 'microsoft-365-business-premium', productType: 'license', quantity: 25 },
        { offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 },
      ],
    },
  });
  if (order.status !== 201) throw new Error(order.text);
  const user = await app.api('POST', `/api/me/customers/${customerId}/users`, {
    token: reseller.adminToken,
    body: {
      displayName: 'Casey Customer',
      userPrincipalName: `casey@${customer.body.domain as string}`,
    },
  });
  if (user.status !== 201) throw new Error(user.text);
  const invitation = await app.api('POST', '/api/me/customer-invitations', {
    token: reseller.adminToken,
    body: { providerId: provider.partnerId },
  });
  if (invitation.status !== 201) throw new Error(invitation.text);
  const sent = await app.api(
    'POST',
    `/api/me/customer-invitations/${invitation.body.invitationId}/send`,
    {
      token: reseller.adminToken,
      body: { to: 'it@customer.example', ...invitation.body.draft },
      // A POST with a key leaves its answer in the idempotency container.
      headers: { 'Idempotency-Key': crypto.randomUUID() },
    },
  );
  if (sent.status >= 300) throw new Error(sent.text);
  await app.api('POST', '/api/customer-invitations/lookup', {
    body: { token: tokenOf(invitation.body.link as string) },
  });
}

/** Each kind's largest stored document, keyed `container/type`, added to `sizes`. */
async function largestByKind(sizes = new Map<string, number>()): Promise<Map<string, number>> {
  for (const [container, documents] of Object.entries(await app.allDocuments())) {
    for (const document of documents) {
      const kind = `${container}/${(document.type as string | undefined) ?? '(no type)'}`;
      const bytes = Buffer.byteLength(JSON.stringify(document), 'utf8');
      sizes.set(kind, Math.max(sizes.get(kind) ?? 0, bytes));
    }
  }
  return sizes;
}

describe('document sizes', () => {
  it('are as docs/capacity.md says: no kind larger than its row, none inflated past rounding', async () => {
    await typicalWorld();
    // Emails are measured while pending (with their bodies) and once delivered.
    const measured = await largestByKind();
    await app.runTimer('deliverEmails');
    // Events published and delivered: numbered, with their deliveries settled.
    await app.runTimer('deliverEvents');
    await largestByKind(measured);
    const documented = documentSizes();
    expect([...measured.keys()].sort()).toEqual([...documented.keys()].sort());
    for (const [kind, bytes] of measured) {
      expect(documented.get(kind), `${kind} measures ${bytes}`).toBeGreaterThanOrEqual(bytes);
      expect(documented.get(kind), `${kind} measures ${bytes}`).toBeLessThanOrEqual(
        bytes * 1.25 + 100,
      );
    }
  });
});
