import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile, uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newCustomer } from '../support/customers';
import { createProvider } from '../support/providers';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

/**
 * Rotating IDEMPOTENCY_SECRET (docs/deployment.md, Rotating IDEMPOTENCY_SECRET): the app is
 * restarted with a new IDEMPOTENCY_SECRET and the old one as IDEMPOTENCY_SECRET_PREVIOUS, and
 * what was sealed under the old one stays readable: webhook signing secrets, and the answers
 * stored for retries. Three hosts on one database: before the rotation, after it, and after a
 * rotation that lost the previous secret.
 */
const before = randomBytes(36).toString('base64url');
const after = randomBytes(36).toString('base64url');

let original: TestApp;
let rotated: TestApp;
let forgetful: TestApp;
const receivers: WebhookReceiver[] = [];

beforeAll(async () => {
  const clock = new ManualClock('2026-03-02T09:00:00.000Z');
  original = await startTestApp({ clock, env: { IDEMPOTENCY_SECRET: before } });
  const database = original.config.cosmos.database;
  rotated = await startTestApp({
    clock,
    env: {
      COSMOS_DATABASE: database,
      IDEMPOTENCY_SECRET: after,
      IDEMPOTENCY_SECRET_PREVIOUS: before,
    },
  });
  forgetful = await startTestApp({
    clock,
    env: { COSMOS_DATABASE: database, IDEMPOTENCY_SECRET: after },
  });
});
afterAll(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await forgetful.close({ keepDatabase: true });
  await rotated.close({ keepDatabase: true });
  await original.close();
});

async function endpointCreatedBeforeRotation() {
  const partner = await createPartnerWithProfile(original);
  const secrets: string[] = [];
  const hook = await startWebhookReceiver({ secrets });
  receivers.push(hook);
  const created = await original.api('POST', '/api/me/webhooks', {
    token: partner.adminToken,
    body: { url: hook.url, events: ['*'], description: 'our automation' },
  });
  expect(created.status).toBe(201);
  secrets.push(created.body.secret as string);
  return { partner, hook, webhookId: created.body.webhookId as string };
}

describe('rotating IDEMPOTENCY_SECRET', () => {
  it('keeps signing webhooks with the secret a partner was given before the rotation', async () => {
    const { partner, hook, webhookId } = await endpointCreatedBeforeRotation();
    const queued = await rotated.api('POST', `/api/me/webhooks/${webhookId}/test`, {
      token: partner.adminToken,
    });
    expect(queued.status).toBe(202);
    await rotated.runTimer('deliverEvents');
    expect(hook.received.map(({ id, verified }) => ({ id, verified }))).toEqual([
      { id: queued.body.eventId, verified: true },
    ]);
  });

  it('seals the secrets of endpoints created after the rotation under the new server secret', async () => {
    const partner = await createPartnerWithProfile(rotated);
    const secrets: string[] = [];
    const hook = await startWebhookReceiver({ secrets });
    receivers.push(hook);
    const created = await rotated.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: hook.url, events: ['*'], description: 'our automation' },
    });
    secrets.push(created.body.secret as string);
    await rotated.api('POST', `/api/me/webhooks/${created.body.webhookId}/test`, {
      token: partner.adminToken,
    });
    // A host that knows only the new secret opens it: nothing new depends on the previous one.
    await forgetful.runTimer('deliverEvents');
    expect(hook.received.map(({ verified }) => verified)).toEqual([true]);
  });

  it('answers a retry of a request first made before the rotation, instead of running it again', async () => {
    const provider = await createProvider(original);
    const body = { mpnId: uniqueMpnId(), email: 'admin@reseller.example' };
    const key = randomUUID();
    const send = (app: TestApp) =>
      app.api('POST', '/api/me/reseller-invitations', {
        token: provider.adminToken,
        body,
        headers: { 'Idempotency-Key': key },
      });
    const first = await send(original);
    expect(first.status).toBe(201);
    const retry = await send(rotated);
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await original.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('cannot open what was sealed before it once the previous secret is gone', async () => {
    const { partner, hook, webhookId } = await endpointCreatedBeforeRotation();
    // A partner's event (a customer created), retried when it fails, unlike a test event.
    const queued = await forgetful.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer(),
    });
    expect(queued.status).toBe(201);
    await forgetful.runTimer('deliverEvents');
    expect(hook.received).toEqual([]);
    const deliveries = await forgetful.api('GET', `/api/me/webhooks/${webhookId}/deliveries`, {
      token: partner.adminToken,
    });
    // A failed attempt, retried: if it lasts, the endpoint is disabled and its owner told.
    expect(deliveries.body.items).toEqual([
      expect.objectContaining({ outcome: 'failed', status: 'pending', responseStatus: null }),
    ]);
  });
});
