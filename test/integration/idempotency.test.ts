import { createHash, hkdfSync, randomUUID } from 'node:crypto';
import { httpFunctions } from '../../functions/table';
import { idempotencyKeys, openStoredAnswer } from '../../shared/http/idempotency';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../shared/app/ports';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type ApiResponse,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile, uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { enrollmentForm } from '../support/enrollment';
import { createProvider } from '../support/providers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

function invite(
  provider: { adminToken: string },
  body: { mpnId: string; email: string },
  headers: Record<string, string>,
): Promise<ApiResponse> {
  return app.api('POST', '/api/me/reseller-invitations', {
    token: provider.adminToken,
    body,
    headers,
  });
}

function submitEnrollment(
  partner: { adminToken: string; record: { companyName: string; mpnId: string | null } },
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  return app.api('POST', '/api/me/enrollment', {
    token: partner.adminToken,
    body: enrollmentForm(partner.record),
    headers,
  });
}

const invitationBody = () => ({ mpnId: uniqueMpnId(), email: 'admin@reseller.example' });

describe('anonymous callers (link lookups)', () => {
  it('write nothing, whatever their headers: no idempotency record for a lookup with a key', async () => {
    const before = JSON.stringify(await app.allDocuments());
    for (const kind of ['partner', 'customer', 'incentive']) {
      for (const key of [randomUUID(), 'a key with spaces, not valid', randomUUID()]) {
        const response = await app.api('POST', `/api/${kind}-invitations/lookup`, {
          body: { token: 'x' },
          headers: { 'Idempotency-Key': key, 'MS-RequestId': randomUUID() },
        });
        expect(response.status).toBe(404);
        expect(response.headers.get('idempotent-replayed')).toBeNull();
      }
    }
    expect(JSON.stringify(await app.allDocuments())).toBe(before);
  });
});

