import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, globalAdminToken, masterRecord, profile } from '../support/builders';
import { newTenantId, operatorTenantId } from '../support/ids';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

describe('operator master records', () => {
  it('creates a partner with 201, then updates it with 200 and a new etag', async () => {
    const partnerId = newTenantId();
    const token = await app.operatorToken();
    const created = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord({ companyName: 'Fabrikam', country: 'fr' }),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      partnerId,
      companyName: 'Fabrikam',
      country: 'FR',
      partnerType: 'direct-bill',
      programs: { directBill: true, indirectReseller: { status: 'not-enrolled' } },
      navigation: { indirectProviders: false },
    });
    expect(created.headers.get('etag')).toContain(created.body.etag);

    const updated = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord({ companyName: 'Fabrikam SAS', country: 'FR' }),
      headers: { 'if-match': created.headers.get('etag')! },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.companyName).toBe('Fabrikam SAS');
    expect(updated.body.etag).not.toBe(created.body.etag);
  });

  it('marks a partner with the provider program as an indirect provider', async () => {
    const { partnerId } = await createPartner(app, {
      programs: {
        directBill: false,
        indirectProvider: { regions: ['US', 'CA'], services: ['marketing'] },
      },
    });
    const me = await app.api('GET', '/api/me', {
      token: await app.token({ tenant: partnerId, roles: ['SalesAgent'] }),
    });
    expect(me.body.partnerType).toBe('indirect-provider');
    expect(me.body.programs.indirectProvider).toEqual({
      regions: ['US', 'CA'],
      services: ['marketing'],
    });
  });

  it('refuses a partner global admin with 403', async () => {
    const { partnerId } = await createPartner(app);
    const response = await app.api('PUT', `/api/operator/partners/${newTenantId()}`, {
      token: await globalAdminToken(app, partnerId),
      body: masterRecord(),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
  });

  it('refuses a user of the operator tenant without the Operator role', async () => {
    const response = await app.api('PUT', `/api/operator/partners/${newTenantId()}`, {
      token: await app.token({ tenant: operatorTenantId, roles: ['GlobalAdmin'] }),
      body: masterRecord(),
    });
    expect(response.status).toBe(403);
  });

  it('refuses an EnrollmentReviewer on master records, which only the Operator keeps', async () => {
    const { partnerId } = await createPartner(app, { companyName: 'Kept As Is' });
    const reviewer = await app.token({ tenant: operatorTenantId, roles: ['EnrollmentReviewer'] });
    const write = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: reviewer,
      body: masterRecord({ companyName: 'Rewritten', mpnVerified: true }),
    });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({
      code: 'forbidden',
      detail: 'Only an Operator may do this.',
    });
    expect(
      (await app.api('GET', `/api/operator/partners/${partnerId}`, { token: reviewer })).status,
    ).toBe(403);
    const read = await app.api('GET', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
    });
    expect(read.body.companyName).toBe('Kept As Is');
    const queue = await app.api('GET', '/api/operator/enrollments?status=pending-approval', {
      token: reviewer,
    });
    expect(queue.status).toBe(200);
  });

  it('answers a stale If-Match with 412 and changes nothing', async () => {
    const { partnerId } = await createPartner(app, { companyName: 'Before' });
    const token = await app.operatorToken();
    const response = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord({ companyName: 'After' }),
      headers: { 'if-match': '"stale-etag"' },
    });
    expect(response.status).toBe(412);
    expect(response.body.code).toBe('precondition-failed');
    const read = await app.api('GET', `/api/operator/partners/${partnerId}`, { token });
    expect(read.body.companyName).toBe('Before');
  });

  it('refuses a partner id that is not a GUID with 400 naming the parameter', async () => {
    const response = await app.api('PUT', '/api/operator/partners/not-a-guid', {
      token: await app.operatorToken(),
      body: masterRecord(),
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toContainEqual({
      path: 'params.partnerId',
      message: 'must be a GUID',
    });
  });
});

