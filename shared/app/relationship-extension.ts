import { assertActive, partnershipSides } from './provider-partnership';
import {
  extendedToProvider,
  relationshipFor,
  relationshipId,
  type CustomerRelationship,
} from '../domain/customers';
import { DomainError } from '../domain/errors';
import type { EventDocument } from '../domain/events';
import { actorOf, type Principal } from '../domain/principal';
import { assertSameRegion } from '../domain/providers';
import { auditEvent } from '../domain/audit';
import { loadRelationship } from './customers';
import { eventOf } from './events';
import { createOnce, loadPartner } from './partners';
import { WriteConflict } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch, pipelinePatch, readCounts } from './transition-counts';
import { firstTime, relationshipCountChange } from '../domain/transition-counts';

export interface ExtensionInput {
  providerId: string;
  /** Who at the customer agreed, when the reseller records it (else: the attesting user). */
  consentGivenBy?: string | undefined;
  consentGivenAt?: string | undefined;
}

/** The provider's side: the reseller's indirect customer, without delegated admin. */
function providerSide(
  reseller: CustomerRelationship,
  resellerName: string,
  providerId: string,
  at: string,
): CustomerRelationship {
  return relationshipFor(providerId, reseller, 'indirect-provider', {
    acquiredAs: 'indirect-provider',
    indirectReseller: { partnerId: reseller.partnerId, companyName: resellerName },
    delegatedAdmin: false,
    at,
    reason: 'relationship extended by the reseller',
  });
}

/**
 * POST /api/me/customers/{customerId}/relationship-extension (docs/rules.md section 8b): an active reseller
 * extends its direct-bill customer to one of its providers, attesting the customer's consent
 * (kept in the audit trail). The reseller's side is written first (its relationship moves
 * towards the provider, keeping its direct-bill rights); the provider's follows, idempotently:
 * a retry after a crash between the two writes it before answering 409.
 */
export async function extendRelationship(
  services: Services,
  principal: Principal,
  customerId: string,
  input: ExtensionInput,
): Promise<{ reseller: CustomerRelationship; provider: CustomerRelationship }> {
  const resellerId = principal.tenantId;
  const existing = await loadRelationship(services, resellerId, customerId);
  const [{ value: partner }, sides, counts, providerKnows] = await Promise.all([
    loadPartner(services, resellerId),
    partnershipSides(services, { providerId: input.providerId, resellerId }),
    readCounts(services, resellerId),
    // The provider's own relationship with the customer, read now: it decides before any write.
    services.partners.getDocument<CustomerRelationship>(
      input.providerId,
      relationshipId(customerId),
    ),
  ]);
  const relationship = existing.value;
  if (partner.enrollment.status !== 'active') {
    throw new DomainError(
      'action-not-allowed',
      'Only an enrolled, active indirect reseller extends a customer to a provider: complete the enrollment and accept the indirect reseller agreement first.',
    );
  }
  if (relationship.acquiredAs !== 'direct-bill') {
    throw new DomainError(
      'action-not-allowed',
      `${relationship.companyName} is an indirect customer (it came through ${relationship.indirectProvider?.companyName ?? 'an indirect provider'}), not one of your direct-bill customers: there is nothing to extend.`,
    );
  }
  const partnership = assertActive(sides, 'reseller', 'body.providerId');
  assertSameRegion(partnership.value.counterpartyRegions, partner.country);
  const provider = { partnerId: input.providerId, companyName: partnership.value.counterpartyName };
  if (relationship.relationship !== 'direct-bill') {
    if (relationship.indirectProvider?.partnerId === input.providerId) {
      await writeProviderSide(
        services,
        principal,
        relationship,
        partner.companyName,
        input.providerId,
      );
    }
    throw new DomainError(
      'conflict',
      `${relationship.companyName} is already extended to ${relationship.indirectProvider?.companyName ?? 'a provider'}.`,
    );
  }
  // A provider holds one relationship with a customer, through one reseller at most: one that
  // came through another reseller (its invitation or its extension) is never overwritten, and
  // extending to it from here would leave this side extended and the provider's side not ours.
  const held = providerKnows?.value;
  if (held && held.indirectReseller?.partnerId !== resellerId) {
    throw new DomainError(
      'conflict',
      `${relationship.companyName} is already a customer of ${provider.companyName} through another reseller: a provider takes each customer through one reseller, so it cannot be extended to ${provider.companyName} from your side.`,
    );
  }
  const now = services.clock.now();
  const extended = extendedToProvider(relationship, provider, now.toISOString());
  const consent = `consent attested by ${principal.name} (${principal.userId}); given by ${input.consentGivenBy ?? 'the customer'} on ${input.consentGivenAt ?? now.toISOString()}`;
  try {
    await commitCounting(services, resellerId, [
      { op: 'replace', document: extended, etag: existing.etag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          resellerId,
          now,
          actorOf(principal),
          'relationship-extended',
          {
            from: 'direct-bill',
            to: 'indirect-reseller',
            reason: `customer ${customerId} (${relationship.companyName}) extended to ${provider.companyName}, bill-to details shared; ${consent}`,
          },
        ),
      },
      {
        op: 'create',
        document: extendedEvent(services, resellerId, extended, {
          providerId: input.providerId,
          resellerId,
        }),
      },
      // Counted with the move (docs/rules.md section 14).
      ...countsPatch(
        firstTime(relationshipCountChange(relationship, extended, now.toISOString()), counts),
      ),
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
    throw new DomainError('conflict', 'The customer changed meanwhile; read it and try again.');
  }
  const written = await writeProviderSide(
    services,
    principal,
    extended,
    partner.companyName,
    input.providerId,
  );
  return { reseller: extended, provider: written };
}

async function writeProviderSide(
  services: Services,
  principal: Principal,
  reseller: CustomerRelationship,
  resellerName: string,
  providerId: string,
): Promise<CustomerRelationship> {
  const at = services.clock.now().toISOString();
  const side = providerSide(reseller, resellerName, providerId, at);
  await createOnce(
    services,
    principal,
    side,
    'customer-relationship-extended',
    {
      to: 'indirect-provider',
      reason: `customer ${side.customerId} (${side.companyName}) of reseller ${reseller.partnerId}: bill-to details shared, no delegated admin`,
    },
    [extendedEvent(services, providerId, side, { providerId, resellerId: reseller.partnerId })],
    // The provider's pipeline counts the customer once, with its side of the relationship.
    pipelinePatch(reseller.partnerId, { customersExtended: 1, at }),
  );
  return side;
}

/** `relationship.extended` for one side, written with that side's relationship. */
function extendedEvent(
  services: Services,
  partnerId: string,
  relationship: CustomerRelationship,
  pair: { providerId: string; resellerId: string },
): EventDocument {
  return eventOf(services, partnerId, 'relationship.extended', {
    customerId: relationship.customerId,
    companyName: relationship.companyName,
    ...pair,
  });
}
