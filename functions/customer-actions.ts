import {
  changeLicense,
  changeSubscription,
  createUser,
  deleteUser,
  listSubscriptions,
  listUsers,
  orderHistory,
  placeOrder,
} from '../shared/app/customer-actions';
import type { Versioned } from '../shared/app/ports';
import type { CustomerUser, Order, Subscription } from '../shared/domain/customers';
import { defineHttp } from '../shared/http/define';
import { created, etagHeader, noContent, ok } from '../shared/http/responses';
import { pageOf, pageQuery } from '../shared/http/schemas/common';
import {
  customerIdParams,
  licenseParams,
  newUserBody,
  orderBody,
  orderView,
  subscriptionParams,
  subscriptionPatchBody,
  subscriptionView,
  userParams,
  userView,
} from '../shared/http/schemas/customers';

/** docs/rules.md section 9: every action here is decided by the one policy table. */
const toOrderView = (order: Order) => ({
  orderId: order.orderId,
  customerId: order.customerId,
  placedBy: order.placedBy,
  billedBy: order.billedBy,
  lineItems: order.lineItems,
  createdAt: order.createdAt,
});

const toSubscriptionView = ({ value, etag }: Versioned<Subscription>) => ({
  subscriptionId: value.subscriptionId,
  orderId: value.orderId,
  offerId: value.offerId,
  productType: value.productType,
  quantity: value.quantity,
  assignedLicenses: value.assignedLicenses,
  autoRenew: value.autoRenew,
  billedBy: value.billedBy,
  status: value.status ?? 'active',
  baseSubscriptionId: value.baseSubscriptionId ?? null,
  ...(value.partnerOfRecord ? { partnerOfRecord: value.partnerOfRecord } : {}),
  ...(value.transferredFrom ? { transferredFrom: value.transferredFrom } : {}),
  ...(value.successor ? { successor: value.successor } : {}),
  createdAt: value.createdAt,
  updatedAt: value.updatedAt,
  etag,
});

const toUserView = (user: CustomerUser) => ({
  userId: user.userId,
  displayName: user.displayName,
  userPrincipalName: user.userPrincipalName,
  licenses: user.licenses,
  createdAt: user.createdAt,
});

