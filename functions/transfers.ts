import { customerView } from '../shared/app/customers';
import { extendRelationship } from '../shared/app/relationship-extension';
import {
  acceptTransfer,
  createTransfer,
  listTransfers,
  readTransfer,
  rejectTransfer,
  transferEligibility,
  withdrawTransfer,
} from '../shared/app/transfers';
import type { Transfer, TransferredSubscription } from '../shared/domain/transfers';
import { defineHttp } from '../shared/http/define';
import { created, ok } from '../shared/http/responses';
import { pageOf } from '../shared/http/schemas/common';
import {
  customerIdParams,
  customerView as customerViewSchema,
} from '../shared/http/schemas/customers';
import {
  eligibilityQuery,
  eligibilityView,
  newTransferBody,
  rejectTransferBody,
  relationshipExtensionBody,
  transferIdParams,
  transferView,
  transfersQuery,
} from '../shared/http/schemas/transfers';

/** docs/rules.md section 8b: relationship extension and subscription transfers. */
const toMovedView = (item: TransferredSubscription, completed: boolean) => ({
  subscriptionId: item.subscriptionId,
  offerId: item.offerId,
  quantity: item.quantity,
  ...(completed ? { newSubscriptionId: item.newSubscriptionId } : {}),
});

export const toTransferView = (transfer: Transfer) => {
  const completed = transfer.status === 'completed';
  return {
    transferId: transfer.transferId,
    status: transfer.status,
    customerId: transfer.customerId,
    customerName: transfer.customerName,
    resellerId: transfer.reseller.partnerId,
    resellerName: transfer.reseller.companyName,
    providerId: transfer.provider.partnerId,
    providerName: transfer.provider.companyName,
    lineItems: transfer.lineItems.map((line) => ({
      ...toMovedView(line, completed),
      addOns: line.addOns.map((addOn) => toMovedView(addOn, completed)),
    })),
    createdAt: transfer.createdAt,
    expiresAt: transfer.expiresAt,
    closedAt: transfer.closedAt,
    reason: transfer.reason,
  };
};

const managers = ['GlobalAdmin', 'AdminAgent'] as const;

export const extendRelationshipFunction = defineHttp({
  name: 'extendRelationship',
  methods: ['POST'],
  route: 'me/customers/{customerId}/relationship-extension',
  summary:
    "Extend a direct-bill customer's relationship to one of your providers, attesting the customer's consent",
  tags: ['transfers'],
  access: { kind: 'signed-in', roles: managers },
  params: customerIdParams,
  body: relationshipExtensionBody,
  responses: {
    201: { description: 'The customer as the provider now sees it', schema: customerViewSchema },
  },
  errors: ['not-found', 'action-not-allowed', 'region-mismatch', 'partnership-ended'],
  async handle({ principal, params, body, services }) {
    const { provider } = await extendRelationship(services, principal, params.customerId, body);
    return created(customerView(provider));
  },
});

export const transferEligibilityFunction = defineHttp({
  name: 'transferEligibility',
  methods: ['GET'],
  route: 'me/customers/{customerId}/transfers/eligibility',
  summary:
    'Every subscription of the customer, eligible for a transfer to the provider or not (why)',
  tags: ['transfers'],
  access: { kind: 'signed-in' },
  params: customerIdParams,
  query: eligibilityQuery,
  responses: {
    200: { description: 'Eligible and ineligible subscriptions', schema: eligibilityView },
  },
  errors: ['not-found', 'partnership-ended'],
  async handle({ principal, params, query, services }) {
    const result = await transferEligibility(
      services,
      principal,
      params.customerId,
      query.providerId,
    );
    return ok({
      eligible: result.eligible.map((item) => ({
        subscriptionId: item.subscriptionId,
        offerId: item.offerId,
        quantity: item.quantity,
        baseSubscriptionId: item.baseSubscriptionId ?? null,
      })),
      ineligible: result.ineligible.map(({ subscription, reason }) => ({
        subscriptionId: subscription.subscriptionId,
        offerId: subscription.offerId,
        reason,
      })),
    });
  },
});

