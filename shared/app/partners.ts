import { isDeepStrictEqual } from 'node:util';
import { auditEvent } from '../domain/audit';
import { DomainError, notFound, validationFailed } from '../domain/errors';
import {
  newPartner,
  resumeHeldInvitation,
  type MasterRecord,
  type Partner,
  type PartnerProfile,
} from '../domain/partner';
import { actorOf, type Actor, type Principal } from '../domain/principal';
import { emptyCounts } from '../domain/transition-counts';
import { claimMpn, releaseMpn, syncProviderListing } from './directory';
import { sameEtag } from './etag';
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import type { Services } from './services';
import { commitCounting } from './transition-counts';

/** How many times an optimistic write is retried when another request got there first. */
const optimisticAttempts = 5;

export async function loadPartner(
  services: Services,
  partnerId: string,
): Promise<Versioned<Partner>> {
  const found = await services.partners.get(partnerId);
  if (!found) throw notFound('No partner record exists for this tenant; it');
  return found;
}

/**
 * Refuses a stale If-Match (one etag, `*`, or a list of them) with 412 before anything is written.
 * `current` null: no record exists yet, so no etag matches (not even an empty one); `*` passes.
 */
export function checkIfMatch(ifMatch: string | undefined, current: string | null): void {
  if (ifMatch === undefined) return;
  // Stryker disable next-line MethodExpression: the HTTP layer hands over a lone * or a list of etags, and sameEtag trims each
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  if (!tags.some((tag) => tag === '*' || (current !== null && sameEtag(tag, current)))) {
    throw new DomainError(
      'precondition-failed',
      'The record changed since you read it (If-Match does not match its etag); read it again.',
    );
  }
}

/** What a change writes: the partner, documents to create, and documents to replace. */
export interface PartnerChange<T> {
  partner: Partner | null;
  also?: PartnerDocument[];
  /** Other documents of the partition to replace, each guarded by the etag it was read with. */
  replace?: Versioned<PartnerDocument>[];
  result: T;
}

/**
 * Reads the partner, lets `change` decide what to write, and commits it in one batch guarded
 * by the partner's etag; `partner: null` means nothing to write. When another request changed
 * the partner in between, it starts over from a fresh read, unless the caller pinned a version with If-Match (then 412).
 * A caller that has just read the partner passes it as `known`: the first attempt uses it
 * instead of reading again (the etag guard still refuses it if it is stale).
 */
export async function changePartner<T>(
  services: Services,
  partnerId: string,
  ifMatch: string | undefined,
  change: (current: Versioned<Partner>) => PartnerChange<T> | Promise<PartnerChange<T>>,
  known?: Versioned<Partner>,
): Promise<{ partner: Versioned<Partner>; result: T }> {
  for (let attempt = 1; ; attempt += 1) {
    const current =
      attempt === 1 && known !== undefined ? known : await loadPartner(services, partnerId);
    checkIfMatch(ifMatch, current.etag);
    const { partner, also = [], replace = [], result } = await change(current);
    // Nothing to change (an idempotent repeat): no write at all.
    if (partner === null) return { partner: current, result };
    const operations: WriteOperation<PartnerDocument>[] = [
      {
        op: 'replace',
        document: { type: 'partner', id: partnerId, ...partner },
        etag: current.etag,
      },
      ...also.map((document) => ({ op: 'create' as const, document })),
      ...replace.map(({ value: document, etag }) => ({ op: 'replace' as const, document, etag })),
    ];
    try {
      const etag = await services.partners.commit(partnerId, operations);
      return { partner: { value: partner, etag: etag ?? current.etag }, result };
    } catch (error) {
      if (!(error instanceof WriteConflict) || error.index !== 0) throw error;
      // The caller's If-Match went stale: 412. Without one, the caller asked for nothing stale,
      // so busy concurrent writers are a 409 conflict to retry, not a precondition. (The HTTP
      // layer hands over * only alone and trimmed: a list holds etags only.)
      if (ifMatch !== undefined && ifMatch !== '*') {
        throw new DomainError(
          'precondition-failed',
          'The record changed while saving; read it again.',
        );
      }
      if (attempt >= optimisticAttempts) {
        throw new DomainError(
          'conflict',
          'The record was changed by several requests at once; try again.',
        );
      }
    }
  }
}

/**
 * PUT /api/operator/partners/{partnerId}: creates the master record or updates it. A new MPN
 * ID is claimed first (a create-only entry: of two partners given the same ID at once, one
 * wins and the other gets 409 with nothing written), then the record is written, then the
 * provider listing is brought in step and the ID the record no longer holds is let go. A
 * repeated PUT completes whatever a crash between these steps left.
 */
export async function putMasterRecord(
  services: Services,
  operator: Principal,
  partnerId: string,
  record: MasterRecord,
  ifMatch: string | undefined,
): Promise<{ partner: Versioned<Partner>; created: boolean }> {
  const existing = await services.partners.get(partnerId);
  // A stale If-Match is refused before anything is claimed (none and * pass).
  checkIfMatch(ifMatch, existing?.etag ?? null);
  // The record already holding this ID (and country) means its entry is this partner's.
  const { mpnId } = record;
  const claim =
    // Stryker disable next-line ConditionalExpression: a record holding this ID and country has its own entry (claimed before the record is written), which claimMpn finds and leaves: created false, nothing written
    mpnId !== null && (existing?.value.mpnId !== mpnId || existing.value.country !== record.country)
      ? await claimMpn(services, partnerId, mpnId, record.country)
      : { created: false };
  let written: Awaited<ReturnType<typeof writeMasterRecord>>;
  try {
    written = await writeMasterRecord(
      services,
      actorOf(operator, 'operator'),
      partnerId,
      record,
      ifMatch,
      existing,
    );
  } catch (error) {
    // Refused (412 after concurrent changes): the ID this request claimed is let go again.
    if (claim.created && mpnId !== null && error instanceof DomainError) {
      await releaseMpn(services, partnerId, mpnId);
    }
    throw error;
  }
  const { previousMpnId } = written;
  await Promise.all([
    syncProviderListing(services, written.partner.value),
    previousMpnId !== null && previousMpnId !== mpnId
      ? releaseMpn(services, partnerId, previousMpnId)
      : undefined,
  ]);
  return { partner: written.partner, created: written.created };
}

