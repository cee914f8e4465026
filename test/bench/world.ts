import { randomUUID } from 'node:crypto';
import { devRoleClaims, signDevToken, type DevKey } from '../../shared/adapters/identity/dev-keys';
import { devAudience } from '../../shared/config';

export const operatorTenantId = '00000000-0000-0000-0000-0000000000ff';

/** Signs dev tokens for the bench's callers (AUTH_MODE=dev, the host's own key file). */
export function tokenSigner(
  key: DevKey,
  issuerTemplate: string,
): (tenantId: string, roles: string[]) => Promise<string> {
  return (tenantId, roles) =>
    signDevToken(
      key,
      {
        tenantId,
        ...devRoleClaims(roles),
        userId: randomUUID(),
        name: 'Bench User',
        email: 'bench.user@partner.example',
      },
      { audience: devAudience, issuerTemplate, now: new Date(), lifetimeSeconds: 6 * 3600 },
    );
}

export interface Api {
  (
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<{ status: number; body: any }>;
}

export function apiAt(url: string): Api {
  return async (method, path, token, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
}

async function expectStatus(
  what: string,
  status: number,
  answer: Promise<{ status: number; body: any }>,
): Promise<any> {
  const { status: actual, body } = await answer;
  if (actual !== status)
    throw new Error(`${what}: expected ${status}, got ${actual} ${JSON.stringify(body)}`);
  return body;
}

export interface World {
  provider: { partnerId: string; companyName: string; adminToken: string };
  reseller: { partnerId: string; companyName: string; adminToken: string };
}

/**
 * The reseller the customer scenarios act as, made through the real routes as a portal would:
 * an operator records a provider and a reseller, the reseller confirms its profile, enrolls
 * (approved at once), accepts the agreement, and accepts the provider's partnership invitation.
 */
export async function arrangeWorld(
  api: Api,
  sign: (tenantId: string, roles: string[]) => Promise<string>,
): Promise<World> {
  const operator = await sign(operatorTenantId, ['Operator']);
  const provider = { partnerId: randomUUID(), companyName: 'Adatum Distribution' };
  const reseller = { partnerId: randomUUID(), companyName: 'Contoso Reseller' };
  await expectStatus(
    'provider record',
    201,
    api('PUT', `/api/operator/partners/${provider.partnerId}`, operator, {
      companyName: provider.companyName,
      mpnId: '3000001',
      mpnVerified: true,
      mpnAccountEmail: 'mpn@adatum.example',
      country: 'US',
      programs: {
        directBill: false,
        indirectProvider: { regions: ['US', 'CA'], services: ['training-support', 'marketing'] },
      },
    }),
  );
  await expectStatus(
    'reseller record',
    201,
    api('PUT', `/api/operator/partners/${reseller.partnerId}`, operator, {
      companyName: reseller.companyName,
      mpnId: '3000002',
      mpnVerified: true,
      mpnAccountEmail: 'mpn@contoso.example',
      country: 'US',
      programs: { directBill: true },
    }),
  );
  const resellerToken = await sign(reseller.partnerId, ['GlobalAdmin']);
  const providerToken = await sign(provider.partnerId, ['GlobalAdmin']);
  const contact = {
    firstName: 'Pat',
    lastName: 'Lee',
    email: 'pat.lee@contoso.example',
    phone: '+1 425 555 0100',
  };
  await expectStatus(
    'profile',
    200,
    api('PUT', '/api/me/profile', resellerToken, {
      companyName: reseller.companyName,
      mpnId: '3000002',
      address: { line1: '1 Main Street', city: 'Seattle', postalCode: '98052', country: 'US' },
      primaryContact: contact,
    }),
  );
  await expectStatus(
    'enrollment',
    201,
    api('POST', '/api/me/enrollment', resellerToken, {
      reviewedDetails: { companyName: reseller.companyName, mpnId: '3000002' },
      primaryContact: contact,
      authorizationConfirmed: true,
      irreversibleAcknowledged: true,
    }),
  );
  const agreement = await expectStatus(
    'agreement',
    200,
    api('GET', '/api/me/agreement', resellerToken),
  );
  await expectStatus(
    'agreement acceptance',
    201,
    api('POST', '/api/me/agreement/acceptance', resellerToken, {
      templateId: agreement.templateId,
      version: agreement.version,
    }),
  );
  const invitation = await expectStatus(
    'partnership invitation',
    201,
    api('POST', '/api/me/reseller-invitations', providerToken, {
      mpnId: '3000002',
      email: 'admin@contoso.example',
    }),
  );
  // The link's secret is after '#'; the accept carries it in its body.
  const token = String(invitation.link).split('#').at(-1)!;
  await expectStatus(
    'partnership acceptance',
    200,
    api('POST', '/api/partner-invitations/accept', resellerToken, { token }),
  );
  return {
    provider: { ...provider, adminToken: providerToken },
    reseller: { ...reseller, adminToken: resellerToken },
  };
}