describe('GET /api/me', () => {
  it("shows the caller's own partner, whatever its role", async () => {
    const { partnerId, record } = await createPartner(app, { companyName: 'Northwind' });
    for (const roles of [['GlobalAdmin'], ['AdminAgent'], ['SalesAgent']]) {
      const response = await app.api('GET', '/api/me', {
        token: await app.token({ tenant: partnerId, roles }),
      });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        partnerId,
        companyName: 'Northwind',
        mpnId: record.mpnId,
      });
    }
  });

  it('answers 404 for a tenant that has no partner record', async () => {
    const response = await app.api('GET', '/api/me', {
      token: await app.token({ tenant: newTenantId(), roles: ['GlobalAdmin'] }),
    });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('not-found');
  });

  it("never shows tenant B's record to a user of tenant A", async () => {
    const a = await createPartner(app, { companyName: 'Tenant A' });
    const b = await createPartner(app, { companyName: 'Tenant B' });
    const tokenA = await globalAdminToken(app, a.partnerId);
    const me = await app.api('GET', '/api/me', { token: tokenA });
    expect(me.body.partnerId).toBe(a.partnerId);
    const direct = await app.api('GET', `/api/operator/partners/${b.partnerId}`, { token: tokenA });
    expect(direct.status).toBe(403);
    expect(direct.text).not.toContain('Tenant B');
  });
});

describe('PUT /api/me/profile', () => {
  it('lets a global admin confirm the profile, stamped with the time and the user', async () => {
    const { partnerId, record } = await createPartner(app);
    app.clock.set('2026-05-04T10:00:00.000Z');
    const token = await globalAdminToken(app, partnerId, { oid: 'user-1' });
    const response = await app.api('PUT', '/api/me/profile', {
      token,
      body: profile(record, { preferredLanguage: 'fr' }),
    });
    expect(response.status).toBe(200);
    expect(response.body.profile).toMatchObject({
      companyName: record.companyName,
      preferredLanguage: 'fr',
      confirmedAt: '2026-05-04T10:00:00.000Z',
    });
  });

  it('accepts the wids global admin directory role as a global admin', async () => {
    const { partnerId, record } = await createPartner(app);
    const token = await app.token({
      tenant: partnerId,
      wids: ['62e90394-69f5-4237-9190-012177145e10'],
    });
    const response = await app.api('PUT', '/api/me/profile', { token, body: profile(record) });
    expect(response.status).toBe(200);
  });

  it('refuses a SalesAgent with 403', async () => {
    const { partnerId, record } = await createPartner(app);
    const response = await app.api('PUT', '/api/me/profile', {
      token: await app.token({ tenant: partnerId, roles: ['SalesAgent'] }),
      body: profile(record),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
    const me = await app.api('GET', '/api/me', { token: await globalAdminToken(app, partnerId) });
    expect(me.body.profile).toBeNull();
  });

  it('refuses an MPN ID other than the recorded one, naming the field', async () => {
    const { partnerId, record } = await createPartner(app, { mpnId: '7654321' });
    const response = await app.api('PUT', '/api/me/profile', {
      token: await globalAdminToken(app, partnerId),
      body: profile(record, { mpnId: '1111111' }),
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('body.mpnId');
  });

  it('answers a stale If-Match with 412', async () => {
    const { partnerId, record } = await createPartner(app);
    const token = await globalAdminToken(app, partnerId);
    const before = await app.api('GET', '/api/me', { token });
    await app.api('PUT', '/api/me/profile', { token, body: profile(record) });
    const stale = await app.api('PUT', '/api/me/profile', {
      token,
      body: profile(record, { companyName: 'Changed' }),
      headers: { 'if-match': before.headers.get('etag')! },
    });
    expect(stale.status).toBe(412);
    const after = await app.api('GET', '/api/me', { token });
    expect(after.body.profile.companyName).toBe(record.companyName);
  });
});
