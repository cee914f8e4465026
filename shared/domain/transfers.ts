import { DomainError } from './errors';
import type { Counterparty } from './customer-policy';
import type { Subscription } from './customers';

/**
 * Subscription transfers (docs/rules.md section 8b, Partner Center's "self-served subscription
 * transfer"). The reseller's copy is the one every decision is written to first (it holds the
 * guard of the customer's subscriptions in open transfers); the provider's copy follows, and the
 * customer's subscriptions move on completion. `propagateAfter` stays on the reseller's copy
 * until every other partition agrees with it, so the expireTransfers timer finishes any step a
 * crash interrupted.
 */
export const transferStatuses = [
  'pending',
  'completed',
  'rejected',
  'withdrawn',
  'expired',
  'cancelled',
] as const;
export type TransferStatus = (typeof transferStatuses)[number];

/** The state machine, as a table: only a pending transfer moves, and only to an end. */
export const transferTransitions: Readonly<Record<TransferStatus, readonly TransferStatus[]>> = {
  pending: ['completed', 'rejected', 'withdrawn', 'expired', 'cancelled'],
  completed: [],
  rejected: [],
  withdrawn: [],
  expired: [],
  cancelled: [],
};

/** An open request expires after this many days (docs/rules.md section 8b). */
export const transferLifetimeDays = 30;

/** How long a step may take before the timer completes it for a crashed request. */
export const propagationGraceSeconds = 120;

export interface TransferredSubscription {
  subscriptionId: string;
  offerId: string;
  quantity: number;
  /** Chosen at creation, so completing twice creates the same subscription once. */
  newSubscriptionId: string;
}

export interface TransferLine extends TransferredSubscription {
  addOns: TransferredSubscription[];
}

export interface Transfer {
  type: 'transfer';
  id: string;
  /** The partition: the reseller's copy or the provider's. */
  partnerId: string;
  side: 'reseller' | 'provider';
  transferId: string;
  customerId: string;
  customerName: string;
  reseller: Counterparty;
  provider: Counterparty;
  /** The other partner, from this copy's side. */
  counterpartyId: string;
  status: TransferStatus;
  lineItems: TransferLine[];
  createdAt: string;
  expiresAt: string;
  updatedAt: string;
  closedAt: string | null;
  reason: string | null;
  /** Reseller's copy only: set while another partition has yet to follow the last change. */
  propagateAfter?: string;
}

/** Which of a reseller's subscriptions of one customer are in an open transfer, and which. */
export interface TransferGuard {
  type: 'transfer-guard';
  id: string;
  partnerId: string;
  customerId: string;
  open: Record<string, string>;
}

export const transferDocumentId = (transferId: string): string => `transfer-${transferId}`;
export const transferGuardId = (customerId: string): string => `transfer-guard-${customerId}`;

export function assertTransition(from: TransferStatus, to: TransferStatus): void {
  if (transferTransitions[from].includes(to)) return;
  throw new DomainError(
    'conflict',
    `The transfer is ${from}; it can no longer become ${to}. Only a pending transfer can change.`,
  );
}

export const ineligibleReasons = [
  'not-direct-bill',
  'not-a-license-subscription',
  'not-active',
  'in-open-transfer',
  'add-on-base-not-moved',
] as const;
export type IneligibleReason = (typeof ineligibleReasons)[number];

const reasonText: Record<IneligibleReason, string> = {
  'not-direct-bill': 'is not one of your direct-bill subscriptions',
  'not-a-license-subscription':
    'is not a license subscription (Azure plans, reservations and software are not transferred)',
  'not-active': 'is not active',
  'in-open-transfer': 'is already in an open transfer',
  'add-on-base-not-moved': 'is an add-on whose base subscription is not transferred with it',
};

export const isActive = (subscription: Subscription): boolean =>
  (subscription.status ?? 'active') === 'active';

/** Why one subscription cannot move on its own merits (its base aside), or null. */
function ownReason(
  subscription: Subscription,
  resellerId: string,
  open: Record<string, string>,
): IneligibleReason | null {
  if (subscription.billedBy !== resellerId) return 'not-direct-bill';
  if (subscription.productType !== 'license') return 'not-a-license-subscription';
  if (!isActive(subscription)) return 'not-active';
  if (open[subscription.subscriptionId] !== undefined) return 'in-open-transfer';
  return null;
}

export interface Eligibility {
  eligible: Subscription[];
  ineligible: { subscription: Subscription; reason: IneligibleReason }[];
}

/**
 * Every subscription of the customer the reseller sees, eligible or not (docs/rules.md section 8b): active
 * license subscriptions it bills, not already in an open transfer; an add-on only with its base.
 */
