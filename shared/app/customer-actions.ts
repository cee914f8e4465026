import { assertAllowed, type CustomerAction } from '../domain/customer-policy';
import {
  counterpartyOf,
  orderId as orderDocumentId,
  subscriptionDocumentId,
  userDocumentId,
  userNameClaimId,
  type CustomerDocument,
  type CustomerRelationship,
  type CustomerUser,
  type LineItem,
  type Order,
  type Subscription,
  type UserNameClaim,
} from '../domain/customers';
import { DomainError, notFound, validationFailed } from '../domain/errors';
import type { Principal } from '../domain/principal';
import { authorizeAction, loadRelationship } from './customers';
import { relayedEventOf } from './events';
import { eachBounded } from './bounded';
import { checkIfMatch } from './partners';
import {
  WriteConflict,
  type Page,
  type PageRequest,
  type Versioned,
  type WriteOperation,
} from './ports';
import type { Services } from './services';

/** Line items that need more than "place orders" (docs/rules.md section 9). */
const extraActionFor: Partial<Record<LineItem['productType'], CustomerAction>> = {
  'azure-reservation': 'manage-azure-reservations',
  software: 'buy-software',
};

/** Who sees what this partner orders: itself, and for a provider the reseller too. */
function visibleTo(relationship: CustomerRelationship): string[] {
  return relationship.indirectReseller
    ? [relationship.partnerId, relationship.indirectReseller.partnerId]
    : [relationship.partnerId];
}

/**
 * POST /api/me/customers/{id}/orders: each line item becomes a subscription; the order records
 * who bills the customer (the direct partner, or the provider). One batch in the customer's
 * partition, the order first.
 */
export async function placeOrder(
  services: Services,
  principal: Principal,
  customerId: string,
  lineItems: LineItem[],
): Promise<Order> {
  const { value: relationship } = await loadRelationship(services, principal.tenantId, customerId);
  // The narrower rows first (reservations, software), so a refusal names the right reason.
  for (const item of lineItems) {
    const extra = extraActionFor[item.productType];
    if (extra) authorizeActionOn(relationship, extra);
  }
  authorizeActionOn(relationship, 'place-orders');
  await assertBasesOf(services, relationship.partnerId, customerId, lineItems);
  const now = services.clock.now().toISOString();
  const id = services.ids.newId();
  const partners = visibleTo(relationship);
  const subscriptions: Subscription[] = lineItems.map((item) => {
    const subscriptionId = services.ids.newId();
    return {
      type: 'subscription',
      id: subscriptionDocumentId(subscriptionId),
      customerId,
      subscriptionId,
      orderId: id,
      offerId: item.offerId,
      productType: item.productType,
      quantity: item.quantity,
      assignedLicenses: 0,
      autoRenew: true,
      billedBy: relationship.partnerId,
      partners,
      ...(item.baseSubscriptionId ? { baseSubscriptionId: item.baseSubscriptionId } : {}),
      createdAt: now,
      updatedAt: now,
    };
  });
  const order: Order = {
    type: 'order',
    id: orderDocumentId(id),
    customerId,
    orderId: id,
    placedBy: principal.tenantId,
    billedBy: relationship.partnerId,
    partners,
    lineItems: lineItems.map((item, index) => ({
      ...item,
      subscriptionId: subscriptions[index]!.subscriptionId,
    })),
    createdAt: now,
  };
  // The event goes to every partner that sees the order (docs/rules.md section 11); at most
  // 50 line items, so the batch stays within 100 operations.
  const event = relayedEventOf(services, customerId, principal.tenantId, partners, 'order.placed', {
    customerId,
    orderId: id,
    placedBy: principal.tenantId,
    lineItems: order.lineItems.map(({ offerId, productType, quantity, subscriptionId }) => ({
      offerId,
      productType,
      quantity,
      subscriptionId,
    })),
  });
  // Its own customer's subscriptions are billed directly: the partner's transition counts them
  // when the publisher copies the event to it (docs/rules.md section 14).
  const placed =
    relationship.relationship === 'direct-bill'
      ? {
          ...event,
          counts: {
            [relationship.partnerId]: { subscriptions: { directBillActive: subscriptions.length } },
          },
        }
      : event;
  await services.customers.commit(customerId, [
    { op: 'create', document: order },
    ...subscriptions.map((subscription) => ({ op: 'create' as const, document: subscription })),
    { op: 'create', document: placed },
  ]);
  return order;
}

