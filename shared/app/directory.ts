import { DomainError } from '../domain/errors';
import type { Partner } from '../domain/partner';
import {
  directoryPartition,
  mpnIndexId,
  mpnPartition,
  providerListing,
  providerListingId,
  type MpnIndexEntry,
} from '../domain/providers';
import { WriteConflict, type Versioned } from './ports';
import type { Services } from './services';

/**
 * How old an MPN ID entry must be before another partner may take it over from a partner whose
 * master record does not hold that ID (a PUT that crashed or was refused after claiming it). An
 * operator PUT ends long before this (the HTTP limit is minutes), so a claim still in progress
 * is never taken.
 */
export const staleMpnClaimMinutes = 60;

/** Who holds an MPN ID, from the ID's own partition: one point read. */
export async function mpnOwner(services: Services, mpnId: string): Promise<MpnIndexEntry | null> {
  return (await readMpnEntry(services, mpnId))?.value ?? null;
}

function readMpnEntry(services: Services, mpnId: string): Promise<Versioned<MpnIndexEntry> | null> {
  return services.partners.getDocument<MpnIndexEntry>(mpnPartition(mpnId), mpnIndexId(mpnId));
}

/** How many times a claim starts over when the entry changed between its read and its write. */
export const claimAttempts = 3;

const taken = (mpnId: string): DomainError =>
  new DomainError('conflict', `MPN ID ${mpnId} is already recorded for another partner.`);

/** An entry left by a partner whose master record never came to hold the ID, or let it go. */
async function isAbandoned(services: Services, entry: MpnIndexEntry): Promise<boolean> {
  const age = services.clock.now().getTime() - Date.parse(entry.claimedAt);
  if (age < staleMpnClaimMinutes * 60_000) return false;
  const owner = await services.partners.get(entry.ownerId);
  return owner?.value.mpnId !== entry.mpnId;
}

/**
 * Claims an MPN ID for a partner before its master record says so (docs/rules.md: an MPN ID
 * identifies one partner). The entry is created, never upserted: of two concurrent claims for
 * different partners Cosmos lets one create succeed and refuses the other with 409, which
 * answers `conflict`. The partner's own entry is taken up again (a rerun after a crash), with
 * its country brought up to date. Returns whether this call created the entry, so a refused
 * write of the master record can let it go again.
 */
export async function claimMpn(
  services: Services,
  partnerId: string,
  mpnId: string,
  country: string,
): Promise<{ created: boolean }> {
  const partition = mpnPartition(mpnId);
  const entry: MpnIndexEntry = {
    type: 'mpn-index',
    id: mpnIndexId(mpnId),
    partnerId: partition,
    mpnId,
    ownerId: partnerId,
    country,
    claimedAt: services.clock.now().toISOString(),
  };
  for (let attempt = 1; attempt <= claimAttempts; attempt += 1) {
    try {
      await services.partners.commit(partition, [{ op: 'create', document: entry }]);
      return { created: true };
    } catch (error) {
      // A create is refused only when the entry exists (409): it sends no etag to go stale.
      if (!(error instanceof WriteConflict)) throw error;
    }
    const existing = await readMpnEntry(services, mpnId);
    if (!existing) continue; // deleted in between: create again
    const own = existing.value.ownerId === partnerId;
    if (!own && !(await isAbandoned(services, existing.value))) throw taken(mpnId);
    if (own && existing.value.country === country) return { created: false };
    try {
      // Guarded by the etag read: a concurrent claim or takeover makes this one start over.
      const claimedAt = own ? existing.value.claimedAt : entry.claimedAt;
      await services.partners.commit(partition, [
        { op: 'replace', document: { ...entry, claimedAt }, etag: existing.etag },
      ]);
      return { created: !own };
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
  throw taken(mpnId);
}

/**
 * Lets go of a partner's MPN ID entry: after its master record moved to another ID, or when the
 * write that was to record it was refused. Only this partner's own entry is deleted, guarded by
 * the etag it was read with; one already gone is fine.
 */
export async function releaseMpn(
  services: Services,
  partnerId: string,
  mpnId: string,
): Promise<void> {
  const existing = await readMpnEntry(services, mpnId);
  if (!existing || existing.value.ownerId !== partnerId) return;
  try {
    await services.partners.commit(mpnPartition(mpnId), [
      { op: 'delete', id: mpnIndexId(mpnId), etag: existing.etag },
    ]);
  } catch (error) {
    // Gone, or taken up again by a newer claim: either way not ours to delete.
    if (!(error instanceof WriteConflict)) throw error;
  }
}

/**
 * Keeps the provider directory in step with a partner's master record (docs/rules.md section 5):
 * an upsert or a delete, so running it again after a crash repairs what the first run left.
 */
export async function syncProviderListing(services: Services, partner: Partner): Promise<void> {
  const listing = providerListing(partner);
  if (listing) {
    await services.partners.commit(directoryPartition, [{ op: 'upsert', document: listing }]);
    return;
  }
  try {
    await services.partners.commit(directoryPartition, [
      { op: 'delete', id: providerListingId(partner.partnerId) },
    ]);
  } catch (error) {
    // A delete without an etag is refused only when the listing is not there (404): fine.
    if (!(error instanceof WriteConflict)) throw error;
  }
}
