import type { CustomerRelationship } from './customers';

/**
 * What the transition view counts (docs/rules.md section 14), kept in one small document in the
 * partner's partition and changed in the very batches that change what it counts: a count kept
 * beside its change never drifts, and reading it never scans the partner's customers.
 *
 * - `providers`: partnerships in which the partner is the reseller, active.
 * - `customers`: its relationships as a reseller: `directBill` (its own, not moved),
 *   `extendedToProvider` (its own, moved towards a provider: extended, or an existing direct
 *   customer accepting an invitation), `indirect` (acquired through a provider).
 * - `subscriptions`: `directBillActive` (active subscriptions it bills its own customers),
 *   `inTransfer` (in a pending transfer request), `transferred` (moved by completed transfers).
 * - the first time each later step was reached, and when the partner last lost a provider or
 *   asked for a transfer: the view says since when a step is done or waiting.
 */
export interface TransitionCounts {
  type: 'transition-counts';
  id: typeof transitionCountsId;
  partnerId: string;
  providers: number;
  customers: { directBill: number; extendedToProvider: number; indirect: number };
  subscriptions: { directBillActive: number; inTransfer: number; transferred: number };
  firstPartnershipAt: string | null;
  lastPartnershipEndedAt: string | null;
  firstCustomerExtendedAt: string | null;
  lastTransferRequestedAt: string | null;
  firstTransferCompletedAt: string | null;
  /** When counting began: the master record's creation (or the first change of an older one). */
  countedSince: string;
}

export const transitionCountsId = 'transition-counts';

export function emptyCounts(partnerId: string, at: Date): TransitionCounts {
  return {
    type: 'transition-counts',
    id: transitionCountsId,
    partnerId,
    providers: 0,
    customers: { directBill: 0, extendedToProvider: 0, indirect: 0 },
    subscriptions: { directBillActive: 0, inTransfer: 0, transferred: 0 },
    firstPartnershipAt: null,
    lastPartnershipEndedAt: null,
    firstCustomerExtendedAt: null,
    lastTransferRequestedAt: null,
    firstTransferCompletedAt: null,
    countedSince: at.toISOString(),
  };
}

export type CustomerCount = keyof TransitionCounts['customers'];
export type SubscriptionCount = keyof TransitionCounts['subscriptions'];
type Moment = 'firstPartnershipAt' | 'lastPartnershipEndedAt' | 'firstCustomerExtendedAt';
type TransferMoment = 'lastTransferRequestedAt' | 'firstTransferCompletedAt';

/**
 * A change of the counts: numbers to add (negative to take away) and moments to record. A
 * `first...` moment is recorded only when the caller read it unset (see `firstTime`).
 */
export interface CountChange {
  providers?: number;
  customers?: Partial<Record<CustomerCount, number>>;
  subscriptions?: Partial<Record<SubscriptionCount, number>>;
  moments?: Partial<Record<Moment | TransferMoment, string>>;
}

/** Which count a relationship of the partner's is in, if any (a provider's side is in none). */
export function customerCountOf(relationship: CustomerRelationship | null): CustomerCount | null {
  if (relationship === null || relationship.relationship === 'indirect-provider') return null;
  if (relationship.relationship === 'direct-bill') return 'directBill';
  return relationship.acquiredAs === 'direct-bill' ? 'extendedToProvider' : 'indirect';
}

/**
 * The change a relationship's write makes at `at`: out of the count it was in, into the one it
 * is in (and, moved towards a provider, the moment it moved).
 */
export function relationshipCountChange(
  before: CustomerRelationship | null,
  after: CustomerRelationship,
  at: string,
): CountChange {
  const from = customerCountOf(before);
  const to = customerCountOf(after);
  if (from === to) return {};
  const customers: Partial<Record<CustomerCount, number>> = {};
  if (from) customers[from] = -1;
  if (to) customers[to] = 1;
  return {
    customers,
    ...(to === 'extendedToProvider' ? { moments: { firstCustomerExtendedAt: at } } : {}),
  };
}

/** Whether a change moves anything (an empty change is not written). */
export function isEmptyChange(change: CountChange): boolean {
  const numbers = [
    change.providers ?? 0,
    ...Object.values(change.customers ?? {}),
    ...Object.values(change.subscriptions ?? {}),
  ];
  return numbers.every((value) => value === 0) && Object.keys(change.moments ?? {}).length === 0;
}

/**
 * Keeps a `first...` moment only when the counts read before the write did not have it yet, so
 * the first time stays the first (two writes racing on the very first time may both set it, a
 * few milliseconds apart). Other moments are the latest by nature.
 */
export function firstTime(change: CountChange, read: TransitionCounts | null): CountChange {
  if (!change.moments) return change;
  const moments = Object.fromEntries(
    Object.entries(change.moments).filter(
      ([name]) =>
        !name.startsWith('first') ||
        read === null ||
        read[name as Moment | TransferMoment] === null,
    ),
  );
  return { ...change, moments };
}

/** The counts after a change, as the store computes them from the patch (tests, the view). */
export function applyChange(counts: TransitionCounts, change: CountChange): TransitionCounts {
  const customers = { ...counts.customers };
  for (const [name, value] of Object.entries(change.customers ?? {}))
    customers[name as CustomerCount] += value;
  const subscriptions = { ...counts.subscriptions };
  for (const [name, value] of Object.entries(change.subscriptions ?? {}))
    subscriptions[name as SubscriptionCount] += value;
  return {
    ...counts,
    providers: counts.providers + (change.providers ?? 0),
    customers,
    subscriptions,
    ...change.moments,
  };
}
