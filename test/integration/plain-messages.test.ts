import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { indirectCustomer, newCustomer } from '../support/customers';
import { activeReseller, approvedPartner } from '../support/enrollment';
import { newTenantId } from '../support/ids';
import { createProvider, partnership, tokenOf } from '../support/providers';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(async () => {
  await app?.close();
});

const zodWording = /Invalid input|Invalid option|Too small|Too big|expected [a-z]+, received|>=|<=/;

describe('validation errors', () => {
  it('say what is wrong with each field in plain words', async () => {
    const partner = await createPartnerWithProfile(app);
    const response = await app.api('POST', '/api/me/enrollment', {
      token: partner.adminToken,
      body: {
        reviewedDetails: { companyName: '', mpnId: 12 },
        primaryContact: { firstName: 'Pat', email: 'not an email', phone: '+1 425 555 0100' },
        authorizationConfirmed: 'yes',
      },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation-failed');
    expect(response.body.errors).toEqual(
      expect.arrayContaining([
        { path: 'body.reviewedDetails.companyName', message: 'must not be empty' },
        { path: 'body.reviewedDetails.mpnId', message: 'must be text' },
        { path: 'body.primaryContact.lastName', message: 'is required' },
        { path: 'body.primaryContact.email', message: 'must be an email address' },
        { path: 'body.authorizationConfirmed', message: 'must be true or false' },
        { path: 'body.irreversibleAcknowledged', message: 'is required' },
      ]),
    );
    expect(response.body.detail).not.toMatch(zodWording);
  });

  it('name the accepted values, limits and kinds', async () => {
    const operator = await app.operatorToken();
    const partnerId = newTenantId();
    const master = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: operator,
      body: {
        companyName: 'x'.repeat(201),
        country: 'FR',
        programs: { directBill: true, indirectProvider: { regions: [], services: ['catering'] } },
      },
    });
    expect(master.status).toBe(400);
    expect(master.body.errors).toEqual([
      { path: 'body.companyName', message: 'must have at most 200 characters' },
      { path: 'body.programs.indirectProvider.regions', message: 'must have at least one item' },
      {
        path: 'body.programs.indirectProvider.services.0',
        message: 'must be one of "training-support", "marketing", "credit-financing"',
      },
    ]);

    const decision = await app.api('POST', `/api/operator/enrollments/${partnerId}/decision`, {
      token: operator,
      body: { decision: 'maybe' },
    });
    expect(decision.status).toBe(400);
    expect(decision.body.errors).toEqual([
      { path: 'body.decision', message: 'must be one of "approve", "reject"' },
    ]);

    const page = await app.api('GET', '/api/operator/enrollments?pageSize=abc', {
      token: operator,
    });
    expect(page.body.errors).toEqual([{ path: 'query.pageSize', message: 'must be a number' }]);
    const tooMany = await app.api('GET', '/api/operator/enrollments?pageSize=101', {
      token: operator,
    });
    expect(tooMany.body.errors).toEqual([
      { path: 'query.pageSize', message: 'must be at most 100' },
    ]);
    const missing = await app.api('POST', `/api/operator/enrollments/${partnerId}/decision`, {
      token: operator,
    });
    expect(missing.body.errors).toEqual([
      { path: 'body', message: 'is required: send a JSON object' },
    ]);
    for (const response of [master, decision, page, tooMany, missing])
      expect(response.body.detail).not.toMatch(zodWording);
  });
});

