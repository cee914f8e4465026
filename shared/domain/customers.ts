import type { Counterparty, Relationship } from './customer-policy';
import type { InvitationDocument } from './link';

/**
 * Customers (domain.md sections 4, 7, 8, 9). The customer's own data (its record, users,
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
  since: string;
  history: RelationshipChange[];
}

export const relationshipId = (customerId: string): string => `customer-${customerId}`;
export const customerDomainClaimId = (domain: string): string => `domain-${domain.toLowerCase()}`;

/** Claims a domain for one customer, in the directory partition: a domain names one tenant. */
export interface DomainClaim {
  type: 'domain-claim';
  id: string;
  partnerId: 'directory';
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
    ...existing,
    relationship: 'indirect-reseller',
    indirectProvider: provider,
    delegatedAdmin: true,
    history: [
      ...existing.history,
      {
        at,
        from: existing.relationship,
        to: 'indirect-reseller',
        reason: `accepted an invitation with ${provider.companyName}`,
      },
    ],
  };
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
  `upn-${userPrincipalName.toLowerCase()}`;

/** A reseller's invitation for a customer to take it and its provider as resellers of record. */
export interface CustomerInvitation extends InvitationDocument {
  type: 'customer-invitation';
  reseller: Counterparty;
  provider: Counterparty;
  handedOver: 'not-yet' | 'sent' | 'by-hand';
  sentTo: string | null;
  /** How many times the system sent it (domain.md 8: at most three; absent before any). */
  sends?: number;
  acceptedBy: string | null;
}

/** domain.md section 8: the system sends one invitation at most this many times. */
export const maxCustomerInvitationSends = 3;

export type CustomerDocument = Customer | Order | Subscription | CustomerUser | UserNameClaim;
