import type { Counterparty, Relationship } from './customer-policy';
import type { InvitationDocument } from './link';

/**
 * Customers (docs/rules.md sections 4, 7, 8, 9). The customer's own data (its record, users,
 * subscriptions, orders) lives in its partition of the customers container; each partner's view
 * of a customer, its relationship, lives in that partner's partition, so a partner's customer
 * list is one single-partition query.
 */
export interface Customer {
  type: 'customer';
  id: string;
  customerId: string;
  companyName: string;
  domain: string;
  country: string;
  adminEmail: string | null;
  createdAt: string;
  createdBy: string;
}

export type AcquiredAs = 'direct-bill' | 'indirect-provider';

export interface RelationshipChange {
  at: string;
  from: Relationship | null;
  to: Relationship;
  reason: string;
}

/** One partner's relationship with one customer, in the partner's partition. */
export interface CustomerRelationship {
  type: 'customer-relationship';
  id: string;
  partnerId: string;
  customerId: string;
  companyName: string;
  sortName: string;
  domain: string;
  country: string;
  relationship: Relationship;
  /** How the customer came to this partner: its own direct customer, or through a provider. */
  acquiredAs: AcquiredAs;
  /** For an indirect reseller: its provider. */
  indirectProvider: Counterparty | null;
  /** For an indirect provider: the reseller. */
  indirectReseller: Counterparty | null;
  /** The reseller of record holds delegated admin rights (section 8). */
  delegatedAdmin: boolean;
  /**
   * A reseller whose direct-bill customer moved towards a provider keeps, while it still bills
   * some of the customer's subscriptions, order history, renewal and billing for those
   * (docs/rules.md section 8b). Cleared when its last direct-bill subscription is transferred.
   */
  retainsDirectBill?: boolean;
  since: string;
  history: RelationshipChange[];
}

export const relationshipId = (customerId: string): string => `customer-${customerId}`;
export const customerDomainClaimId = (domain: string): string => `domain-${domain.toLowerCase()}`;
export type DomainClaimPartition = `domain:${string}`;
/** Each claim is a partition of its own: claims are never deleted (docs/capacity.md). */
export const domainClaimPartition = (domain: string): DomainClaimPartition =>
  `domain:${domain.toLowerCase()}`;

/** Claims a domain for one customer, in the domain's own partition: a domain names one tenant. */
export interface DomainClaim {
  type: 'domain-claim';
  id: string;
  partnerId: DomainClaimPartition;
  domain: string;
  customerId: string;
  claimedBy: string;
  claimedAt: string;
}

export function relationshipFor(
  partnerId: string,
  customer: Pick<Customer, 'customerId' | 'companyName' | 'domain' | 'country'>,
  relationship: Relationship,
  options: {
    acquiredAs: AcquiredAs;
    indirectProvider?: Counterparty;
    indirectReseller?: Counterparty;
    delegatedAdmin: boolean;
    at: string;
    reason: string;
  },
): CustomerRelationship {
  return {
    type: 'customer-relationship',
    id: relationshipId(customer.customerId),
    partnerId,
    customerId: customer.customerId,
    companyName: customer.companyName,
    sortName: customer.companyName.toLocaleLowerCase('en'),
    domain: customer.domain,
    country: customer.country,
    relationship,
    acquiredAs: options.acquiredAs,
    indirectProvider: options.indirectProvider ?? null,
    indirectReseller: options.indirectReseller ?? null,
    delegatedAdmin: options.delegatedAdmin,
    since: options.at,
    history: [{ at: options.at, from: null, to: relationship, reason: options.reason }],
  };
}

/** The reseller's side becoming the provider's indirect reseller; the history says why. */
function becameIndirectReseller(
  existing: CustomerRelationship,
  provider: Counterparty,
  at: string,
  reason: string,
): CustomerRelationship {
  return {
    ...existing,
    relationship: 'indirect-reseller',
    indirectProvider: provider,
    retainsDirectBill: existing.relationship === 'direct-bill',
    history: [
      ...existing.history,
      { at, from: existing.relationship, to: 'indirect-reseller', reason },
    ],
  };
}

/**
 * section 8: an existing direct customer of the reseller accepting an invitation moves towards
 * the provider: the reseller becomes its indirect reseller; how it was acquired and the history
 * of the relationship stay.
 */