async function writeMasterRecord(
  services: Services,
  actor: Actor,
  partnerId: string,
  record: MasterRecord,
  ifMatch: string | undefined,
  existing: Versioned<Partner> | null,
): Promise<{ partner: Versioned<Partner>; created: boolean; previousMpnId: string | null }> {
  const now = services.clock.now();
  if (!existing) {
    const partner = newPartner(partnerId, record, now);
    try {
      const etag = await services.partners.commit(partnerId, [
        { op: 'create', document: { type: 'partner', id: partnerId, ...partner } },
        {
          op: 'create',
          document: auditEvent(services.ids.newId(), partnerId, now, actor, 'partner-created'),
        },
        // The transition's counts start with the record (docs/rules.md section 14).
        { op: 'create', document: emptyCounts(partnerId, now) },
      ]);
      // Stryker disable next-line StringLiteral: the batch creates the partner, so commit returns its etag
      return { partner: { value: partner, etag: etag ?? '' }, created: true, previousMpnId: null };
    } catch (error) {
      // Created meanwhile by a concurrent request: fall through to an update.
      if (!(error instanceof WriteConflict) || error.index !== 0) throw error;
    }
  }
  const { partner, result: previousMpnId } = await changePartner(
    services,
    partnerId,
    ifMatch,
    (current) =>
      // The same record again (a rerun after a failure, a retried PUT) writes nothing: no
      // audit event for a change that is none.
      sameMasterRecord(current.value, record)
        ? { partner: null, result: current.value.mpnId }
        : {
            partner: resumeHeldInvitation(
              { ...current.value, ...record, updatedAt: now.toISOString() },
              now,
            ),
            also: [
              auditEvent(services.ids.newId(), partnerId, now, actor, 'master-record-updated'),
            ],
            result: current.value.mpnId,
          },
    existing ?? undefined,
  );
  return { partner, created: false, previousMpnId };
}

function sameMasterRecord(partner: Partner, record: MasterRecord): boolean {
  const { companyName, mpnId, mpnVerified, mpnAccountEmail, country, programs } = partner;
  return isDeepStrictEqual(
    { companyName, mpnId, mpnVerified, mpnAccountEmail, country, programs },
    record,
  );
}

export type ProfileInput = Omit<PartnerProfile, 'confirmedAt' | 'confirmedBy'>;

/** PUT /api/me/profile: a global admin confirms the profile, which stamps confirmedAt. */
export async function confirmProfile(
  services: Services,
  principal: Principal,
  input: ProfileInput,
  ifMatch: string | undefined,
): Promise<Versioned<Partner>> {
  const now = services.clock.now();
  const { partner } = await changePartner(services, principal.tenantId, ifMatch, (current) => {
    const recorded = current.value.mpnId;
    if (recorded !== null && input.mpnId !== recorded) {
      throw validationFailed([
        { path: 'body.mpnId', message: `must be this partner's MPN ID as recorded (${recorded})` },
      ]);
    }
    const profile: PartnerProfile = {
      ...input,
      // Stryker disable next-line MethodExpression: the request schema (countryCode) has upper-cased the country already
      address: { ...input.address, country: input.address.country.toUpperCase() },
      confirmedAt: now.toISOString(),
      confirmedBy: principal.userId,
    };
    return {
      partner: { ...current.value, profile, updatedAt: now.toISOString() },
      also: [
        auditEvent(
          services.ids.newId(),
          principal.tenantId,
          now,
          actorOf(principal),
          'profile-confirmed',
        ),
      ],
      result: undefined,
    };
  });
  return partner;
}

/**
 * Creates a document and its audit event (and `also`: its event) in a partner's partition, once:
 * when it exists already (a retry completing a multi-partition step), nothing is written (false).
 * The document's create goes first, so a refusal writes nothing even on the embedded emulator.
 */
export async function createOnce(
  services: Services,
  principal: Principal,
  document: PartnerDocument & { partnerId: string },
  action: string,
  change: { to?: string; reason: string },
  also: PartnerDocument[] = [],
  /** Patches that go with the create (counts, docs/rules.md section 14), written once with it. */
  patches: WriteOperation<PartnerDocument>[] = [],
): Promise<boolean> {
  const audit = auditEvent(
    services.ids.newId(),
    document.partnerId,
    services.clock.now(),
    actorOf(principal),
    action,
    change,
  );
  try {
    await commitCounting(services, document.partnerId, [
      { op: 'create', document },
      { op: 'create', document: audit },
      ...also.map((extra) => ({ op: 'create' as const, document: extra })),
      ...patches,
    ]);
    return true;
  } catch (error) {
    if (!(error instanceof WriteConflict && error.index === 0 && error.reason === 'exists'))
      throw error;
    return false;
  }
}
