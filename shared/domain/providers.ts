import { DomainError } from './errors';
import type { InvitationDocument } from './link';
import type { Partner, ProviderService } from './partner';

/**
 * Indirect providers and their resellers (docs/rules.md sections 5 and 6).
 *
 * The provider directory (one listing per provider: small) lives in one shared partition,
 * `directory`, so that listing it is a single-partition query. Which partner holds an MPN ID is
 * one entry per MPN ID, each in a partition of its own (`mpn:<id>`): a point read, a create
 * that answers 409 when the ID is taken, and no partition that grows with the number of
 * partners (docs/capacity.md).
 */
export const directoryPartition = 'directory';
export type MpnPartition = `mpn:${string}`;
export const mpnPartition = (mpnId: string): MpnPartition => `mpn:${mpnId}`;

export interface ProviderListing {
  type: 'provider-listing';
  id: string;
  partnerId: typeof directoryPartition;
  providerId: string;
  companyName: string;
  /** Lower-cased name: the directory is sorted by it. */
  sortName: string;
  regions: string[];
  services: ProviderService[];
}

/** Holds an MPN ID for one partner: created once, never overwritten by another partner. */
export interface MpnIndexEntry {
  type: 'mpn-index';
  id: string;
  partnerId: MpnPartition;
  mpnId: string;
  ownerId: string;
  country: string;
  claimedAt: string;
}

export const providerListingId = (providerId: string): string => `provider-${providerId}`;
export const mpnIndexId = (mpnId: string): string => `mpn-${mpnId}`;

export function providerListing(partner: Partner): ProviderListing | null {
  const program = partner.programs.indirectProvider;
  if (!program) return null;
  return {
    type: 'provider-listing',
    id: providerListingId(partner.partnerId),
    partnerId: directoryPartition,
    providerId: partner.partnerId,
    companyName: partner.companyName,
    sortName: partner.companyName.toLocaleLowerCase('en'),
    regions: program.regions,
    services: program.services,
  };
}

export function isProvider(partner: Partner): boolean {
  return partner.programs.indirectProvider !== undefined;
}

export function assertProvider(partner: Partner): void {
  if (!isProvider(partner)) {
    throw new DomainError('forbidden', 'Only an indirect provider can invite resellers.');
  }
}

/** docs/rules.md section 6: the reseller's country must be among the provider's regions. */
export function assertSameRegion(
  providerRegions: readonly string[],
  resellerCountry: string,
  /** False when the caller is the provider: it must not learn where an MPN ID is based. */
  nameCountry = true,
): void {
  if (!providerRegions.includes(resellerCountry.toUpperCase())) {
    throw new DomainError(
      'region-mismatch',
      nameCountry
        ? `The provider works in ${providerRegions.join(', ')}; a reseller based in ${resellerCountry.toUpperCase()} is outside its regions.`
        : `The reseller with this MPN ID is not based in one of your regions (${providerRegions.join(', ')}).`,
    );
  }
}

/** What a reseller learns of its provider, as it was when the invitation was sent. */
export interface ProviderSnapshot {
  partnerId: string;
  companyName: string;
  mpnId: string | null;
  country: string;
  regions: string[];
  services: ProviderService[];
}

export function providerSnapshot(partner: Partner): ProviderSnapshot {
  return {
    partnerId: partner.partnerId,
    companyName: partner.companyName,
    mpnId: partner.mpnId,
    country: partner.country,
    regions: partner.programs.indirectProvider?.regions ?? [],
    services: partner.programs.indirectProvider?.services ?? [],
  };
}

/** A provider's invitation to a reseller, in the provider's partition. */
export interface ResellerInvitation extends InvitationDocument {
  type: 'reseller-invitation';
  provider: ProviderSnapshot;
  /** The invited reseller's MPN ID: only the tenant holding it may accept. */
  mpnId: string;
  email: string;
  acceptedBy: { partnerId: string; userId: string } | null;
}

