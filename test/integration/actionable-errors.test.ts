import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile, profile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { indirectCustomer } from '../support/customers';
import { newTenantId } from '../support/ids';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { activeReseller } from '../support/enrollment';

/**
 * Errors a caller can act on: each says what to change, rather than sending the caller after
 * the wrong cause (a 412 for a typo, a 404 for a pasted link, a role it holds).
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app?.close());

describe('If-Match', () => {
  it('answers a malformed one 400 naming the header, a stale one 412, a current one 200', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    const put = (ifMatch: string) =>
      app.api('PUT', '/api/me/profile', {
        token,
        body: profile(partner.record),
        headers: { 'if-match': ifMatch },
      });
    const read = await app.api('GET', '/api/me', { token });
    const etag = read.headers.get('etag')!;
    for (const malformed of ['not an etag', '"unterminated', 'W/', '"a" "b"']) {
      const response = await put(malformed);
      expect({ malformed, status: response.status, code: response.body.code }).toEqual({
        malformed,
        status: 400,
        code: 'validation-failed',
      });
      expect(response.body.errors).toEqual([
        { path: 'headers.If-Match', message: 'must be an etag as the resource gave it, or *' },
      ]);
    }
    expect((await put('"0000-stale"')).status).toBe(412);
    // The ETag header as it came, its weak form, the body's bare etag field, and a list.
    expect((await put(etag)).status).toBe(200);
    const next = (await app.api('GET', '/api/me', { token })).body.etag as string;
    expect((await put(`W/${etag.replace(/^W\//, '')}`)).status).toBe(412);
    expect((await put(`"stale", ${next.startsWith('"') ? next : `"${next}"`}`)).status).toBe(200);
    expect((await put('*')).status).toBe(200);
  });

  it('takes the weak form of the current etag, and W/ only as a prefix outside the quotes', async () => {
    const partner = await createPartnerWithProfile(app);
    const token = partner.adminToken;
    const put = (ifMatch: string) =>
      app.api('PUT', '/api/me/profile', {
        token,
        body: profile(partner.record),
        headers: { 'if-match': ifMatch },
      });
    const current = async () => (await app.api('GET', '/api/me', { token })).headers.get('etag')!;
    const inner = (await current()).replace(/^W\//, '').replace(/^"|"$/g, '');
    // W/ inside the quotes is part of the opaque tag, so it names another version: 412.
    expect((await put(`"W/${inner}"`)).status).toBe(412);
    expect((await put(`W/"${inner}"`)).status).toBe(200);
  });
});

describe('an invitation link pasted whole', () => {
  it('is refused 400 saying to send the part after #, on lookup and accept alike', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const link = invited.body.link as string;
    const token = tokenOf(link);
    for (const pasted of [link, `#${token}`, link.replace(/^https?:\/\/[^/]+/, '')]) {
      for (const [route, caller] of [
        ['/api/partner-invitations/lookup', null],
        ['/api/partner-invitations/accept', reseller.adminToken],
        ['/api/customer-invitations/lookup', null],
        ['/api/incentive-invitations/lookup', null],
      ] as const) {
        const response = await app.api('POST', route, {
          token: caller,
          body: { token: pasted },
        });
        expect({ route, pasted, status: response.status }).toEqual({ route, pasted, status: 400 });
        expect(response.body.errors).toEqual([
          {
            path: 'body.token',
            message: 'is a whole link: send only the part of the link after "#"',
          },
        ]);
      }
    }
    // The part after # is the token: looked up as ever.
    const found = await app.api('POST', '/api/partner-invitations/lookup', { body: { token } });
    expect(found.status).toBe(200);
  });
});

describe('a refused role', () => {
  it('says so when the role is right and the tenant is not', async () => {
    const elsewhere = await app.token({ tenant: newTenantId(), roles: ['Operator'] });
    const response = await app.api('GET', '/api/operator/status', { token: elsewhere });
    expect(response.status).toBe(403);
    expect(response.body.detail).toMatch(
      /^Only an Operator of the operator tenant may do this\. This token holds Operator in tenant [0-9a-f-]{36}, which is not the operator tenant/,
    );
    // The operator tenant without the role: only the role is named.
    const staff = await app.token({
      tenant: app.config.auth.operatorTenantId,
      roles: [],
      appRoles: ['EnrollmentReviewer'],
    });
    expect((await app.api('GET', '/api/operator/status', { token: staff })).body.detail).toBe(
      'Only an Operator may do this.',
    );
  });

  it('tells an application that only a person can be a global admin', async () => {
    const partner = await createPartnerWithProfile(app);
    const automation = await app.token({
      tenant: partner.partnerId,
      roles: ['AdminAgent'],
      app: true,
    });
    const response = await app.api('POST', '/api/me/enrollment', { token: automation, body: {} });
    expect(response.status).toBe(403);
    expect(response.body.detail).toBe(
      'Only a global admin of the tenant may do this. An app-only token is never a global admin: a person signed in as global admin must do it.',
    );
  });
});

describe('an action that is the other partner’s', () => {
  it('names what was refused: a reseller changing the quantity of a subscription the provider bills', async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app, {});
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: provider.adminToken,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    });
    expect(order.status).toBe(201);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    const lower = await app.api(
      'PATCH',
      `/api/me/customers/${customerId}/subscriptions/${subscriptionId}`,
      { token: reseller.adminToken, body: { quantity: 5 } },
    );
    expect(lower.status).toBe(403);
    expect(lower.body.code).toBe('action-not-allowed');
    expect(lower.body.detail).toBe(
      `Only the indirect provider (${provider.record.companyName}) can change a subscription's quantity for this customer (a purchase: the one who can create orders and add products).`,
    );
  });
});