describe('Idempotency-Key on POST', () => {
  it('replays the first answer to a retried invitation: one invitation, one email', async () => {
    const provider = await createProvider(app);
    const body = invitationBody();
    const key = randomUUID();
    const first = await invite(provider, body, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const retry = await invite(provider, body, { 'Idempotency-Key': key });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(retry.body).toEqual(first.body);

    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
    expect(await app.documents(provider.partnerId, 'email')).toHaveLength(1);
    const before = (await app.mailbox()).length;
    await app.runTimer('deliverEmails');
    expect((await app.mailbox()).length - before).toBe(1);
  });

  it('treats the same body with its keys in another order as the same request', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const mpnId = uniqueMpnId();
    const first = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      rawBody: `{"mpnId":"${mpnId}","email":"a@reseller.example"}`,
      headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
    });
    const retry = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      rawBody: `{ "email": "a@reseller.example",\n  "mpnId": "${mpnId}" }`,
      headers: { 'content-type': 'application/json', 'Idempotency-Key': key },
    });
    expect(retry.status).toBe(201);
    expect(retry.body.invitationId).toBe(first.body.invitationId);
  });

  it('refuses the same key with another body with 409 idempotency-key-reused, creating nothing', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    await invite(provider, invitationBody(), { 'Idempotency-Key': key });
    const reused = await invite(provider, invitationBody(), { 'Idempotency-Key': key });
    expect(reused.status).toBe(409);
    expect(reused.headers.get('content-type')).toContain('application/problem+json');
    expect(reused.body.code).toBe('idempotency-key-reused');
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('keeps keys apart per tenant: another tenant sending the same key is not a replay', async () => {
    const [providerA, providerB] = await Promise.all([createProvider(app), createProvider(app)]);
    const body = invitationBody();
    const key = randomUUID();
    const a = await invite(providerA, body, { 'Idempotency-Key': key });
    const b = await invite(providerB, body, { 'Idempotency-Key': key });
    expect(b.status).toBe(201);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.invitationId).not.toBe(a.body.invitationId);
    expect(await app.documents(providerB.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('replays an enrollment submission without a second enrollment or audit event', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: true });
    const key = randomUUID();
    const submit = () => submitEnrollment(partner, { 'Idempotency-Key': key });
    const first = await submit();
    expect(first.status).toBe(201);
    const audit = await app.documents(partner.partnerId, 'audit');
    const retry = await submit();
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    // Without the key the same submission is a second enrollment attempt: 409.
    const unkeyed = await submitEnrollment(partner);
    expect(unkeyed.status).toBe(409);
    expect(await app.documents(partner.partnerId, 'audit')).toHaveLength(audit.length);
    expect(await app.documents(partner.partnerId, 'email')).toHaveLength(1);
  });

  it('honours MS-RequestId the same way, as Partner Center clients send it', async () => {
    const partner = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(partner);
    const operator = await app.operatorToken();
    const requestId = randomUUID();
    const decide = (decision: object) =>
      app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
        token: operator,
        body: decision,
        headers: { 'MS-RequestId': requestId },
      });
    const first = await decide({ decision: 'approve' });
    expect(first.status).toBe(200);
    const retry = await decide({ decision: 'approve' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await app.documents(partner.partnerId, 'email')).toHaveLength(1);
    const reused = await decide({ decision: 'reject', reason: 'no' });
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('idempotency-key-reused');
  });

  it('prefers Idempotency-Key when both headers are sent', async () => {
    const provider = await createProvider(app);
    const body = invitationBody();
    const key = randomUUID();
    const first = await invite(provider, body, { 'Idempotency-Key': key, 'MS-RequestId': 'a' });
    const retry = await invite(provider, body, { 'Idempotency-Key': key, 'MS-RequestId': 'b' });
    expect(retry.body.invitationId).toBe(first.body.invitationId);
  });

  it('replays a refusal too: the answer to a request is its first answer', async () => {
    const partner = await createPartnerWithProfile(app, { programs: { directBill: false } });
    const key = randomUUID();
    const submit = () => submitEnrollment(partner, { 'Idempotency-Key': key });
    const first = await submit();
    expect(first.status).toBe(403);
    expect(first.body.code).toBe('not-eligible');
    const retry = await submit();
    expect(retry.status).toBe(403);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.headers.get('content-type')).toContain('application/problem+json');
    expect(retry.body).toEqual(first.body);
  });

  it('refuses a malformed key with 400 naming the header', async () => {
    const provider = await createProvider(app);
    for (const [header, value] of [
      ['Idempotency-Key', 'x'.repeat(201)],
      ['Idempotency-Key', 'two words'],
      ['MS-RequestId', '   '],
    ] as const) {
      const response = await invite(provider, invitationBody(), { [header]: value });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('validation-failed');
      expect(response.body.errors).toEqual([
        { path: `headers.${header}`, message: 'must be 1 to 200 visible ASCII characters' },
      ]);
    }
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(0);
  });

  it('runs concurrent duplicates once: the others get 409 conflict or the replay', async () => {
    const provider = await createProvider(app);
    const body = invitationBody();
    const key = randomUUID();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => invite(provider, body, { 'Idempotency-Key': key })),
    );
    const fresh = responses.filter(
      (response) => response.status === 201 && !response.headers.get('idempotent-replayed'),
    );
    expect(fresh).toHaveLength(1);
    for (const response of responses.filter((candidate) => candidate !== fresh[0])) {
      if (response.status === 201) expect(response.body).toEqual(fresh[0]!.body);
      else expect(response.body).toMatchObject({ status: 409, code: 'conflict' });
    }
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('forgets a key after 24 hours', async () => {
    const provider = await createProvider(app);
    const body = invitationBody();
    const key = randomUUID();
    const first = await invite(provider, body, { 'Idempotency-Key': key });
    app.clock.advance({ hours: 23, minutes: 59 });
    expect((await invite(provider, body, { 'Idempotency-Key': key })).body.invitationId).toBe(
      first.body.invitationId,
    );
    app.clock.advance({ minutes: 2 });
    const later = await invite(provider, body, { 'Idempotency-Key': key });
    expect(later.status).toBe(201);
    expect(later.body.invitationId).not.toBe(first.body.invitationId);
  });

  it('replays until exactly 24 hours: a millisecond before, the first answer; at 24 hours, a new run', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const body = invitationBody();
    const sentAt = app.clock.now().getTime();
    const first = await invite(provider, body, { 'Idempotency-Key': key });
    expect(first.status).toBe(201);
    const day = 24 * 3600 * 1000;
    app.clock.set(new Date(sentAt + day - 1));
    const before = await invite(provider, body, { 'Idempotency-Key': key });
    expect(before.headers.get('idempotent-replayed')).toBe('true');
    expect(before.body.invitationId).toBe(first.body.invitationId);
    app.clock.set(new Date(sentAt + day));
    const at = await invite(provider, body, { 'Idempotency-Key': key });
    expect(at.status).toBe(201);
    expect(at.headers.get('idempotent-replayed')).toBeNull();
    expect(at.body.invitationId).not.toBe(first.body.invitationId);
  });

  it('lets a retry run again after a failure on our side (503 is not stored)', async () => {
    let failures = 1;
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((_partnerId, operations) =>
        operations.some((operation) => operation.op === 'create') && failures-- > 0
          ? new DependencyUnavailable('cosmos')
          : null,
      ),
    );
    try {
      const provider = await createProvider(app);
      failures = 1;
      const body = invitationBody();
      const key = randomUUID();
      const token = await flaky.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] });
      const send = () =>
        flaky.api('POST', '/api/me/reseller-invitations', {
          token,
          body,
          headers: { 'Idempotency-Key': key },
        });
      const failed = await send();
      expect(failed.status).toBe(503);
      const retry = await send();
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBeNull();
      expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
    } finally {
      await flaky.close({ keepDatabase: true });
    }
  });

  it('never runs twice when the process dies between the invitation and storing its answer', async () => {
    const dying = await startSecondHost(app, (services) => ({
      ...services,
      idempotency: override(services.idempotency, {
        complete: async () => {
          throw new Error('process killed');
        },
      }),
    }));
    try {
      const provider = await createProvider(app);
      const body = invitationBody();
      const key = randomUUID();
      const token = await dying.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] });
      const first = await dying.api('POST', '/api/me/reseller-invitations', {
        token,
        body,
        headers: { 'Idempotency-Key': key },
      });
      expect(first.status).toBe(201);
      // The portal never saw that answer and retries: the key is still claimed, so 409, not a
      // second invitation; the portal finds the first in its list.
      const retry = await invite(provider, body, { 'Idempotency-Key': key });
      expect(retry.status).toBe(409);
      expect(retry.body.code).toBe('conflict');
      expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
    } finally {
      await dying.close({ keepDatabase: true });
    }
  });

  it('stores the answer sealed: the invitation link is not readable in the database', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const created = await invite(provider, invitationBody(), { 'Idempotency-Key': key });
    const secret = String(created.body.link).split('.').pop()!;
    const idempotency = (await app.allDocuments()).idempotency!;
    expect(idempotency.length).toBeGreaterThan(0);
    const stored = JSON.stringify(idempotency);
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain(created.body.invitationId);
  });

  it('seals with the server secret too: a guessed Idempotency-Key opens nothing', async () => {
    const provider = await createProvider(app);
    const key = 'retry-1'; // the kind of key a careless client sends
    const created = await invite(provider, invitationBody(), { 'Idempotency-Key': key });
    expect(created.status).toBe(201);
    const method = 'POST';
    const route = 'me/reseller-invitations';
    // What a reader of the database can compute from the key alone (the old derivation).
    const guessedScope = createHash('sha256')
      .update(JSON.stringify(['idempotency-scope', provider.partnerId, method, route, key]))
      .digest('hex');
    const guessedKey = Buffer.from(
      hkdfSync(
        'sha256',
        key,
        'partner-transition/idempotency',
        JSON.stringify([provider.partnerId, method, route]),
        32,
      ),
    );
    const records = (await app.allDocuments()).idempotency!;
    expect(records.some((record) => record.scope === guessedScope)).toBe(false);
    const real = idempotencyKeys(
      app.services.secrets.idempotency,
      key,
      provider.partnerId,
      method,
      route,
    );
    const record = records.find((candidate) => candidate.scope === real.scope)!;
    expect(record).toBeDefined();
    expect(() => openStoredAnswer(record.response, guessedKey)).toThrow();
    // Without the server secret, the client's key alone does not open it.
    const withoutSecret = idempotencyKeys(Buffer.alloc(32), key, provider.partnerId, method, route);
    expect(() => openStoredAnswer(record.response, withoutSecret.sealingKey)).toThrow();
    expect(openStoredAnswer(record.response, real.sealingKey)).toMatchObject({ status: 201 });
  });

  it("seals with the client's key too: the server secret with another key opens nothing", async () => {
    const provider = await createProvider(app);
    const key = 'retry-1';
    const created = await invite(provider, invitationBody(), { 'Idempotency-Key': key });
    expect(created.status).toBe(201);
    const method = 'POST';
    const route = 'me/reseller-invitations';
    const secret = app.services.secrets.idempotency;
    const real = idempotencyKeys(secret, key, provider.partnerId, method, route);
    const record = (await app.allDocuments()).idempotency!.find(
      (candidate) => candidate.scope === real.scope,
    );
    expect(record).toBeDefined();
    expect(openStoredAnswer(record.response, real.sealingKey)).toMatchObject({ status: 201 });
    // Whoever holds the server secret (Key Vault) but not the client's key: another key of the
    // same length, and the secret alone, open nothing.
    const other = idempotencyKeys(secret, 'retry-2', provider.partnerId, method, route);
    expect(() => openStoredAnswer(record.response, other.sealingKey)).toThrow();
    const secretOnly = Buffer.from(
      hkdfSync(
        'sha256',
        secret,
        'partner-transition/idempotency',
        JSON.stringify([provider.partnerId, method, route, key.length]),
        32,
      ),
    );
    expect(() => openStoredAnswer(record.response, secretOnly)).toThrow();
  });

  it('is documented on every POST a signed-in caller makes, and on nothing else (an anonymous link lookup changes nothing)', async () => {
    const { body } = await app.api('GET', '/api/openapi.json');
    const anonymousPosts = httpFunctions()
      .filter(({ access, methods }) => access.kind === 'anonymous' && methods.includes('POST'))
      .map(({ route }) => `post /api/${route}`);
    expect(anonymousPosts.sort()).toEqual([
      'post /api/customer-invitations/lookup',
      'post /api/incentive-invitations/lookup',
      'post /api/partner-invitations/lookup',
    ]);
    for (const [path, operations] of Object.entries(body.paths as Record<string, any>)) {
      for (const [method, operation] of Object.entries(operations as Record<string, any>)) {
        const headers = (operation.parameters as { name: string; in: string }[])
          .filter((parameter) => parameter.in === 'header')
          .map((parameter) => parameter.name);
        const documented = headers.includes('Idempotency-Key') && headers.includes('MS-RequestId');
        const kept = method === 'post' && !anonymousPosts.includes(`${method} ${path}`);
        expect(documented, `${method} ${path}`).toBe(kept);
        if (kept) expect(operation.responses['409'], `${method} ${path}`).toBeDefined();
      }
    }
  });
});
