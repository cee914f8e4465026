import type { InvitationDocument, InvitationType } from '../domain/link';
import { unknownLink } from '../domain/link';
import { parseLinkToken, sameTokenHash } from './link-tokens';
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