/** A subscription a transfer suspended is kept for history only (docs/rules.md section 8b). */
function assertNotMoved(subscription: Subscription): void {
  if (subscription.status === 'suspended') {
    throw new DomainError(
      'conflict',
      `This subscription was transferred${subscription.successor ? ` (now ${subscription.successor.subscriptionId})` : ''} and is suspended: change its successor instead.`,
    );
  }
}

/**
 * An add-on's base must be an active license subscription this partner bills, and the add-on a
 * license too: it then moves with its base in a transfer (docs/rules.md section 8b).
 */
async function assertBasesOf(
  services: Services,
  partnerId: string,
  customerId: string,
  lineItems: LineItem[],
): Promise<void> {
  const errors: { path: string; message: string }[] = [];
  await Promise.all(
    lineItems.map(async (item, index) => {
      if (!item.baseSubscriptionId) return;
      const path = `body.lineItems.${index}.baseSubscriptionId`;
      const base = await services.customers.getDocument<Subscription>(
        customerId,
        subscriptionDocumentId(item.baseSubscriptionId),
      );
      if (item.productType !== 'license') {
        errors.push({ path, message: 'only a license subscription can be an add-on' });
      } else if (
        !base ||
        // Stryker disable next-line ConditionalExpression: ids are GUIDs, and "subscription-<GUID>" names only a subscription (subscriptionDocumentId)
        base.value.type !== 'subscription' ||
        base.value.billedBy !== partnerId ||
        base.value.productType !== 'license' ||
        base.value.status === 'suspended'
      ) {
        errors.push({ path, message: 'is not an active license subscription you bill' });
      }
    }),
  );
  if (errors.length > 0) throw validationFailed(errors);
}

function authorizeActionOn(
  relationship: CustomerRelationship,
  action: CustomerAction,
  attempt?: { what: string; countsAs: string },
): void {
  assertAllowed(
    relationship.relationship,
    action,
    counterpartyOf(relationship),
    relationship.retainsDirectBill ?? false,
    attempt,
  );
}

export async function orderHistory(
  services: Services,
  principal: Principal,
  customerId: string,
  page: PageRequest,
): Promise<Page<Order>> {
  await authorizeAction(services, principal.tenantId, customerId, 'view-order-history');
  const result = await services.customers.listFor<Order>(
    customerId,
    'order',
    principal.tenantId,
    page,
  );
  return {
    items: result.items.map((item) => item.value),
    continuationToken: result.continuationToken,
  };
}

export async function listSubscriptions(
  services: Services,
  principal: Principal,
  customerId: string,
  page: PageRequest,
): Promise<Page<Versioned<Subscription>>> {
  await loadRelationship(services, principal.tenantId, customerId);
  return services.customers.listFor<Subscription>(
    customerId,
    'subscription',
    principal.tenantId,
    page,
  );
}

async function visibleSubscription(
  services: Services,
  partnerId: string,
  customerId: string,
  subscriptionId: string,
): Promise<Versioned<Subscription>> {
  const found = await services.customers.getDocument<Subscription>(
    customerId,
    subscriptionDocumentId(subscriptionId),
  );
  if (
    !found ||
    // Stryker disable next-line ConditionalExpression: ids are GUIDs, and "subscription-<GUID>" names only a subscription (subscriptionDocumentId)
    found.value.type !== 'subscription' ||
    !found.value.partners.includes(partnerId)
  ) {
    throw notFound('The subscription');
  }
  return found;
}

/**
 * PATCH a subscription: renewal needs "manage subscription renewal"; a quantity change is a
 * purchase, so it needs "place orders" (decided here: the table has no row for quantity).
 */
