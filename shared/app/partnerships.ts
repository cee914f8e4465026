import { auditEvent } from '../domain/audit';
import { DomainError, notFound } from '../domain/errors';
import { contactEmailOf, preferredLanguage } from '../domain/partner';
import { actorOf, type Principal } from '../domain/principal';
import { isActivePartnership, partnershipId, type Partnership } from '../domain/providers';
import { partnershipEndedEmail } from './emails/transfer-emails';
import { eventOf } from './events';
import { landingLink } from './links';
import { queue } from './outbox';
import { loadPartner } from './partners';
import { WriteConflict, type PartnerDocument, type Versioned } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch } from './transition-counts';
import { cancelTransfersBetween } from './transfers';

async function loadSide(
  services: Services,
  partnerId: string,
  counterpartyId: string,
  side: Partnership['side'],
): Promise<Versioned<Partnership> | null> {
  const found = await services.partners.getDocument<Partnership>(
    partnerId,
    partnershipId(counterpartyId),
  );
  return found && found.value.type === 'partnership' && found.value.side === side ? found : null;
}

/**
 * DELETE /api/me/indirect-resellers/{resellerId} (docs/rules.md section 8b): the provider ends the
 * partnership. Its side first (with the reseller's email), then the reseller's, then the pending
 * transfers between the two are cancelled; each step idempotent, so ending again after a crash
 * completes what is missing. Customers stay where they are; both sides keep the partnership,
 * `ended`, and a new invitation may start it again.
 */
export async function endPartnership(
  services: Services,
  principal: Principal,
  resellerId: string,
): Promise<{ partnership: Partnership; cancelledTransfers: string[] }> {
  const providerId = principal.tenantId;
  const found = await loadSide(services, providerId, resellerId, 'provider');
  if (!found) throw notFound('The partnership');
  let ended = found.value;
  if (isActivePartnership(found.value)) {
    const now = services.clock.now();
    ended = { ...found.value, status: 'ended', endedAt: now.toISOString() };
    const [{ value: provider }, reseller] = await Promise.all([
      loadPartner(services, providerId),
      services.partners.get(resellerId),
    ]);
    const to = contactEmailOf(reseller?.value);
    const email: PartnerDocument[] =
      reseller && to
        ? [
            queue(
              services,
              providerId,
              'partnership-ended',
              partnershipEndedEmail(
                provider.companyName,
                reseller.value.companyName,
                to,
                preferredLanguage(reseller.value),
                landingLink(services.config, 'partnerships'),
              ),
            ),
          ]
        : [];
    try {
      await services.partners.commit(providerId, [
        { op: 'replace', document: ended, etag: found.etag },
        {
          op: 'create',
          document: auditEvent(
            services.ids.newId(),
            providerId,
            now,
            actorOf(principal),
            'reseller-partnership-ended',
            { from: 'active', to: 'ended', reason: `with reseller ${resellerId}` },
          ),
        },
        {
          op: 'create',
          document: eventOf(services, providerId, 'partnership.ended', {
            providerId,
            resellerId,
            endedAt: ended.endedAt!,
          }),
        },
        ...email.map((document) => ({ op: 'create' as const, document })),
      ]);
    } catch (error) {
      if (!(error instanceof WriteConflict && error.index === 0)) throw error;
      throw new DomainError('conflict', 'The partnership changed meanwhile; try again.');
    }
  }
  await endResellerSide(services, principal, resellerId, providerId, ended.endedAt!);
  const cancelledTransfers = await cancelTransfersBetween(
    services,
    principal,
    providerId,
    resellerId,
  );
  return { partnership: ended, cancelledTransfers };
}

async function endResellerSide(
  services: Services,
  principal: Principal,
  resellerId: string,
  providerId: string,
  endedAt: string,
): Promise<void> {
  const found = await loadSide(services, resellerId, providerId, 'reseller');
  if (!found || !isActivePartnership(found.value)) return;
  try {
    await commitCounting(services, resellerId, [
      { op: 'replace', document: { ...found.value, status: 'ended', endedAt }, etag: found.etag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          resellerId,
          services.clock.now(),
          actorOf(principal),
          'provider-partnership-ended',
          { from: 'active', to: 'ended', reason: `by provider ${providerId}` },
        ),
      },
      {
        op: 'create',
        document: eventOf(services, resellerId, 'partnership.ended', {
          providerId,
          resellerId,
          endedAt,
        }),
      },
      // One provider fewer for the reseller's transition (docs/rules.md section 14).
      ...countsPatch({ providers: -1, moments: { lastPartnershipEndedAt: endedAt } }),
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
  }
}