export function eligibility(
  subscriptions: readonly Subscription[],
  resellerId: string,
  open: Record<string, string>,
): Eligibility {
  const byId = new Map(subscriptions.map((item) => [item.subscriptionId, item]));
  const result: Eligibility = { eligible: [], ineligible: [] };
  for (const subscription of subscriptions) {
    let reason = ownReason(subscription, resellerId, open);
    const baseId = subscription.baseSubscriptionId ?? null;
    if (reason === null && baseId !== null) {
      const base = byId.get(baseId);
      if (!base || ownReason(base, resellerId, open) !== null) reason = 'add-on-base-not-moved';
    }
    if (reason === null) result.eligible.push(subscription);
    else result.ineligible.push({ subscription, reason });
  }
  return result;
}

/**
 * The line items of a request: each requested base with its add-ons (they travel with it). An
 * add-on requested without its base, or any ineligible subscription, refuses the whole request
 * with 400 transfer-not-eligible naming each one; one already in an open transfer, 409.
 */
export function transferLines(
  requested: readonly string[],
  subscriptions: readonly Subscription[],
  resellerId: string,
  open: Record<string, string>,
  newId: () => string,
): TransferLine[] {
  const { eligible, ineligible } = eligibility(subscriptions, resellerId, open);
  const eligibleById = new Map(eligible.map((item) => [item.subscriptionId, item]));
  const ineligibleById = new Map(
    ineligible.map((item) => [item.subscription.subscriptionId, item]),
  );
  const wanted = new Set(requested);
  const errors: { path: string; message: string }[] = [];
  let inProgress = false;
  requested.forEach((subscriptionId, index) => {
    const path = `body.lineItems.${index}.subscriptionId`;
    const refused = ineligibleById.get(subscriptionId);
    const subscription = eligibleById.get(subscriptionId);
    if (refused) {
      if (refused.reason === 'in-open-transfer') inProgress = true;
      errors.push({ path, message: reasonText[refused.reason] });
    } else if (!subscription) {
      errors.push({ path, message: 'is not a subscription of this customer' });
    } else if (subscription.baseSubscriptionId && !wanted.has(subscription.baseSubscriptionId)) {
      errors.push({ path, message: reasonText['add-on-base-not-moved'] });
    }
  });
  if (inProgress) {
    throw new DomainError(
      'transfer-in-progress',
      'A subscription of this request is already in an open transfer; withdraw that one first or wait for its answer.',
      errors,
    );
  }
  if (errors.length > 0) {
    throw new DomainError(
      'transfer-not-eligible',
      errors.map((error) => `${error.path} ${error.message}`).join('; '),
      errors,
    );
  }
  const moved = (subscription: Subscription): TransferredSubscription => ({
    subscriptionId: subscription.subscriptionId,
    offerId: subscription.offerId,
    quantity: subscription.quantity,
    newSubscriptionId: newId(),
  });
  return [...new Set(requested)]
    .map((id) => eligibleById.get(id)!)
    .filter((subscription) => !subscription.baseSubscriptionId)
    .map((base) => ({
      ...moved(base),
      addOns: eligible.filter((item) => item.baseSubscriptionId === base.subscriptionId).map(moved),
    }));
}

/** Every subscription a transfer moves, bases and add-ons. */
export function movedSubscriptions(
  transfer: Pick<Transfer, 'lineItems'>,
): TransferredSubscription[] {
  return transfer.lineItems.flatMap((line) => [line, ...line.addOns]);
}

/**
 * Completion on the customer's side (docs/rules.md section 8b): the reseller's subscription is suspended and
 * points to its successor; the successor has a new id, the quantity the request moved, is billed
 * by the provider, and names the reseller as partner of record.
 */
export function transferredSubscriptions(
  transfer: Transfer,
  moved: TransferredSubscription,
  original: Subscription,
  baseNewId: string | null,
  at: string,
): { suspended: Subscription; successor: Subscription } {
  return {
    suspended: {
      ...original,
      status: 'suspended',
      autoRenew: false,
      successor: { transferId: transfer.transferId, subscriptionId: moved.newSubscriptionId },
      updatedAt: at,
    },
    successor: {
      type: 'subscription',
      id: `subscription-${moved.newSubscriptionId}`,
      customerId: transfer.customerId,
      subscriptionId: moved.newSubscriptionId,
      orderId: original.orderId,
      offerId: moved.offerId,
      productType: original.productType,
      quantity: moved.quantity,
      assignedLicenses: Math.min(original.assignedLicenses, moved.quantity),
      autoRenew: original.autoRenew,
      billedBy: transfer.provider.partnerId,
      partnerOfRecord: transfer.reseller.partnerId,
      partners: [transfer.provider.partnerId, transfer.reseller.partnerId],
      status: 'active',
      baseSubscriptionId: baseNewId,
      transferredFrom: { transferId: transfer.transferId, subscriptionId: moved.subscriptionId },
      createdAt: at,
      updatedAt: at,
    },
  };
}
