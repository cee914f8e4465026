import { auditEvent } from '../domain/audit';
import { DomainError, notFound } from '../domain/errors';
import { isEnrolled } from '../domain/enrollment';
import { linkProblem } from '../domain/link';
import { preferredLanguage, type Language, type Partner } from '../domain/partner';
import { actorOf, type Principal } from '../domain/principal';
import {
  assertProvider,
  assertSameRegion,
  isActivePartnership,
  partnershipId,
  partnershipSides,
  providerSnapshot,
  type Partnership,
  type ResellerInvitation,
} from '../domain/providers';
import { mpnOwner } from './directory';
import { partnerInvitationEmail } from './emails/partner-invitation-email';
import { eventOf } from './events';
import { queue } from './outbox';
import { findInvitation, openInvitation } from './invitations';
import { createOnce, loadPartner } from './partners';
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import { countEmails } from './rate-limit';
import type { Services } from './services';
import { commitCounting, countsPatch, readCounts } from './transition-counts';
import { firstTime } from '../domain/transition-counts';

export const partnerInvitationLink = (services: Services, token: string): string =>
  `${services.config.links.publicBaseUrl}/api/links/partner-invitations#${token}`;

const frenchCountries = new Set(['FR', 'BE', 'LU', 'MC']);

/** How often an invitation is counted again when concurrent ones moved the hourly counter. */
const countAttempts = 10;

/**
 * POST /api/me/reseller-invitations (docs/rules.md section 6): the invitation, its email, its audit
 * event and the hourly count of invitation emails in one batch in the provider's partition. The
 * token leaves only in the answer and the email; what is stored is its hash.
 */
export async function inviteReseller(
  services: Services,
  principal: Principal,
  input: { mpnId: string; email: string },
): Promise<{ invitation: ResellerInvitation; link: string }> {
  const { value: provider } = await loadPartner(services, principal.tenantId);
  assertProvider(provider);
  const snapshot = providerSnapshot(provider);
  if (input.mpnId === provider.mpnId)
    throw new DomainError('conflict', 'A provider cannot invite itself.');
  const [reseller, existing] = await Promise.all([
    mpnOwner(services, input.mpnId),
    services.partners.partnershipWithMpn(provider.partnerId, input.mpnId),
  ]);
  if (existing && isActivePartnership(existing)) {
    throw new DomainError(
      'conflict',
      `The reseller with MPN ID ${input.mpnId} is already in partnership with you.`,
    );
  }
  // The region rule is applied when the reseller accepts, not here: refusing now would tell a
  // provider that an MPN ID belongs to a registered partner outside its regions.

  const now = services.clock.now();
  const opened = openInvitation(services, provider.partnerId, 'reseller-invitation', now);
  const invitation: ResellerInvitation = {
    ...opened.document,
    provider: snapshot,
    mpnId: input.mpnId,
    email: input.email,
    acceptedBy: null,
  };
  const link = partnerInvitationLink(services, opened.token);
  const language: Language = reseller
    ? frenchCountries.has(reseller.country)
      ? 'fr'
      : 'en'
    : preferredLanguage(provider);
  invitation.language = language;
  const email = partnerInvitationEmail(snapshot, input.email, language, link, invitation.expiresAt);
  const documents: PartnerDocument[] = [
    invitation,
    queue(services, provider.partnerId, 'partner-invitation', email),
    auditEvent(
      services.ids.newId(),
      provider.partnerId,
      now,
      actorOf(principal),
      'reseller-invited',
      {
        reason: `invitation ${invitation.invitationId} to MPN ID ${input.mpnId}`,
      },
    ),
    eventOf(services, provider.partnerId, 'partnership.invited', {
      invitationId: invitation.invitationId,
      resellerMpnId: input.mpnId,
      expiresAt: invitation.expiresAt,
    }),
  ];
  for (let attempt = 1; ; attempt += 1) {
    // The hourly counter goes first: over the limit, or raced by another invitation, it is
    // refused and nothing of this batch is written.
    const counted = await countEmails(services, provider.partnerId, now, {
      emails: 1,
      invitations: 1,
    });
    try {
      await services.partners.commit(provider.partnerId, [
        counted,
        ...documents.map((document) => ({ op: 'create' as const, document })),
      ]);
      break;
    } catch (error) {
      if (!(error instanceof WriteConflict && error.index === 0) || attempt >= countAttempts)
        throw error;
    }
  }
  return { invitation, link };
}

