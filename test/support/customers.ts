import type { TestApp } from './app';
import { createPartnerWithProfile } from './builders';
import { partnership } from './providers';

let domainCounter = 0;
export const uniqueDomain = (name = 'customer'): string =>
  `${name}-${Date.now().toString(36)}-${(domainCounter += 1)}.onmicrosoft.com`;

export function newCustomer(overrides: Record<string, unknown> = {}) {
  return {
    companyName: 'Wingtip Toys',
    domain: uniqueDomain('wingtip'),
    country: 'US',
    adminEmail: 'admin@wingtiptoys.example',
    ...overrides,
  };
}

/** A provider and a reseller in partnership, and a customer the provider created for the reseller. */
export async function indirectCustomer(app: TestApp, overrides: Record<string, unknown> = {}) {
  const { provider, reseller } = await partnership(app);
  const response = await app.api('POST', '/api/me/customers', {
    token: provider.adminToken,
    body: newCustomer({ indirectResellerId: reseller.partnerId, ...overrides }),
  });
  if (response.status !== 201)
    throw new Error(`customer not created: ${response.status} ${response.text}`);
  return {
    provider,
    reseller,
    customerId: response.body.customerId as string,
    created: response.body,
  };
}

/** A direct-bill partner, not enrolled, and its own direct customer. */
export async function directCustomer(app: TestApp, overrides: Record<string, unknown> = {}) {
  const partner = await createPartnerWithProfile(app);
  const response = await app.api('POST', '/api/me/customers', {
    token: partner.adminToken,
    body: newCustomer(overrides),
  });
  if (response.status !== 201)
    throw new Error(`customer not created: ${response.status} ${response.text}`);
  return { partner, customerId: response.body.customerId as string, created: response.body };
}