/**
 * One side of a partnership, in that side's partition: the reseller's says who its provider is,
 * the provider's says who its reseller is. The id names the other party, so writing a side
 * twice cannot make two.
 */
export interface Partnership {
  type: 'partnership';
  id: string;
  partnerId: string;
  /** This partner's role in the partnership. */
  side: 'reseller' | 'provider';
  counterpartyId: string;
  counterpartyName: string;
  counterpartyMpnId: string | null;
  counterpartyCountry: string;
  counterpartyRegions: string[];
  counterpartyServices: ProviderService[];
  invitationId: string;
  since: string;
  /** docs/rules.md section 8b: a provider may end it; both sides keep it, `ended` (absent: active). */
  status?: 'active' | 'ended';
  endedAt?: string | null;
  /**
   * The provider's pipeline (docs/rules.md section 14), on its side only, each changed with the
   * change it counts: customers the reseller moved to it, transfers waiting for its answer and
   * completed, and when the reseller last did any of these (absent: none yet).
   */
  customersExtended?: number;
  transfersPending?: number;
  transfersCompleted?: number;
  lastActivityAt?: string;
}

export const isActivePartnership = (partnership: Partnership): boolean =>
  (partnership.status ?? 'active') === 'active';

export const partnershipId = (counterpartyId: string): string => `partnership-${counterpartyId}`;

/** A side as read, when it is one: a partnership document on that side. */
const sideOf = (
  document: Partnership | null | undefined,
  side: Partnership['side'],
): Partnership | null =>
  document && document.type === 'partnership' && document.side === side ? document : null;

/**
 * docs/rules.md section 8b: what a check of a partnership finds, from BOTH sides. `none`: the two
 * were never partners (the caller's side is missing); `ended`: either side ended, the other side
 * is missing, or the two sides belong to different partnerships (a new invitation restarted one
 * side only): only two active sides of the same partnership make it `active`.
 */
export function partnershipState(
  resellerSide: Partnership | null | undefined,
  providerSide: Partnership | null | undefined,
  seenBy: Partnership['side'],
): 'active' | 'ended' | 'none' {
  const reseller = sideOf(resellerSide, 'reseller');
  const provider = sideOf(providerSide, 'provider');
  if ((seenBy === 'reseller' ? reseller : provider) === null) return 'none';
  return reseller !== null &&
    provider !== null &&
    isActivePartnership(reseller) &&
    isActivePartnership(provider) &&
    reseller.invitationId === provider.invitationId
    ? 'active'
    : 'ended';
}

/** 409 `partnership-ended`: the partnership this action needs has ended (section 8b). */
export const partnershipEnded = (detail: string): DomainError =>
  new DomainError('partnership-ended', detail);

export function partnershipSides(
  provider: ProviderSnapshot,
  reseller: Partner,
  invitationId: string,
  since: string,
): { providerSide: Partnership; resellerSide: Partnership } {
  return {
    providerSide: {
      type: 'partnership',
      id: partnershipId(reseller.partnerId),
      partnerId: provider.partnerId,
      side: 'provider',
      counterpartyId: reseller.partnerId,
      counterpartyName: reseller.companyName,
      counterpartyMpnId: reseller.mpnId,
      counterpartyCountry: reseller.country,
      counterpartyRegions: [],
      counterpartyServices: [],
      invitationId,
      since,
      status: 'active',
      endedAt: null,
      customersExtended: 0,
      transfersPending: 0,
      transfersCompleted: 0,
      lastActivityAt: since,
    },
    resellerSide: {
      type: 'partnership',
      id: partnershipId(provider.partnerId),
      partnerId: reseller.partnerId,
      side: 'reseller',
      counterpartyId: provider.partnerId,
      counterpartyName: provider.companyName,
      counterpartyMpnId: provider.mpnId,
      counterpartyCountry: provider.country,
      counterpartyRegions: provider.regions,
      counterpartyServices: provider.services,
      invitationId,
      since,
      status: 'active',
      endedAt: null,
    },
  };
}