/** DELETE /api/me/reseller-invitations/{id}: the provider withdraws a pending invitation. */
export async function revokeResellerInvitation(
  services: Services,
  principal: Principal,
  invitationId: string,
): Promise<ResellerInvitation> {
  for (;;) {
    const found = await services.partners.invitationById<ResellerInvitation>(
      principal.tenantId,
      'reseller-invitation',
      invitationId,
    );
    if (!found) throw notFound('The invitation');
    const invitation = found.value;
    if (invitation.status === 'revoked') return invitation;
    if (invitation.status === 'used') {
      throw new DomainError(
        'conflict',
        'The invitation has been accepted already; it can no longer be revoked.',
      );
    }
    const revoked = await revokeInvitation(
      services,
      principal,
      found,
      `invitation ${invitationId}`,
    );
    // Accepted or revoked meanwhile: read it again and answer from what it is now.
    if (revoked) return revoked;
  }
}

/**
 * Revokes an open invitation, with its audit event and `partnership.revoked`, in one batch in
 * the provider's partition; null when it changed meanwhile (accepted or revoked first).
 */
export async function revokeInvitation(
  services: Services,
  principal: Principal,
  found: Versioned<ResellerInvitation>,
  reason: string,
): Promise<ResellerInvitation | null> {
  const invitation = found.value;
  const now = services.clock.now();
  const revoked: ResellerInvitation = {
    ...invitation,
    status: 'revoked',
    revokedAt: now.toISOString(),
  };
  try {
    await services.partners.commit(invitation.partnerId, [
      { op: 'replace', document: revoked, etag: found.etag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          invitation.partnerId,
          now,
          actorOf(principal),
          'reseller-invitation-revoked',
          { reason },
        ),
      },
      {
        op: 'create',
        document: eventOf(services, invitation.partnerId, 'partnership.revoked', {
          invitationId: invitation.invitationId,
          resellerMpnId: invitation.mpnId,
        }),
      },
    ]);
    return revoked;
  } catch (error) {
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
    return null;
  }
}

function assertMayAccept(reseller: Partner, invitation: ResellerInvitation): void {
  if (reseller.mpnId !== invitation.mpnId) {
    throw new DomainError(
      'wrong-tenant',
      'This invitation was sent to another partner: it can only be accepted by the tenant holding the invited MPN ID.',
    );
  }
  if (!isEnrolled(reseller.enrollment)) {
    throw new DomainError(
      'forbidden',
      'Enroll as an indirect reseller before accepting a provider’s invitation.',
    );
  }
  assertSameRegion(invitation.provider.regions, reseller.country);
}

/**
 * Writes the reseller's side of the partnership; writing it twice leaves one. A side that ended
 * (docs/rules.md section 8b) is started again only by the accept that consumed a new invitation.
 */
async function writeResellerSide(
  services: Services,
  principal: Principal,
  side: Partnership,
): Promise<void> {
  // One more provider for the reseller's transition (docs/rules.md section 14), counted with
  // the side that makes it; the first one says since when the step is done.
  const counted = countsPatch(
    firstTime(
      { providers: 1, moments: { firstPartnershipAt: side.since } },
      await readCounts(services, side.partnerId),
    ),
  );
  const created = await createOnce(
    services,
    principal,
    side,
    'provider-partnership-created',
    { reason: `with provider ${side.counterpartyId} (${side.counterpartyName})` },
    [acceptedEvent(services, side)],
    counted,
  );
  if (!created)
    await restartIfEnded(services, principal, side, 'provider-partnership-created', counted);
}

/**
 * A used link accepted again by the reseller that used it (a retry after a crash between the two
 * sides): its side is completed only while the provider's side is active for this very
 * invitation. Once the provider ended the partnership, the replay writes nothing (section 8b).
 */
