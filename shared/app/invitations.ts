import type { InvitationDocument, InvitationType } from '../domain/link';
import { linkExpiry, unknownLink } from '../domain/link';
import { issueLinkToken, parseLinkToken, sameTokenHash } from './link-tokens';
import type { Versioned } from './ports';
import type { Services } from './services';

/**
 * Resolves a link token to its invitation with one point read. Anything that does not resolve
 * to an invitation of the expected kind is "unknown" (404), whatever the reason.
 */
export async function findInvitation<T extends InvitationDocument>(
  services: Services,
  token: string,
  type: InvitationType,
): Promise<Versioned<T>> {
  const parsed = parseLinkToken(token);
  if (!parsed) throw unknownLink();
  const found = await services.partners.getDocument<T>(parsed.partitionKey, parsed.documentId);
  if (
    !found ||
    found.value.type !== type ||
    !sameTokenHash(found.value.tokenHash, parsed.tokenHash)
  ) {
    throw unknownLink();
  }
  return found;
}

/**
 * A new invitation's link and the fields every invitation document shares: a fresh token for
 * the inviting partner's partition, its hash as the document id, active until it expires.
 */
export function openInvitation<K extends InvitationType>(
  services: Services,
  partnerId: string,
  type: K,
  now: Date,
): { token: string; document: InvitationDocument & { type: K } } {
  const issued = issueLinkToken(partnerId);
  return {
    token: issued.token,
    document: {
      type,
      id: issued.documentId,
      partnerId,
      invitationId: services.ids.newId(),
      tokenHash: issued.tokenHash,
      status: 'active',
      expiresAt: linkExpiry(now, services.config.links.ttlDays),
      createdAt: now.toISOString(),
      usedAt: null,
      revokedAt: null,
    },
  };
}