export async function changeSubscription(
  services: Services,
  principal: Principal,
  customerId: string,
  subscriptionId: string,
  change: { autoRenew?: boolean | undefined; quantity?: number | undefined },
  ifMatch: string | undefined,
): Promise<Versioned<Subscription>> {
  const { value: relationship } = await loadRelationship(services, principal.tenantId, customerId);
  if (change.autoRenew !== undefined)
    authorizeActionOn(relationship, 'manage-subscription-renewal');
  if (change.quantity !== undefined) {
    authorizeActionOn(relationship, 'place-orders', {
      what: "change a subscription's quantity",
      countsAs: 'a purchase',
    });
  }
  const found = await visibleSubscription(services, principal.tenantId, customerId, subscriptionId);
  checkIfMatch(ifMatch, found.etag);
  assertNotMoved(found.value);
  if (change.quantity !== undefined && change.quantity < found.value.assignedLicenses) {
    throw new DomainError(
      'conflict',
      `${found.value.assignedLicenses} licenses are assigned; remove some before lowering the quantity to ${change.quantity}.`,
    );
  }
  const updated: Subscription = {
    ...found.value,
    ...(change.autoRenew === undefined ? {} : { autoRenew: change.autoRenew }),
    ...(change.quantity === undefined ? {} : { quantity: change.quantity }),
    updatedAt: services.clock.now().toISOString(),
  };
  try {
    // Every partner that sees the subscription hears of it (docs/rules.md section 11).
    const event = relayedEventOf(
      services,
      customerId,
      principal.tenantId,
      updated.partners,
      'subscription.updated',
      {
        customerId,
        subscriptionId,
        autoRenew: updated.autoRenew,
        quantity: updated.quantity,
      },
    );
    const [etag] = await services.customers.commit(customerId, [
      { op: 'replace', document: updated, etag: found.etag },
      { op: 'create', document: event },
    ]);
    return { value: updated, etag: etag ?? found.etag };
  } catch (error) {
    if (error instanceof WriteConflict) {
      throw new DomainError(
        'precondition-failed',
        'The subscription changed meanwhile; read it again.',
      );
    }
    throw error;
  }
}

export async function listUsers(
  services: Services,
  principal: Principal,
  customerId: string,
  page: PageRequest,
): Promise<Page<CustomerUser>> {
  await authorizeAction(services, principal.tenantId, customerId, 'manage-users-and-licenses');
  const result = await services.customers.listFor<CustomerUser>(customerId, 'user', null, page);
  return {
    items: result.items.map((item) => item.value),
    continuationToken: result.continuationToken,
  };
}

export async function createUser(
  services: Services,
  principal: Principal,
  customerId: string,
  input: { displayName: string; userPrincipalName: string },
): Promise<CustomerUser> {
  await authorizeAction(services, principal.tenantId, customerId, 'manage-users-and-licenses');
  const userId = services.ids.newId();
  const user: CustomerUser = {
    type: 'user',
    id: userDocumentId(userId),
    customerId,
    userId,
    displayName: input.displayName,
    userPrincipalName: input.userPrincipalName,
    licenses: [],
    createdAt: services.clock.now().toISOString(),
  };
  const claim: UserNameClaim = {
    type: 'user-name',
    id: userNameClaimId(input.userPrincipalName),
    customerId,
    userId,
  };
  try {
    await services.customers.commit(customerId, [
      { op: 'create', document: claim },
      { op: 'create', document: user },
    ]);
  } catch (error) {
    if (
      error instanceof WriteConflict &&
      // Stryker disable next-line ConditionalExpression: the user's document has a fresh id, so only its name claim (index 0) can conflict
      error.index === 0
    ) {
      throw new DomainError(
        'conflict',
        `A user named ${input.userPrincipalName} already exists in this customer.`,
      );
    }
    throw error;
  }
  return user;
}

async function loadUser(
  services: Services,
  customerId: string,
  userId: string,
): Promise<Versioned<CustomerUser>> {
  const found = await services.customers.getDocument<CustomerUser>(
    customerId,
    userDocumentId(userId),
  );
  if (
    !found ||
    // Stryker disable next-line ConditionalExpression: ids are GUIDs, and "user-<GUID>" names only a user (userDocumentId)
    found.value.type !== 'user'
  )
    throw notFound('The user');
  return found;
}

/**
 * Licenses one batch gives back beside the user's own write (a transactional batch holds at
 * most 100 operations; deleting the user takes two: the user and its user-name claim).
 */
const licensesPerBatch = 98;

/** The subscriptions of these licenses with one seat given back (those that still exist). */
async function releasedSeats(
  services: Services,
  customerId: string,
  subscriptionIds: readonly string[],
): Promise<WriteOperation<CustomerDocument>[]> {
  const found: (Versioned<Subscription> | null)[] = [];
  await eachBounded([...subscriptionIds.keys()], 16, async (index) => {
    found[index] = await services.customers.getDocument<Subscription>(
      customerId,
      subscriptionDocumentId(subscriptionIds[index]!),
    );
  });
  return found
    .filter((subscription): subscription is Versioned<Subscription> => Boolean(subscription))
    .map((subscription) => ({
      op: 'replace',
      document: {
        ...subscription.value,
        assignedLicenses: Math.max(0, subscription.value.assignedLicenses - 1),
      },
      etag: subscription.etag,
    }));
}