async function completeResellerSide(
  services: Services,
  principal: Principal,
  side: Partnership,
): Promise<void> {
  const providerSide = await services.partners.getDocument<Partnership>(
    side.counterpartyId,
    partnershipId(side.partnerId),
  );
  if (
    !providerSide ||
    // Stryker disable next-line ConditionalExpression: the id partnership-<resellerId> in a provider's partition is only ever written as a partnership
    providerSide.value.type !== 'partnership' ||
    !isActivePartnership(providerSide.value) ||
    providerSide.value.invitationId !== side.invitationId
  )
    return;
  await writeResellerSide(services, principal, { ...side, since: providerSide.value.since });
}

/** `partnership.accepted`, for the side being written (docs/rules.md section 11: both sides). */
function acceptedEvent(services: Services, side: Partnership): PartnerDocument {
  const [providerId, resellerId] =
    side.side === 'provider'
      ? [side.partnerId, side.counterpartyId]
      : [side.counterpartyId, side.partnerId];
  return eventOf(services, side.partnerId, 'partnership.accepted', {
    providerId,
    resellerId,
    invitationId: side.invitationId,
  });
}

/** Replaces an ended side of a partnership by the new one (with its audit event), once. */
async function restartIfEnded(
  services: Services,
  principal: Principal,
  side: Partnership,
  action: string,
  counted: WriteOperation<PartnerDocument>[],
): Promise<void> {
  const found = await services.partners.getDocument<Partnership>(side.partnerId, side.id);
  // Ended by this very invitation's partnership: it stays ended (section 8b).
  if (!found || isActivePartnership(found.value) || found.value.invitationId === side.invitationId)
    return;
  try {
    await commitCounting(services, side.partnerId, [
      { op: 'replace', document: side, etag: found.etag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          side.partnerId,
          services.clock.now(),
          actorOf(principal),
          action,
          { reason: `again with ${side.counterpartyId} (${side.counterpartyName})` },
        ),
      },
      { op: 'create', document: acceptedEvent(services, side) },
      ...counted,
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
  }
}

/**
 * POST /api/partner-invitations/{token}/accept. The link is consumed in the provider's
 * partition, in one batch with the provider's side of the partnership: of many concurrent
 * accepts exactly one wins that batch. The reseller's side follows; if the process dies in
 * between, any later accept of the same link by the same reseller writes it (idempotently)
 * before answering that the link was used.
 */
export async function acceptResellerInvitation(
  services: Services,
  principal: Principal,
  token: string,
): Promise<Partnership> {
  const [found, { value: reseller }] = await Promise.all([
    findInvitation<ResellerInvitation>(services, token, 'reseller-invitation'),
    loadPartner(services, principal.tenantId).catch((error: unknown) => {
      // Stryker disable next-line ConditionalExpression: the only domain error loadPartner throws is not-found (the repositories throw none)
      if (error instanceof DomainError && error.code === 'not-found') {
        throw new DomainError(
          'wrong-tenant',
          'This invitation is for an indirect reseller; your tenant is not a partner.',
        );
      }
      throw error;
    }),
  ]);
  const invitation = found.value;
  const now = services.clock.now();
  const { providerSide, resellerSide } = partnershipSides(
    invitation.provider,
    reseller,
    invitation.invitationId,
    now.toISOString(),
  );
  const problem = linkProblem(invitation, now);
  if (problem) {
    // Stryker disable ConditionalExpression,LogicalOperator: calling completeResellerSide in more cases only adds a read; it writes only when the provider's side is active for this very invitation, which the batch marking the link used by this reseller wrote
    if (
      problem.code === 'invitation-used' &&
      invitation.acceptedBy?.partnerId === reseller.partnerId
    ) {
      // Stryker restore ConditionalExpression,LogicalOperator
      await completeResellerSide(services, principal, resellerSide);
    }
    throw problem;
  }
  assertMayAccept(reseller, invitation);
  const used: ResellerInvitation = {
    ...invitation,
    status: 'used',
    usedAt: now.toISOString(),
    acceptedBy: { partnerId: reseller.partnerId, userId: principal.userId },
  };
  try {
    // The partnership's create goes first: it is the guard that concurrent accepts collide on,
    // and a refused first operation writes nothing even on the embedded emulator.
    await services.partners.commit(invitation.partnerId, [
      { op: 'create', document: providerSide },
      { op: 'replace', document: used, etag: found.etag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          invitation.partnerId,
          now,
          actorOf(principal),
          'reseller-partnership-created',
          {
            reason: `with reseller ${reseller.partnerId} (${reseller.companyName}) by invitation ${invitation.invitationId}`,
          },
        ),
      },
      { op: 'create', document: acceptedEvent(services, providerSide) },
    ]);
  } catch (error) {
    if (!(error instanceof WriteConflict)) throw error;
    // A partnership that ended may start again: the new side replaces the ended one.
    if (
      // Stryker disable next-line ConditionalExpression: a conflict at a later index means the provider's side was created, so restartWithInvitation finds none ended, and its batch on the same stale invitation etag writes nothing
      error.index === 0 &&
      (await restartWithInvitation(services, principal, providerSide, used, found.etag))
    ) {
      await writeResellerSide(services, principal, resellerSide);
      return resellerSide;
    }
    // Another request consumed or revoked the link first, or the two are partners already.
    const latest = await findInvitation<ResellerInvitation>(services, token, 'reseller-invitation');
    const latestProblem = linkProblem(latest.value, now);
    if (latestProblem) throw latestProblem;
    if (error.index === 0) {
      throw new DomainError(
        'conflict',
        `${reseller.companyName} is already in partnership with ${invitation.provider.companyName}.`,
      );
    }
    throw new DomainError(
      'conflict',
      'The invitation changed while it was being accepted; try again.',
    );
  }
  await writeResellerSide(services, principal, resellerSide);
  return resellerSide;
}