describe('continuation tokens', () => {
  const encoded = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');
  const malformed = [
    'garbage',
    '%%%',
    '=',
    'x'.repeat(4096),
    encoded('1'),
    encoded('null'),
    encoded('true'),
    encoded('"a string"'),
    encoded('[]'),
    encoded('[1,2]'),
    encoded('{}'),
    encoded('{"token":5}'),
    encoded('{"token":"-RID:~abc#RT:1#TRC:2","range":{"min":"","max":"FF"}}'),
    encoded('{"compositeToken":{"token":null}}'),
    encoded('{"__proto__":{"polluted":true}}'),
  ];

  it('of any shape, when not one the list issued, are 400 under query.continuationToken', async () => {
    const reseller = await activeReseller(app);
    const provider = await createProvider(app);
    const operator = await app.operatorToken();
    const lists: [string, string][] = [
      ['/api/me/activity', reseller.adminToken],
      ['/api/me/customers', reseller.adminToken],
      ['/api/indirect-providers', reseller.adminToken],
      ['/api/me/indirect-providers', reseller.adminToken],
      ['/api/me/indirect-resellers', provider.adminToken],
      ['/api/me/reseller-invitations', provider.adminToken],
      ['/api/operator/enrollments', operator],
    ];
    const wrong: string[] = [];
    for (const [list, token] of lists)
      for (const continuation of malformed) {
        const response = await app.api(
          'GET',
          `${list}?continuationToken=${encodeURIComponent(continuation)}`,
          { token },
        );
        const path = response.body?.errors?.[0]?.path;
        if (response.status !== 400 || path !== 'query.continuationToken')
          wrong.push(`${list} ${continuation.slice(0, 40)}: ${response.status} ${path}`);
      }
    expect(wrong).toEqual([]);
  });

  it('that the list issued still read the next page', async () => {
    const partner = await createPartnerWithProfile(app);
    const first = await app.api('GET', '/api/me/activity?pageSize=1', {
      token: partner.adminToken,
    });
    expect(first.body.items).toHaveLength(1);
    const next = await app.api(
      'GET',
      `/api/me/activity?pageSize=1&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
      { token: partner.adminToken },
    );
    expect(next.status).toBe(200);
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(first.body.items[0].id);
  });
});

describe('a reseller creating a customer tenant', () => {
  it('is told its provider creates tenants, whether it names a reseller or not', async () => {
    const { reseller } = await partnership(app);
    for (const body of [
      newCustomer(),
      newCustomer({ indirectResellerId: reseller.partnerId }),
      newCustomer({ indirectResellerId: newTenantId() }),
    ]) {
      const response = await app.api('POST', '/api/me/customers', {
        token: reseller.adminToken,
        body,
      });
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('no-new-direct-customers');
      expect(response.body.detail).toContain('indirect provider');
    }
  });

  it('is told so once approved, before accepting the agreement, too', async () => {
    const partner = await approvedPartner(app);
    const response = await app.api('POST', '/api/me/customers', {
      token: partner.adminToken,
      body: newCustomer({ indirectResellerId: newTenantId() }),
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('no-new-direct-customers');
  });
});

describe('an existing customer tenant accepting an invitation', () => {
  async function invitationFor(customer: Awaited<ReturnType<typeof indirectCustomer>>) {
    const created = await app.api('POST', '/api/me/customer-invitations', {
      token: customer.reseller.adminToken,
      body: { providerId: customer.provider.partnerId },
    });
    expect(created.status).toBe(201);
    return tokenOf(created.body.link);
  }

  it('accepts with the link token alone, nothing else about the tenant', async () => {
    const customer = await indirectCustomer(app);
    const token = await invitationFor(customer);
    const admin = await app.token({ tenant: customer.customerId, roles: ['GlobalAdmin'] });
    const response = await app.api('POST', '/api/customer-invitations/accept', {
      token: admin,
      body: { token },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.customerId).toBe(customer.customerId);
  });

  it('asks a new tenant for each missing detail by its own path', async () => {
    const customer = await indirectCustomer(app);
    const token = await invitationFor(customer);
    const admin = await app.token({ tenant: newTenantId(), roles: ['GlobalAdmin'] });
    for (const details of [{}, { companyName: 'Fabrikam' }]) {
      const response = await app.api('POST', '/api/customer-invitations/accept', {
        token: admin,
        body: { token, ...details },
      });
      expect(response.status).toBe(400);
      const paths = (response.body.errors as { path: string; message: string }[]).map(
        (error) => error.path,
      );
      expect(paths).toEqual(
        'companyName' in details
          ? ['body.domain', 'body.country']
          : ['body.companyName', 'body.domain', 'body.country'],
      );
      expect(response.body.errors[0].message).toBe(
        'is required for a tenant that is not a customer yet',
      );
    }
  });
});