export function movedToIndirect(
  existing: CustomerRelationship,
  provider: Counterparty,
  at: string,
): CustomerRelationship {
  return {
    ...becameIndirectReseller(
      existing,
      provider,
      at,
      `accepted an invitation with ${provider.companyName}`,
    ),
    delegatedAdmin: true,
  };
}

/**
 * docs/rules.md section 8b, relationship extension: the reseller's direct-bill customer is extended to one
 * of its providers; the reseller keeps its direct-bill subscriptions (and its rights on them).
 */
export function extendedToProvider(
  existing: CustomerRelationship,
  provider: Counterparty,
  at: string,
): CustomerRelationship {
  return becameIndirectReseller(
    existing,
    provider,
    at,
    `relationship extended to ${provider.companyName}`,
  );
}

/** The counterparty a refusal should name for this relationship. */
export function counterpartyOf(relationship: CustomerRelationship): Counterparty | null {
  return relationship.indirectProvider ?? relationship.indirectReseller;
}

export const productTypes = ['license', 'azure-plan', 'azure-reservation', 'software'] as const;
export type ProductType = (typeof productTypes)[number];

export interface LineItem {
  offerId: string;
  productType: ProductType;
  quantity: number;
  /** An add-on names its base subscription (a license subscription of the same partner). */
  baseSubscriptionId?: string | undefined;
}

export interface Order {
  type: 'order';
  id: string;
  customerId: string;
  orderId: string;
  placedBy: string;
  /** Who bills the customer: the direct partner, or the provider (section 9). */
  billedBy: string;
  /** Partners that may see it. */
  partners: string[];
  lineItems: (LineItem & { subscriptionId: string })[];
  createdAt: string;
}

export interface Subscription {
  type: 'subscription';
  id: string;
  customerId: string;
  subscriptionId: string;
  orderId: string;
  offerId: string;
  productType: ProductType;
  quantity: number;
  assignedLicenses: number;
  autoRenew: boolean;
  billedBy: string;
  partners: string[];
  /** Absent on subscriptions written before transfers existed: active. */
  status?: 'active' | 'suspended';
  /** An add-on names its base subscription; it moves with it (docs/rules.md section 8b). */
  baseSubscriptionId?: string | null;
  /** For a transferred subscription: the reseller, partner of record while the provider bills. */
  partnerOfRecord?: string;
  /** Set on a subscription a transfer created. */
  transferredFrom?: { transferId: string; subscriptionId: string };
  /** Set on a subscription suspended by a transfer: where it went. */
  successor?: { transferId: string; subscriptionId: string };
  createdAt: string;
  updatedAt: string;
}

export interface CustomerUser {
  type: 'user';
  id: string;
  customerId: string;
  userId: string;
  displayName: string;
  userPrincipalName: string;
  licenses: string[];
  createdAt: string;
}

/** Reserves a user principal name within one customer. */
export interface UserNameClaim {
  type: 'user-name';
  id: string;
  customerId: string;
  userId: string;
}

export const orderId = (id: string): string => `order-${id}`;
export const subscriptionDocumentId = (id: string): string => `subscription-${id}`;
export const userDocumentId = (id: string): string => `user-${id}`;
export const userNameClaimId = (userPrincipalName: string): string =>
  // Stryker disable next-line MethodExpression: UPNs arrive lower-cased ASCII (the schema) and a claim's writer and reader both call this, so either case claims the same names
  `upn-${userPrincipalName.toLowerCase()}`;

/** A reseller's invitation for a customer to take it and its provider as resellers of record. */
export interface CustomerInvitation extends InvitationDocument {
  type: 'customer-invitation';
  reseller: Counterparty;
  provider: Counterparty;
  /**
   * The partnership it was drafted under (its invitation id): once that partnership ended, the
   * invitation can no longer be sent or accepted (docs/rules.md section 8b). Absent on older ones.
   */
  partnershipInvitationId?: string;
  handedOver: 'not-yet' | 'sent' | 'by-hand';
  sentTo: string | null;
  /** How many times the system sent it (docs/rules.md section 8: at most three; absent before any). */
  sends?: number;
  acceptedBy: string | null;
}

/** docs/rules.md section 8: the system sends one invitation at most this many times. */
export const maxCustomerInvitationSends = 3;

/**
 * The most a sent invitation's subject and body may hold (docs/rules.md section 13): the draft
 * is a few hundred characters; a note of the reseller's own fits beside it.
 */
export const maxInvitationSubjectLength = 200;
export const maxInvitationBodyLength = 4000;

export type CustomerDocument = Customer | Order | Subscription | CustomerUser | UserNameClaim;