/** The provider's side restarted over an ended one, in one batch with the link's use. */
async function restartWithInvitation(
  services: Services,
  principal: Principal,
  providerSide: Partnership,
  used: ResellerInvitation,
  invitationEtag: string,
): Promise<boolean> {
  const found = await services.partners.getDocument<Partnership>(
    providerSide.partnerId,
    partnershipId(providerSide.counterpartyId),
  );
  if (!found || isActivePartnership(found.value)) return false;
  // Only an invitation sent after the end starts the partnership again: one sent before it was
  // revoked by the end (section 8b), even when this accept read it just before.
  // Stryker disable next-line StringLiteral: both ends of a partnership (partnerships.ts) set endedAt, so an ended side always has one
  if (used.createdAt < (found.value.endedAt ?? '')) {
    throw new DomainError('invitation-revoked', 'The sender withdrew this invitation.');
  }
  // The pipeline keeps what the reseller did before the partnership ended.
  const restarted: Partnership = {
    ...providerSide,
    customersExtended: found.value.customersExtended ?? 0,
    transfersPending: found.value.transfersPending ?? 0,
    transfersCompleted: found.value.transfersCompleted ?? 0,
  };
  try {
    await services.partners.commit(providerSide.partnerId, [
      { op: 'replace', document: restarted, etag: found.etag },
      { op: 'replace', document: used, etag: invitationEtag },
      {
        op: 'create',
        document: auditEvent(
          services.ids.newId(),
          providerSide.partnerId,
          services.clock.now(),
          actorOf(principal),
          'reseller-partnership-created',
          {
            reason: `again with reseller ${providerSide.counterpartyId} by invitation ${used.invitationId}`,
          },
        ),
      },
      { op: 'create', document: acceptedEvent(services, providerSide) },
    ]);
    return true;
  } catch (error) {
    if (error instanceof WriteConflict) return false;
    throw error;
  }
}

export async function listPartnerships(
  services: Services,
  partnerId: string,
  side: Partnership['side'],
  page: { pageSize: number; continuationToken?: string | undefined },
  status?: 'active' | 'ended',
): Promise<{ items: Partnership[]; continuationToken: string | null }> {
  return status === undefined
    ? services.partners.partnerships(partnerId, side, page)
    : services.partners.partnershipsWithStatus(partnerId, side, status, page);
}

export type { Versioned };
