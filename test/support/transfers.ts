import { subscriptionDocumentId, type Subscription } from '../../shared/domain/customers';
import type { ApiResponse, TestApp } from './app';
import { createPartnerWithProfile } from './builders';
import { newCustomer } from './customers';
import { submitEnrollment } from './enrollment';
import { newTenantId } from './ids';
import { createProvider, inviteReseller, tokenOf } from './providers';

type Provider = Awaited<ReturnType<typeof createProvider>>;

async function expectStatus(response: ApiResponse, status: number, what: string) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${response.text}`);
  return response;
}

/**
 * A direct-bill partner with its own customer and license subscriptions from before it
 * enrolled, now an active indirect reseller in partnership with a provider (docs/rules.md section 8b's
 * starting point): the customer is not extended yet.
 */
export async function resellerWithDirectCustomer(
  app: TestApp,
  options: {
    provider?: Provider;
    companyName?: string;
    azurePlan?: boolean;
    addOn?: boolean;
    /** The provider also invited the reseller this many more times, before it accepted. */
    moreInvitations?: number;
  } = {},
) {
  const reseller = await createPartnerWithProfile(app, {
    mpnVerified: true,
    companyName: options.companyName ?? 'Fourth Coffee IT',
  });
  const customer = await expectStatus(
    await app.api('POST', '/api/me/customers', {
      token: reseller.adminToken,
      body: newCustomer({ companyName: 'Wingtip Toys' }),
    }),
    201,
    'customer',
  );
  const customerId = customer.body.customerId as string;
  const order = await expectStatus(
    await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: reseller.adminToken,
      body: {
        lineItems: [
          { offerId: 'office-e3', productType: 'license', quantity: 10 },
          { offerId: 'teams-phone', productType: 'license', quantity: 4 },
          ...(options.azurePlan === false
            ? []
            : [{ offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 }]),
        ],
      },
    }),
    201,
    'order',
  );
  const [e3, phone, azure] = (order.body.lineItems as { subscriptionId: string }[]).map(
    (item) => item.subscriptionId,
  ) as [string, string, string | undefined];
  const addOn = options.addOn
    ? ((
        await expectStatus(
          await app.api('POST', `/api/me/customers/${customerId}/orders`, {
            token: reseller.adminToken,
            body: {
              lineItems: [
                {
                  offerId: 'audio-conferencing',
                  productType: 'license',
                  quantity: 3,
                  baseSubscriptionId: e3,
                },
              ],
            },
          }),
          201,
          'add-on order',
        )
      ).body.lineItems[0].subscriptionId as string)
    : null;
  await expectStatus(await submitEnrollment(app, reseller), 201, 'enrollment');
  const agreement = await app.api('GET', '/api/me/agreement', { token: reseller.adminToken });
  await expectStatus(
    await app.api('POST', '/api/me/agreement/acceptance', {
      token: reseller.adminToken,
      body: { templateId: agreement.body.templateId, version: agreement.body.version },
    }),
    201,
    'agreement',
  );
  const provider = options.provider ?? (await createProvider(app));
  const invited = await expectStatus(await inviteReseller(app, provider, reseller), 201, 'invite');
  const pending: { invitationId: string; link: string }[] = [];
  for (let more = 0; more < (options.moreInvitations ?? 0); more += 1) {
    const again = await expectStatus(await inviteReseller(app, provider, reseller), 201, 'invite');
    pending.push({ invitationId: again.body.invitationId, link: again.body.link });
  }
  await expectStatus(
    await app.api('POST', '/api/partner-invitations/accept', {
      token: reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    }),
    200,
    'partnership',
  );
  return {
    reseller,
    provider,
    customerId,
    subscriptions: { e3, phone, azure },
    addOn,
    /** The provider's invitation the reseller accepted, and those it left pending. */
    invitations: {
      accepted: {
        invitationId: invited.body.invitationId as string,
        link: invited.body.link as string,
      },
      pending,
    },
  };
}

export type TransferWorld = Awaited<ReturnType<typeof resellerWithDirectCustomer>>;

export function extend(app: TestApp, world: TransferWorld, token = world.reseller.adminToken) {
  return app.api('POST', `/api/me/customers/${world.customerId}/relationship-extension`, {
    token,
    body: {
      providerId: world.provider.partnerId,
      customerConsentAttested: true,
      consentGivenBy: 'Dana Buyer (dana@wingtiptoys.example)',
      consentGivenAt: '2026-03-01T15:00:00.000Z',
    },
  });
}

/** The world with the customer extended to the provider. */
export async function extendedCustomer(
  app: TestApp,
  options: Parameters<typeof resellerWithDirectCustomer>[1] = {},
) {
  const world = await resellerWithDirectCustomer(app, options);
  await expectStatus(await extend(app, world), 201, 'extension');
  return world;
}

export function requestTransfer(
  app: TestApp,
  world: TransferWorld,
  subscriptionIds: string[],
  token = world.reseller.adminToken,
) {
  return app.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
    token,
    body: {
      providerId: world.provider.partnerId,
      lineItems: subscriptionIds.map((subscriptionId) => ({ subscriptionId })),
    },
  });
}

/** A pending transfer of the E3 subscription (with an add-on when asked). */
export async function pendingTransfer(
  app: TestApp,
  options: { addOn?: boolean; azurePlan?: boolean; moreInvitations?: number } = {},
) {
  const world = await extendedCustomer(app, {
    azurePlan: options.azurePlan ?? true,
    addOn: options.addOn ?? false,
    moreInvitations: options.moreInvitations ?? 0,
  });
  const addOnId = world.addOn;
  const created = await expectStatus(
    await requestTransfer(app, world, [world.subscriptions.e3]),
    201,
    'transfer',
  );
  return { ...world, addOnId, transferId: created.body.transferId as string, created };
}

/**
 * An add-on of a base subscription, billed by the reseller, written as the customers domain
 * stores it: orders refuse an add-on of a base that cannot move, which eligibility must report.
 */
export async function seedAddOn(app: TestApp, world: TransferWorld, baseId: string) {
  const subscriptionId = newTenantId();
  const now = app.clock.now().toISOString();
  const addOn: Subscription = {
    type: 'subscription',
    id: subscriptionDocumentId(subscriptionId),
    customerId: world.customerId,
    subscriptionId,
    orderId: newTenantId(),
    offerId: 'audio-conferencing',
    productType: 'license',
    quantity: 3,
    assignedLicenses: 0,
    autoRenew: true,
    billedBy: world.reseller.partnerId,
    partners: [world.reseller.partnerId],
    baseSubscriptionId: baseId,
    createdAt: now,
    updatedAt: now,
  };
  await app.services.customers.commit(world.customerId, [{ op: 'create', document: addOn }]);
  return subscriptionId;
}

/** The customer's subscriptions as stored (every partner's). */
export async function storedSubscriptions(app: TestApp, customerId: string) {
  return (await app.query<Subscription>(
    'customers',
    `SELECT * FROM c WHERE c.customerId = '${customerId}' AND c.type = 'subscription'`,
  )) as Subscription[];
}