export const createTransferFunction = defineHttp({
  name: 'createTransfer',
  methods: ['POST'],
  route: 'me/customers/{customerId}/transfers',
  summary: "Ask the provider to take over some of the customer's direct-bill subscriptions",
  tags: ['transfers'],
  access: { kind: 'signed-in', roles: managers },
  params: customerIdParams,
  body: newTransferBody,
  responses: {
    201: {
      description: 'The pending transfer request',
      schema: transferView,
      headers: { Location: 'always' },
    },
  },
  errors: [
    'not-found',
    'relationship-required',
    'transfer-not-eligible',
    'transfer-in-progress',
    'partnership-ended',
  ],
  async handle({ principal, params, body, services }) {
    const transfer = await createTransfer(services, principal, params.customerId, body);
    return created(toTransferView(transfer), {
      Location: `/api/me/transfers/${transfer.transferId}`,
    });
  },
});

export const listTransfersFunction = defineHttp({
  name: 'listTransfers',
  methods: ['GET'],
  route: 'me/transfers',
  summary:
    'Transfers sent (outgoing, as reseller) or received (incoming, as provider), newest first',
  tags: ['transfers'],
  access: { kind: 'signed-in' },
  query: transfersQuery,
  responses: {
    200: { description: 'A page of transfers', schema: pageOf(transferView) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await listTransfers(services, principal, query.direction, query.status, query);
    return ok({ items: page.items.map(toTransferView), continuationToken: page.continuationToken });
  },
});

export const getTransferFunction = defineHttp({
  name: 'getTransfer',
  methods: ['GET'],
  route: 'me/transfers/{transferId}',
  summary: 'One transfer, seen by either side',
  tags: ['transfers'],
  access: { kind: 'signed-in' },
  params: transferIdParams,
  responses: {
    200: { description: 'The transfer', schema: transferView },
  },
  errors: ['not-found'],
  async handle({ principal, params, services }) {
    return ok(toTransferView(await readTransfer(services, principal, params.transferId)));
  },
});

export const acceptTransferFunction = defineHttp({
  name: 'acceptTransfer',
  methods: ['POST'],
  route: 'me/transfers/{transferId}/accept',
  summary: 'The provider accepts: the subscriptions move to it, billed by it',
  tags: ['transfers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent', 'SalesAgent'] },
  params: transferIdParams,
  responses: {
    200: { description: 'The completed transfer', schema: transferView },
  },
  errors: ['not-found', 'forbidden'],
  async handle({ principal, params, services }) {
    return ok(toTransferView(await acceptTransfer(services, principal, params.transferId)));
  },
});

export const rejectTransferFunction = defineHttp({
  name: 'rejectTransfer',
  methods: ['POST'],
  route: 'me/transfers/{transferId}/reject',
  summary: 'The provider rejects, with a reason',
  tags: ['transfers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent', 'SalesAgent'] },
  params: transferIdParams,
  body: rejectTransferBody,
  responses: {
    200: { description: 'The rejected transfer', schema: transferView },
  },
  errors: ['not-found', 'forbidden'],
  async handle({ principal, params, body, services }) {
    return ok(
      toTransferView(await rejectTransfer(services, principal, params.transferId, body.reason)),
    );
  },
});

export const withdrawTransferFunction = defineHttp({
  name: 'withdrawTransfer',
  methods: ['POST'],
  route: 'me/transfers/{transferId}/withdraw',
  summary: 'The reseller withdraws its request while it is pending',
  tags: ['transfers'],
  access: { kind: 'signed-in', roles: managers },
  params: transferIdParams,
  responses: {
    200: { description: 'The withdrawn transfer', schema: transferView },
  },
  errors: ['not-found', 'forbidden'],
  async handle({ principal, params, services }) {
    return ok(toTransferView(await withdrawTransfer(services, principal, params.transferId)));
  },
});
