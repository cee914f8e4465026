import { DomainError } from '../domain/errors';
import type { Partner } from '../domain/partner';
import {
  directoryPartition,
  mpnIndexId,
  providerListing,
  providerListingId,
  type MpnIndexEntry,
} from '../domain/providers';
import { WriteConflict, type PartnerDocument, type WriteOperation } from './ports';
import type { Services } from './services';

/** Who holds an MPN ID, from the directory partition: one point read. */
export async function mpnOwner(services: Services, mpnId: string): Promise<MpnIndexEntry | null> {
  const found = await services.partners.getDocument<MpnIndexEntry>(
    directoryPartition,
    mpnIndexId(mpnId),
  );
  return found?.value ?? null;
}

/** An MPN ID identifies one partner: recording it for a second one is a conflict. */
export async function assertMpnAvailable(
  services: Services,
  partnerId: string,
  mpnId: string | null,
): Promise<void> {
  if (mpnId === null) return;
  const owner = await mpnOwner(services, mpnId);
  if (owner && owner.ownerId !== partnerId) {
    throw new DomainError('conflict', `MPN ID ${mpnId} is already recorded for another partner.`);
  }
}

async function tolerateMissing(write: Promise<unknown>): Promise<void> {
  try {
    await write;
  } catch (error) {
    if (!(error instanceof WriteConflict && error.reason === 'missing')) throw error;
  }
}

/**
 * Keeps the directory partition in step with a partner's master record: its provider listing
 * (docs/rules.md section 5) and its MPN ID entry. Every write is an upsert or a delete, so running
 * it again after a crash repairs whatever the first run left undone.
 */
export async function syncDirectory(
  services: Services,
  partner: Partner,
  previousMpnId: string | null,
): Promise<void> {
  const listing = providerListing(partner);
  const writes: Promise<unknown>[] = [];
  const write = (operation: WriteOperation<PartnerDocument>): Promise<unknown> =>
    services.partners.commit(directoryPartition, [operation]);
  writes.push(
    listing
      ? write({ op: 'upsert', document: listing })
      : tolerateMissing(write({ op: 'delete', id: providerListingId(partner.partnerId) })),
  );
  if (partner.mpnId !== null) {
    const entry: MpnIndexEntry = {
      type: 'mpn-index',
      id: mpnIndexId(partner.mpnId),
      partnerId: directoryPartition,
      mpnId: partner.mpnId,
      ownerId: partner.partnerId,
      country: partner.country,
    };
    writes.push(write({ op: 'upsert', document: entry }));
  }
  if (previousMpnId !== null && previousMpnId !== partner.mpnId) {
    writes.push(tolerateMissing(write({ op: 'delete', id: mpnIndexId(previousMpnId) })));
  }
  await Promise.all(writes);
}
