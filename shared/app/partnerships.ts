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
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import { countEmails } from './rate-limit';
import { revokeInvitation } from './reseller-invitations';
import type { Services } from './services';
import { commitCounting, countsPatch } from './transition-counts';
import { cancelTransfersBetween } from './transfers';

/** How often the end is counted again when concurrent actions moved the hourly counter. */
const countAttempts = 10;

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
 * partnership. Its side first (with the reseller's email), then the reseller's, then the
 * provider's invitations still open to that reseller are revoked and the pending transfers
 * between the two cancelled; each step idempotent, so ending again after a crash completes what
 * is missing. Customers stay where they are; both sides keep the partnership, `ended`, and only
 * a new invitation may start it again.
 */
export async function endPartnership(
  services: Services,
  principal: Principal,
  resellerId: string,
): Promise<{ partnership: Partnership; cancelledTransfers: string[] }> {
  const providerId = principal.tenantId;
  const found = await loadSide(services, providerId, resellerId, 'provider');
  if (!found) throw notFound('The partnership');
  const pending = await services.partners.pendingTransfersWith(providerId, resellerId);
  const ended = isActivePartnership(found.value)
    ? await endProviderSide(services, principal, found, pending.length)
    : found.value;
  await endResellerSide(services, principal, resellerId, providerId, ended.endedAt!);
  await revokeOpenInvitations(services, principal, ended);
  const cancelledTransfers = await cancelTransfersBetween(services, principal, resellerId, pending);
  return { partnership: ended, cancelledTransfers };
}

/**
 * The provider's side ended, with the email to the reseller, in one batch. Its emails, and those
 * of the transfers the end cancels, count against the provider's hourly allowance, but never
 * refuse the end (docs/rules.md section 13): a provider must always be able to stop.
 */
async function endProviderSide(
  services: Services,
  principal: Principal,
  found: Versioned<Partnership>,
  pendingTransfers: number,
): Promise<Partnership> {
  const providerId = principal.tenantId;
  const resellerId = found.value.counterpartyId;
  const now = services.clock.now();
  const ended: Partnership = { ...found.value, status: 'ended', endedAt: now.toISOString() };
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
  const writes: WriteOperation<PartnerDocument>[] = [
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
  ];
  // Each cancelled transfer emails both partners.
  const emails = email.length + 2 * pendingTransfers;
  for (let attempt = 1; ; attempt += 1) {
    const counted = await countEmails(services, providerId, now, { emails }, 'allowed');
    try {
      await services.partners.commit(providerId, [counted, ...writes]);
      return ended;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      if (error.index === 1)
        throw new DomainError('conflict', 'The partnership changed meanwhile; try again.');
      if (attempt >= countAttempts) throw error;
    }
  }
}

/**
 * The provider's invitations to that reseller still open when the partnership ended are
 * revoked: an invitation sent before the end never starts it again (section 8b). One sent
 * after the end is a new invitation, and is left alone when ending is repeated.
 */
async function revokeOpenInvitations(
  services: Services,
  principal: Principal,
  ended: Partnership,
): Promise<void> {
  if (!ended.counterpartyMpnId) return;
  const open = await services.partners.openInvitationsTo(ended.partnerId, ended.counterpartyMpnId);
  for (const found of open) {
    if (found.value.createdAt >= ended.endedAt!) continue;
    await revokeInvitation(
      services,
      principal,
      found,
      `invitation ${found.value.invitationId}: the partnership ended`,
    );
  }
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
