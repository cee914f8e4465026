import { DomainError } from './errors';

/**
 * Invitation links (docs/rules.md section 6, decisions): single-use, expiring, revocable, and their
 * secret never stored in clear. These rules are shared by every kind of invitation.
 */
export type LinkStatus = 'active' | 'used' | 'revoked';

export interface LinkState {
  status: LinkStatus;
  expiresAt: string;
}

export function linkExpiry(now: Date, ttlDays: number): string {
  return new Date(now.getTime() + ttlDays * 24 * 3600 * 1000).toISOString();
}

/** The one answer a link gets when it cannot be used: used, revoked, then expired. */
export function linkProblem(link: LinkState, now: Date): DomainError | null {
  if (link.status === 'used') {
    return new DomainError(
      'invitation-used',
      'This invitation has already been accepted; a link works once.',
    );
  }
  if (link.status === 'revoked') {
    return new DomainError('invitation-revoked', 'The sender withdrew this invitation.');
  }
  if (now.getTime() >= Date.parse(link.expiresAt)) {
    return new DomainError('invitation-expired', `This invitation expired on ${link.expiresAt}.`);
  }
  return null;
}

/** How an invitation shows to whoever holds its link (GET /api/*-invitations/{token}). */
export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export function invitationStatus(link: LinkState, now: Date): InvitationStatus {
  const problem = linkProblem(link, now);
  if (!problem) return 'pending';
  if (problem.code === 'invitation-used') return 'accepted';
  return problem.code === 'invitation-revoked' ? 'revoked' : 'expired';
}

/** What a person sees when a link is unknown: the same answer whatever the reason. */
export const unknownLink = (): DomainError =>
  new DomainError(
    'not-found',
    'This link is not valid: it may be incomplete, or it was never issued.',
  );

export type InvitationType = 'reseller-invitation' | 'customer-invitation' | 'incentive-invitation';

/**
 * What every invitation document holds: stored in the inviting partner's partition, with the
 * SHA-256 of its link's secret as its id (never the secret), a public invitationId, and the
 * link's state.
 */
export interface InvitationDocument extends LinkState {
  type: InvitationType;
  id: string;
  partnerId: string;
  invitationId: string;
  tokenHash: string;
  createdAt: string;
  usedAt: string | null;
  revokedAt: string | null;
  /** The language of its email and link page (absent on invitations from before it was kept). */
  language?: 'en' | 'fr';
}
