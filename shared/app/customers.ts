import { allowedActions, assertAllowed, type CustomerAction } from '../domain/customer-policy';
import {
  counterpartyOf,
  customerDomainClaimId,
  domainClaimPartition,
  relationshipFor,
  relationshipId,
  type Customer,
  type CustomerRelationship,
  type DomainClaim,
} from '../domain/customers';
import { assertMayAddDirectCustomers } from '../domain/enrollment';
import { DomainError, notFound, validationFailed } from '../domain/errors';
import type { Partner } from '../domain/partner';
import type { Principal } from '../domain/principal';
import { isProvider, type Partnership } from '../domain/providers';
import type { EventDocument } from '../domain/events';
import { eventOf } from './events';
import { createOnce, loadPartner } from './partners';
import { activePartnership } from './provider-partnership';
import {
  WriteConflict,
  type Page,
  type PageRequest,
  type PartnerDocument,
  type Versioned,
  type WriteOperation,
} from './ports';
import type { Services } from './services';
import { countsPatch } from './transition-counts';
import { relationshipCountChange } from '../domain/transition-counts';

export interface NewCustomer {
  companyName: string;
  domain: string;
  country: string;
  adminEmail?: string | undefined;
}

/**
 * A partner's relationship with a customer, or 404 (docs/rules.md, and docs/api.md: never reveal that
 * another partner's customer exists). Every /api/me/customers/{customerId} route starts here.
 */
export async function loadRelationship(
  services: Services,
  partnerId: string,
  customerId: string,
): Promise<Versioned<CustomerRelationship>> {
  const found = await services.partners.getDocument<CustomerRelationship>(
    partnerId,
    relationshipId(customerId),
  );
  // Stryker disable next-line ConditionalExpression: no other document's id is customer-<guid> (relationshipId), so a found one is a relationship
  if (!found || found.value.type !== 'customer-relationship') throw notFound('The customer');
  return found;
}

/** The relationship, when it opens `action` (section 9); else 403 naming who can do it. */
export async function authorizeAction(
  services: Services,
  partnerId: string,
  customerId: string,
  action: CustomerAction,
): Promise<CustomerRelationship> {
  const { value: relationship } = await loadRelationship(services, partnerId, customerId);
  assertAllowed(
    relationship.relationship,
    action,
    counterpartyOf(relationship),
    relationship.retainsDirectBill ?? false,
  );
  return relationship;
}

export function customerView(relationship: CustomerRelationship) {
  return {
    customerId: relationship.customerId,
    companyName: relationship.companyName,
    domain: relationship.domain,
    country: relationship.country,
    relationship: relationship.relationship,
    acquiredAs: relationship.acquiredAs,
    ...(relationship.indirectProvider ? { indirectProvider: relationship.indirectProvider } : {}),
    ...(relationship.indirectReseller ? { indirectReseller: relationship.indirectReseller } : {}),
    delegatedAdmin: relationship.delegatedAdmin,
    since: relationship.since,
    allowedActions: allowedActions(
      relationship.relationship,
      relationship.retainsDirectBill ?? false,
    ),
    retainsDirectBill: relationship.retainsDirectBill ?? false,
  };
}

export async function listCustomers(
  services: Services,
  partnerId: string,
  relationship: string | undefined,
  page: PageRequest,
): Promise<Page<CustomerRelationship>> {
  return services.partners.customerRelationships(partnerId, relationship, page);
}

/**
 * Claims a customer domain, in the domain's own partition. A claim left by a creation that did not
 * finish, by the same partner, is taken up again with the same customer id, so a retry after a
 * crash completes the customer instead of refusing its own domain. A creation has not finished
 * while its customer is not written; with `untilRelationship`, while the claimant's own
 * relationship with it is not (POST /api/me/customers writes that last).
 */
async function claimDomain(
  services: Services,
  domain: string,
  customerId: string,
  claimedBy: string,
  options: { untilRelationship?: boolean } = {},
): Promise<DomainClaim> {
  const id = customerDomainClaimId(domain);
  const partition = domainClaimPartition(domain);
  const unfinished = async (claim: DomainClaim): Promise<boolean> =>
    options.untilRelationship
      ? !(await services.partners.getDocument(claimedBy, relationshipId(claim.customerId)))
      : !(await services.customers.get(claim.customerId));
  for (;;) {
    const existing = await services.partners.getDocument<DomainClaim>(partition, id);
    if (existing) {
      const claim = existing.value;
      const resumable = claim.claimedBy === claimedBy && (await unfinished(claim));
      if (claim.customerId === customerId || resumable) return claim;
      throw new DomainError(
        'conflict',
        `The domain ${domain} is already taken by another customer tenant.`,
      );
    }
    const claim: DomainClaim = {
      type: 'domain-claim',
      id,
      partnerId: partition,
      domain,
      customerId,
      claimedBy,
      claimedAt: services.clock.now().toISOString(),
    };
    try {
      await services.partners.commit(partition, [{ op: 'create', document: claim }]);
      return claim;
    } catch (error) {
      if (!(error instanceof WriteConflict && error.reason === 'exists')) throw error;
    }
  }
}

async function createIfMissing(services: Services, customer: Customer): Promise<void> {
  try {
    await services.customers.commit(customer.customerId, [{ op: 'create', document: customer }]);
  } catch (error) {
    if (!(error instanceof WriteConflict && error.reason === 'exists')) throw error;
  }
}

