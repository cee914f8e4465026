import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gate, override, startTestApp, type ApiResponse, type TestApp } from '../support/app';
import { uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { createProvider, partnership } from '../support/providers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    env: { INVITATION_RATE_LIMIT_PER_HOUR: '3' },
  });
});
afterAll(() => app.close());

function invite(
  provider: { adminToken: string },
  headers: Record<string, string> = {},
  body: { mpnId: string; email: string } = { mpnId: uniqueMpnId(), email: 'a@reseller.example' },
): Promise<ApiResponse> {
  return app.api('POST', '/api/me/reseller-invitations', {
    token: provider.adminToken,
    body,
    headers,
  });
}

const statuses = (responses: ApiResponse[]): number[] =>
  responses.map((response) => response.status).sort();

describe('the hourly limit on invitation emails (INVITATION_RATE_LIMIT_PER_HOUR)', () => {
  it('refuses the invitation over the limit with 429 and Retry-After, writing nothing', async () => {
    app.clock.set('2026-03-02T09:00:00.000Z');
    const provider = await createProvider(app);
    expect(statuses(await Promise.all([invite(provider), invite(provider)]))).toEqual([201, 201]);
    app.clock.set('2026-03-02T09:59:30.000Z');
    expect((await invite(provider)).status).toBe(201);
    const before = await app.documents(provider.partnerId);

    const refused = await invite(provider);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body.retryAfterSeconds).toBe(30);
    // The detail names the limit passed (invitations, not the general allowance) and the wait.
    expect(refused.body.detail).toBe(
      'At most 3 invitation emails an hour may be sent for a partner; try again in 30 seconds.',
    );
    expect(await app.documents(provider.partnerId)).toEqual(before);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(3);
    expect(await app.documents(provider.partnerId, 'email')).toHaveLength(3);
  });

  it('opens again with the next hour', async () => {
    app.clock.set('2026-03-03T10:00:00.000Z');
    const provider = await createProvider(app);
    for (let sent = 0; sent < 3; sent += 1) expect((await invite(provider)).status).toBe(201);
    expect((await invite(provider)).status).toBe(429);
    app.clock.set('2026-03-03T10:59:59.000Z');
    expect((await invite(provider)).headers.get('retry-after')).toBe('1');
    app.clock.set('2026-03-03T11:00:00.000Z');
    expect((await invite(provider)).status).toBe(201);
  });

  it('counts per partner: one provider at its limit does not hold back another', async () => {
    app.clock.set('2026-03-04T10:00:00.000Z');
    const [busy, quiet] = await Promise.all([createProvider(app), createProvider(app)]);
    for (let sent = 0; sent < 3; sent += 1) await invite(busy);
    expect((await invite(busy)).status).toBe(429);
    expect((await invite(quiet)).status).toBe(201);
  });

  it('holds under concurrency: of ten at once, exactly the limit are sent', async () => {
    app.clock.set('2026-03-05T10:00:00.000Z');
    const provider = await createProvider(app);
    const responses = await Promise.all(Array.from({ length: 10 }, () => invite(provider)));
    expect(statuses(responses)).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(3);
    const [counter] = await app.documents(provider.partnerId, 'rate-counter');
    expect(counter).toMatchObject({ window: '2026-03-05T10', count: 3 });
  });

  it("holds with the hour's counter already there: an invitation that read it before another took the last one is refused 429", async () => {
    app.clock.set('2026-03-05T11:00:00.000Z');
    const provider = await createProvider(app);
    // Two of three sent: the hour's counter is there.
    for (let sent = 0; sent < 2; sent += 1) expect((await invite(provider)).status).toBe(201);
    const held = gate();
    let armed = true;
    const slow = await startTestApp({
      clock: app.clock,
      env: { INVITATION_RATE_LIMIT_PER_HOUR: '3', COSMOS_DATABASE: app.config.cosmos.database },
      decorate: (services) => ({
        ...services,
        partners: override(services.partners, {
          async getDocument(partnerId, id) {
            const found = await services.partners.getDocument(partnerId, id);
            if (armed && id.startsWith('rate-')) {
              armed = false;
              await held.hold();
            }
            return found as never;
          },
        }),
      }),
    });
    try {
      // The slow host reads the counter (one left), then waits while the other takes the last.
      const slowInvite = slow.api('POST', '/api/me/reseller-invitations', {
        token: await slow.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] }),
        body: { mpnId: uniqueMpnId(), email: 'b@reseller.example' },
      });
      await held.reached;
      expect((await invite(provider)).status).toBe(201);
      held.open();
      const late = await slowInvite;
      expect(late.status).toBe(429);
      expect(late.body.code).toBe('rate-limited');
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(3);
    expect(await app.documents(provider.partnerId, 'email')).toHaveLength(3);
  });

  it('does not count a replayed retry, and lets a limited request run when retried later', async () => {
    app.clock.set('2026-03-06T10:00:00.000Z');
    const provider = await createProvider(app);
    const first = { mpnId: uniqueMpnId(), email: 'a@reseller.example' };
    const firstKey = { 'Idempotency-Key': randomUUID() };
    expect((await invite(provider, firstKey, first)).status).toBe(201);
    await invite(provider);
    await invite(provider);
    expect((await invite(provider, firstKey, first)).headers.get('idempotent-replayed')).toBe(
      'true',
    );
    expect((await invite(provider)).status).toBe(429);

    // A 429 is not a request's final answer: the same request, retried next hour, runs.
    const next = { mpnId: uniqueMpnId(), email: 'b@reseller.example' };
    const nextKey = { 'Idempotency-Key': randomUUID() };
    expect((await invite(provider, nextKey, next)).status).toBe(429);
    app.clock.set('2026-03-06T11:00:00.000Z');
    const retried = await invite(provider, nextKey, next);
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('the same limit on customer invitation emails', () => {
  it('refuses the send over the limit with 429, leaving the invitation unsent', async () => {
    app.clock.set('2026-03-05T14:00:00.000Z');
    const { reseller, provider } = await partnership(app);
    const send = async (): Promise<ApiResponse> => {
      const drafted = await app.api('POST', '/api/me/customer-invitations', {
        token: reseller.adminToken,
        body: { providerId: provider.partnerId },
      });
      return app.api('POST', `/api/me/customer-invitations/${drafted.body.invitationId}/send`, {
        token: reseller.adminToken,
        body: {
          to: 'it@customer.example',
          subject: drafted.body.draft.subject,
          body: drafted.body.draft.body,
        },
      });
    };
    for (let sent = 0; sent < 3; sent += 1) expect((await send()).status).toBe(202);
    const refused = await send();
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.headers.get('retry-after')).toBe('3600');
    const emails = await app.documents(reseller.partnerId, 'email');
    expect(emails.filter((email) => email.kind === 'customer-invitation')).toHaveLength(3);
  });
});

describe('the request rate limits (token buckets, RATE_LIMIT_*)', () => {
  let limited: TestApp;
  beforeAll(async () => {
    limited = await startTestApp({
      clock: new ManualClock('2026-03-02T09:00:00.000Z'),
      env: {
        RATE_LIMIT_TENANT_BURST: '3',
        RATE_LIMIT_TENANT_PER_MINUTE: '60',
        RATE_LIMIT_LINK_LOOKUPS_BURST: '2',
        RATE_LIMIT_LINK_LOOKUPS_PER_MINUTE: '6',
      },
    });
  });
  afterAll(() => limited.close());

  it('answers a tenant past its burst with 429 rate-limited and Retry-After, other tenants unaffected', async () => {
    const tenant = randomUUID();
    const token = await limited.token({ tenant, roles: ['GlobalAdmin'] });
    // Any signed-in answer counts, even a 404 for a tenant without a partner record.
    for (let request = 0; request < 3; request += 1) {
      expect((await limited.api('GET', '/api/me', { token })).status).toBe(404);
    }
    const refused = await limited.api('GET', '/api/me', { token });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.retryAfterSeconds).toBe(1);
    // Another user of the same tenant shares its bucket; another tenant has its own.
    const colleague = await limited.token({ tenant, roles: ['AdminAgent'] });
    expect((await limited.api('GET', '/api/me', { token: colleague })).status).toBe(429);
    const other = await limited.token({ tenant: randomUUID(), roles: ['GlobalAdmin'] });
    expect((await limited.api('GET', '/api/me', { token: other })).status).toBe(404);
    limited.clock.advance({ seconds: 1 });
    expect((await limited.api('GET', '/api/me', { token })).status).toBe(404);
    expect((await limited.api('GET', '/api/me', { token })).status).toBe(429);
  });

  /** A lookup of a link nobody was given (404 when the limit lets it through). */
  const guess = (headers: Record<string, string> = {}) =>
    limited.api('POST', '/api/partner-invitations/lookup', {
      body: { token: `${randomUUID().replace(/-/g, '').slice(0, 22)}.${'A'.repeat(43)}` },
      headers,
    });

  it('limits anonymous link lookups per client, whatever X-Forwarded-For the client claims', async () => {
    expect((await guess()).status).toBe(404);
    expect((await guess()).status).toBe(404);
    const refused = await guess();
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate-limited');
    expect(refused.headers.get('retry-after')).toBe('10');
    expect(refused.body.detail).toBe(
      'Too many requests looking up invitation links; try again in 10 seconds.',
    );
    const spoofed = await guess({ 'x-forwarded-for': '203.0.113.7' });
    expect(spoofed.status).toBe(429);
    limited.clock.advance({ seconds: 10 });
    expect((await guess()).status).toBe(404);
  });

  it('tells the wait for the rest of one token: Retry-After counts what came back since the bucket emptied', async () => {
    // These tests share the client (this host's address): a minute fills its bucket again.
    limited.clock.advance({ minutes: 1 });
    expect((await guess()).status).toBe(404);
    expect((await guess()).status).toBe(404);
    expect((await guess()).headers.get('retry-after')).toBe('10'); // a token every 10 seconds
    limited.clock.advance({ seconds: 4 }); // four tenths of a token back: six seconds to go
    const early = await guess();
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('6');
    expect(early.body.retryAfterSeconds).toBe(6);
    limited.clock.advance({ seconds: 6 });
    expect((await guess()).status).toBe(404);
  });
});