export const placeOrderFunction = defineHttp({
  name: 'placeOrder',
  methods: ['POST'],
  route: 'me/customers/{customerId}/orders',
  summary: 'Place an order (licenses, Azure plan, reservations, software) as the table allows',
  tags: ['customer actions'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent', 'SalesAgent'] },
  params: customerIdParams,
  body: orderBody,
  responses: {
    201: { description: 'The order and its subscriptions', schema: orderView },
  },
  errors: ['not-found', 'action-not-allowed'],
  async handle({ principal, params, body, services }) {
    return created(
      toOrderView(await placeOrder(services, principal, params.customerId, body.lineItems)),
    );
  },
});

export const listOrders = defineHttp({
  name: 'listOrders',
  methods: ['GET'],
  route: 'me/customers/{customerId}/orders',
  summary: 'Order history, newest first',
  tags: ['customer actions'],
  access: { kind: 'signed-in' },
  params: customerIdParams,
  query: pageQuery,
  responses: { 200: { description: 'A page of orders', schema: pageOf(orderView) } },
  errors: ['not-found', 'action-not-allowed'],
  async handle({ principal, params, query, services }) {
    const page = await orderHistory(services, principal, params.customerId, query);
    return ok({ items: page.items.map(toOrderView), continuationToken: page.continuationToken });
  },
});

export const listSubscriptionsFunction = defineHttp({
  name: 'listSubscriptions',
  methods: ['GET'],
  route: 'me/customers/{customerId}/subscriptions',
  summary: "The customer's subscriptions this partner has rights on",
  tags: ['customer actions'],
  access: { kind: 'signed-in' },
  params: customerIdParams,
  query: pageQuery,
  responses: {
    200: { description: 'A page of subscriptions', schema: pageOf(subscriptionView) },
  },
  errors: ['not-found'],
  async handle({ principal, params, query, services }) {
    const page = await listSubscriptions(services, principal, params.customerId, query);
    return ok({
      items: page.items.map(toSubscriptionView),
      continuationToken: page.continuationToken,
    });
  },
});

export const patchSubscription = defineHttp({
  name: 'patchSubscription',
  methods: ['PATCH'],
  route: 'me/customers/{customerId}/subscriptions/{subscriptionId}',
  summary: 'Change renewal (autoRenew) or quantity',
  tags: ['customer actions'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: subscriptionParams,
  body: subscriptionPatchBody,
  ifMatch: true,
  responses: {
    200: { description: 'The subscription', schema: subscriptionView, headers: { ETag: 'always' } },
  },
  errors: ['not-found', 'action-not-allowed', 'precondition-failed', 'conflict'],
  async handle({ principal, params, body, services, ifMatch }) {
    const updated = await changeSubscription(
      services,
      principal,
      params.customerId,
      params.subscriptionId,
      body,
      ifMatch,
    );
    return ok(toSubscriptionView(updated), { ETag: etagHeader(updated.etag) });
  },
});

export const listUsersFunction = defineHttp({
  name: 'listUsers',
  methods: ['GET'],
  route: 'me/customers/{customerId}/users',
  summary: "The customer's users (users managers only, as for adding and removing them)",
  tags: ['customer actions'],
  // docs/api.md: users routes are for users managers; reads need the roles of the writes.
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: customerIdParams,
  query: pageQuery,
  responses: { 200: { description: 'A page of users', schema: pageOf(userView) } },
  errors: ['not-found', 'action-not-allowed'],
  async handle({ principal, params, query, services }) {
    const page = await listUsers(services, principal, params.customerId, query);
    return ok({ items: page.items.map(toUserView), continuationToken: page.continuationToken });
  },
});

export const createUserFunction = defineHttp({
  name: 'createUser',
  methods: ['POST'],
  route: 'me/customers/{customerId}/users',
  summary: 'Add a user to the customer',
  tags: ['customer actions'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: customerIdParams,
  body: newUserBody,
  responses: {
    201: { description: 'The user', schema: userView },
  },
  errors: ['not-found', 'action-not-allowed'],
  async handle({ principal, params, body, services }) {
    return created(toUserView(await createUser(services, principal, params.customerId, body)));
  },
});

export const deleteUserFunction = defineHttp({
  name: 'deleteUser',
  methods: ['DELETE'],
  route: 'me/customers/{customerId}/users/{userId}',
  summary: 'Remove a user; its licenses are freed',
  tags: ['customer actions'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: userParams,
  responses: { 204: { description: 'Removed' } },
  errors: ['not-found', 'action-not-allowed', 'conflict'],
  async handle({ principal, params, services }) {
    await deleteUser(services, principal, params.customerId, params.userId);
    return noContent();
  },
});

/** Assigning and removing a license are one route each, the same but for the verb. */
function licenseRoute(name: string, method: 'POST' | 'DELETE', assign: boolean) {
  return defineHttp({
    name,
    methods: [method],
    route: 'me/customers/{customerId}/users/{userId}/licenses/{subscriptionId}',
    summary: assign ? 'Assign a license from a subscription with a free seat' : 'Remove a license',
    tags: ['customer actions'],
    access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
    params: licenseParams,
    responses: { 200: { description: 'The user', schema: userView } },
    errors: ['not-found', 'action-not-allowed', 'conflict'],
    async handle({ principal, params, services }) {
      const { customerId, userId, subscriptionId } = params;
      return ok(
        toUserView(
          await changeLicense(services, principal, customerId, userId, subscriptionId, assign),
        ),
      );
    },
  });
}

export const assignLicense = licenseRoute('assignLicense', 'POST', true);
export const removeLicense = licenseRoute('removeLicense', 'DELETE', false);