/**
 * DELETE a user: its licenses go back to their subscriptions with it. A user holding more than
 * one batch can give back first returns them a batch at a time, each batch taking them off the
 * user (guarded by its etag) and giving the seats back together: if the request stops half-way,
 * the user remains with the licenses not yet given back, every count still right, and the DELETE
 * can be repeated.
 */
export async function deleteUser(
  services: Services,
  principal: Principal,
  customerId: string,
  userId: string,
): Promise<void> {
  await authorizeAction(services, principal.tenantId, customerId, 'manage-users-and-licenses');
  let user = await loadUser(services, customerId, userId);
  try {
    while (user.value.licenses.length > licensesPerBatch) {
      const given = user.value.licenses.slice(0, licensesPerBatch + 1);
      const remaining: CustomerUser = {
        ...user.value,
        licenses: user.value.licenses.slice(given.length),
      };
      // The user first: the guard (the emulator applies a batch one operation at a time).
      const [etag] = await services.customers.commit(customerId, [
        { op: 'replace', document: remaining, etag: user.etag },
        ...(await releasedSeats(services, customerId, given)),
      ]);
      user = { value: remaining, etag: etag! };
    }
    // Read what the batch touches first: each operation in it then names a document that
    // exists, so only a concurrent change can refuse it (and the user's own delete is the guard).
    const claim = await services.customers.getDocument<UserNameClaim>(
      customerId,
      userNameClaimId(user.value.userPrincipalName),
    );
    await services.customers.commit(customerId, [
      { op: 'delete', id: user.value.id, etag: user.etag },
      ...(claim ? [{ op: 'delete' as const, id: claim.value.id, etag: claim.etag }] : []),
      ...(await releasedSeats(services, customerId, user.value.licenses)),
    ]);
  } catch (error) {
    if (error instanceof WriteConflict)
      throw new DomainError('conflict', 'The user changed meanwhile; try again.');
    throw error;
  }
}

/**
 * Assigns or removes a license: the subscription's count and the user's list change together,
 * each guarded by its etag. A license needs a seat-based subscription with a free seat.
 */
export async function changeLicense(
  services: Services,
  principal: Principal,
  customerId: string,
  userId: string,
  subscriptionId: string,
  assign: boolean,
): Promise<CustomerUser> {
  await authorizeAction(services, principal.tenantId, customerId, 'manage-users-and-licenses');
  const [user, subscription] = await Promise.all([
    loadUser(services, customerId, userId),
    visibleSubscription(services, principal.tenantId, customerId, subscriptionId),
  ]);
  const has = user.value.licenses.includes(subscriptionId);
  if (assign && has) return user.value;
  if (!assign && !has) throw notFound('That license assignment');
  if (assign) assertNotMoved(subscription.value);
  if (assign && subscription.value.productType !== 'license') {
    throw new DomainError(
      'conflict',
      `A ${subscription.value.productType} subscription has no licenses to assign.`,
    );
  }
  if (assign && subscription.value.assignedLicenses >= subscription.value.quantity) {
    throw new DomainError(
      'conflict',
      `All ${subscription.value.quantity} licenses of this subscription are assigned; raise its quantity first.`,
    );
  }
  const updatedUser: CustomerUser = {
    ...user.value,
    licenses: assign
      ? [...user.value.licenses, subscriptionId]
      : user.value.licenses.filter((id) => id !== subscriptionId),
  };
  const updatedSubscription: Subscription = {
    ...subscription.value,
    assignedLicenses: subscription.value.assignedLicenses + (assign ? 1 : -1),
    updatedAt: services.clock.now().toISOString(),
  };
  try {
    await services.customers.commit(customerId, [
      { op: 'replace', document: updatedSubscription, etag: subscription.etag },
      { op: 'replace', document: updatedUser, etag: user.etag },
    ]);
  } catch (error) {
    if (error instanceof WriteConflict)
      throw new DomainError('conflict', 'The subscription or user changed meanwhile; try again.');
    throw error;
  }
  return updatedUser;
}