/**
 * Writes one partner's relationship with its audit event, its event (docs/rules.md section 11)
 * and its count (section 14); writing it again leaves one of each and counts it once. `patches`
 * go with it (a provider's pipeline).
 */
export function writeRelationship(
  services: Services,
  principal: Principal,
  relationship: CustomerRelationship,
  event: EventDocument,
  patches: WriteOperation<PartnerDocument>[] = [],
): Promise<boolean> {
  return createOnce(
    services,
    principal,
    relationship,
    'customer-added',
    {
      to: relationship.relationship,
      reason: `customer ${relationship.customerId} (${relationship.companyName})`,
    },
    [event],
    [...countsPatch(relationshipCountChange(null, relationship, relationship.since)), ...patches],
  );
}

/** `customer.created` for the partner whose relationship a new customer starts with. */
function customerCreated(services: Services, relationship: CustomerRelationship): EventDocument {
  return eventOf(services, relationship.partnerId, 'customer.created', {
    customerId: relationship.customerId,
    companyName: relationship.companyName,
    relationship: relationship.relationship,
  });
}

/** Who may create a customer tenant, and as what (docs/rules.md sections 4 and 7). */
async function creationPlan(
  services: Services,
  partner: Partner,
  indirectResellerId: string | undefined,
): Promise<{ kind: 'direct' } | { kind: 'indirect'; reseller: Partnership }> {
  if (isProvider(partner)) {
    if (!indirectResellerId) {
      throw validationFailed([
        {
          path: 'body.indirectResellerId',
          message: 'a provider names the indirect reseller the customer is for',
        },
      ]);
    }
    const found = await activePartnership(
      services,
      { providerId: partner.partnerId, resellerId: indirectResellerId },
      'provider',
      'body.indirectResellerId',
    );
    return { kind: 'indirect', reseller: found.value };
  }
  if (!partner.programs.directBill) {
    throw new DomainError(
      'provider-creates-tenants',
      'An indirect reseller does not create customer tenants: its indirect provider creates them and names the reseller.',
    );
  }
  // An enrolled reseller hears the rule first, whatever it sent: naming a reseller is not the
  // mistake, creating the tenant is (docs/rules.md sections 4 and 7).
  try {
    assertMayAddDirectCustomers(partner.enrollment);
  } catch (error) {
    if (error instanceof DomainError) {
      throw new DomainError(
        'no-new-direct-customers',
        `${error.detail} New customer tenants come from your indirect provider, which creates them for you.`,
      );
    }
    throw error;
  }
  if (indirectResellerId !== undefined) {
    throw validationFailed([
      { path: 'body.indirectResellerId', message: 'only an indirect provider names a reseller' },
    ]);
  }
  return { kind: 'direct' };
}

/**
 * POST /api/me/customers. A direct-bill partner not enrolled creates its own direct customer;
 * a provider creates one for a reseller in partnership (it then shows in both lists). Writes:
 * the domain claim, the customer, then each relationship, each idempotent, so a retry after a
 * crash at any point completes the customer without duplicates.
 */
export async function createCustomer(
  services: Services,
  principal: Principal,
  input: NewCustomer & { indirectResellerId?: string | undefined },
): Promise<CustomerRelationship> {
  const { value: partner } = await loadPartner(services, principal.tenantId);
  const plan = await creationPlan(services, partner, input.indirectResellerId);
  const claim = await claimDomain(services, input.domain, services.ids.newId(), partner.partnerId, {
    untilRelationship: true,
  });
  const now = services.clock.now().toISOString();
  const customer: Customer = {
    type: 'customer',
    id: claim.customerId,
    customerId: claim.customerId,
    companyName: input.companyName,
    domain: input.domain,
    country: input.country,
    adminEmail: input.adminEmail ?? null,
    createdAt: now,
    createdBy: partner.partnerId,
  };
  await createIfMissing(services, customer);
  if (plan.kind === 'direct') {
    const own = relationshipFor(partner.partnerId, customer, 'direct-bill', {
      acquiredAs: 'direct-bill',
      delegatedAdmin: true,
      at: now,
      reason: 'created by the partner',
    });
    await writeRelationship(services, principal, own, customerCreated(services, own));
    return own;
  }
  const reseller = {
    partnerId: plan.reseller.counterpartyId,
    companyName: plan.reseller.counterpartyName,
  };
  const provider = { partnerId: partner.partnerId, companyName: partner.companyName };
  const providerSide = relationshipFor(partner.partnerId, customer, 'indirect-provider', {
    acquiredAs: 'indirect-provider',
    indirectReseller: reseller,
    delegatedAdmin: false,
    at: now,
    reason: `created by the provider for ${reseller.companyName}`,
  });
  const resellerSide = relationshipFor(reseller.partnerId, customer, 'indirect-reseller', {
    acquiredAs: 'indirect-provider',
    indirectProvider: provider,
    delegatedAdmin: true,
    at: now,
    reason: `created by ${provider.companyName}`,
  });
  await writeRelationship(
    services,
    principal,
    resellerSide,
    customerCreated(services, resellerSide),
  );
  await writeRelationship(
    services,
    principal,
    providerSide,
    customerCreated(services, providerSide),
  );
  return providerSide;
}

export { claimDomain, createIfMissing };
