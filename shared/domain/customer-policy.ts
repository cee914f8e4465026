import { DomainError } from './errors';

/**
 * docs/rules.md section 9, as one table: which actions each relationship opens. Every customer
 * answer's `allowedActions` and every customer action route read this table, nothing else.
 */
export const relationships = ['direct-bill', 'indirect-reseller', 'indirect-provider'] as const;
export type Relationship = (typeof relationships)[number];

export const customerActions = [
  'place-orders',
  'manage-azure-reservations',
  'view-order-history',
  'buy-software',
  'bill-customer',
  'manage-users-and-licenses',
  'manage-subscription-renewal',
] as const;
export type CustomerAction = (typeof customerActions)[number];

/** The table's rows, in docs/rules.md's words: create orders/add products, reservations, ... */
export const policyTable: Readonly<
  Record<CustomerAction, Readonly<Record<Relationship, boolean>>>
> = {
  'place-orders': { 'direct-bill': true, 'indirect-reseller': false, 'indirect-provider': true },
  'manage-azure-reservations': {
    'direct-bill': true,
    'indirect-reseller': false,
    'indirect-provider': false,
  },
  'view-order-history': {
    'direct-bill': true,
    'indirect-reseller': false,
    'indirect-provider': true,
  },
  'buy-software': { 'direct-bill': true, 'indirect-reseller': false, 'indirect-provider': false },
  'bill-customer': { 'direct-bill': true, 'indirect-reseller': false, 'indirect-provider': true },
  'manage-users-and-licenses': {
    'direct-bill': true,
    'indirect-reseller': true,
    'indirect-provider': false,
  },
  'manage-subscription-renewal': {
    'direct-bill': true,
    'indirect-reseller': true,
    'indirect-provider': false,
  },
};

const actionNames: Record<CustomerAction, string> = {
  'place-orders': 'create orders and add products',
  'manage-azure-reservations': 'manage Azure reservations',
  'view-order-history': 'see the order history',
  'buy-software': 'buy software',
  'bill-customer': 'bill the customer',
  'manage-users-and-licenses': 'manage users and licenses',
  'manage-subscription-renewal': 'manage subscription renewal',
};

/**
 * docs/rules.md section 8b: while a reseller still bills some of the customer's direct-bill subscriptions,
 * it keeps these actions for those subscriptions; new orders go through the provider.
 */
export const retainedForDirectBill: readonly CustomerAction[] = [
  'view-order-history',
  'bill-customer',
  'manage-subscription-renewal',
];

export function allowedActions(
  relationship: Relationship,
  retainsDirectBill = false,
): CustomerAction[] {
  return customerActions.filter((action) => isAllowed(relationship, action, retainsDirectBill));
}

export function isAllowed(
  relationship: Relationship,
  action: CustomerAction,
  retainsDirectBill = false,
): boolean {
  return (
    policyTable[action][relationship] ||
    (retainsDirectBill &&
      relationship === 'indirect-reseller' &&
      retainedForDirectBill.includes(action))
  );
}

/** The other party of an indirect relationship, named in a refusal. */
export interface Counterparty {
  partnerId: string;
  companyName: string;
}

/**
 * Refuses an action the relationship does not open, naming who can do it (section 9). `attempt`
 * says in words what the caller tried when it is not the action itself (a quantity change is a
 * purchase): the refusal names what was refused, then the rule.
 */
export function assertAllowed(
  relationship: Relationship,
  action: CustomerAction,
  counterparty: Counterparty | null,
  retainsDirectBill = false,
  attempt?: { what: string; countsAs: string },
): void {
  if (isAllowed(relationship, action, retainsDirectBill)) return;
  const what = attempt?.what ?? actionNames[action];
  const because = attempt ? ` (${attempt.countsAs}: the one who can ${actionNames[action]})` : '';
  const kept = retainsDirectBill
    ? ' You keep order history, renewal and billing for your remaining direct-bill subscriptions of this customer; new orders go through the indirect provider.'
    : '';
  const other: Relationship | null =
    relationship === 'indirect-reseller'
      ? 'indirect-provider'
      : // Stryker disable next-line ConditionalExpression: direct-bill opens every action (policyTable), so it returned above and never gets here
        relationship === 'indirect-provider'
        ? 'indirect-reseller'
        : null;
  const otherCan = other !== null && isAllowed(other, action);
  const detail = otherCan
    ? `Only the ${other === 'indirect-provider' ? 'indirect provider' : 'indirect reseller'}${counterparty ? ` (${counterparty.companyName})` : ''} can ${what} for this customer${because}.`
    : `For a customer served through an indirect provider, nobody can ${what}${because}; only a direct-bill partner can, for its own direct customers.`;
  throw new DomainError('action-not-allowed', `${detail}${kept}`);
}
