import type {
  Page,
  PageRequest,
  PartnerDocument,
  PartnerRepository,
  Versioned,
  WriteOperation,
} from '../../app/ports';
import { noteEventsWritten } from '../../app/event-scope';
import { isAuditEventId, type AuditEvent } from '../../domain/audit';
import type { CustomerRelationship } from '../../domain/customers';
import type { InvitationDocument } from '../../domain/link';
import {
  directoryPartition,
  type Partnership,
  type ProviderListing,
  type ResellerInvitation,
} from '../../domain/providers';
import type { Partner } from '../../domain/partner';
import type { Transfer } from '../../domain/transfers';
import {
  allInPartition,
  findInPartition,
  notOurToken,
  queryAcrossPartitions,
  queryPartitionPage,
  readOne,
  type ScopedContainer,
  without,
  writeInPartition,
} from './operations';
import { partnerQueries, providerListingsQuery, type DeclaredQuery } from './queries';

type StoredPartner = Partner & { id: string; type: 'partner' };

interface ReviewCursor {
  /** The last partner's sort value: its submission, or its creation for never-submitted ones. */
  at: string;
  partnerId: string;
}

/**
 * The sort value of a partner in the review queue: when it submitted, or, for a partner who
 * never did (not-enrolled: `submittedAt` is null), when it was created.
 */
const queuedAt = (partner: Partner): string => partner.enrollment.submittedAt ?? partner.createdAt;

/** The review queue's cursor: where the last page ended, opaque to the caller. */
function encodeReviewCursor(partner: Partner): string {
  const cursor: ReviewCursor = { at: queuedAt(partner), partnerId: partner.partnerId };
  return Buffer.from(JSON.stringify({ after: cursor }), 'utf8').toString('base64url');
}

function decodeReviewCursor(token: string | undefined): ReviewCursor | null {
  if (token === undefined) return null;
  try {
    const { after } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      after?: Partial<ReviewCursor> & { submittedAt?: unknown };
    };
    // `submittedAt`: a cursor issued before never-submitted partners had their own order.
    const at = after?.at ?? after?.submittedAt;
    if (typeof at === 'string' && typeof after?.partnerId === 'string') {
      return { at, partnerId: after.partnerId };
    }
  } catch {
    // not JSON: refused below
  }
  throw notOurToken();
}

/** Every document a single-partition query finds, page after page, without their etags. */
export async function allOf<T>(
  container: ScopedContainer,
  query: DeclaredQuery,
  parameters: { name: string; value: string }[],
  partitionKey: string,
): Promise<T[]> {
  const all: T[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await queryPartitionPage<T>(
      container,
      query,
      parameters,
      { pageSize: 100, continuationToken },
      partitionKey,
    );
    all.push(...page.items.map((item) => item.value));
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken !== undefined);
  return all;
}

/** A page of documents without their etags, as the lists answer them. */
function valuesOf<T>(page: Page<Versioned<T>>): Page<T> {
  return { items: page.items.map((item) => item.value), continuationToken: page.continuationToken };
}

export function partnerDocument(partner: Partner): StoredPartner {
  return { id: partner.partnerId, type: 'partner', ...partner };
}

const storageProperties = new Set(['id', 'type']);

function toPartner(stored: StoredPartner): Partner {
  return without(stored, storageProperties);
}

/**
 * Audit events are append-only (domain/audit.ts): every write of a partition passes here, and
 * one that would replace, upsert or delete an event is a bug, refused before it reaches Cosmos.
 */
export function assertAuditAppendOnly(operations: WriteOperation<PartnerDocument>[]): void {
  for (const operation of operations) {
    const touchesAudit =
      'document' in operation
        ? operation.document.type === 'audit' || isAuditEventId(operation.document.id)
        : isAuditEventId(operation.id);
    if (touchesAudit && operation.op !== 'create') {
      throw new Error(`audit events are append-only: refused a ${operation.op} of one`);
    }
  }
}

export interface PartnerRepositoryOptions {
  /**
   * Each audit event is written with this Cosmos `ttl` (seconds), so a partner's partition does
   * not grow for ever (AUDIT_RETENTION_DAYS; the container's defaultTtl of -1 lets items expire).
   */
  auditTtlSeconds: number;
}

/** The partners container: one partition per partner tenant (containers.json). */
export class CosmosPartnerRepository implements PartnerRepository {
  constructor(
    private readonly container: ScopedContainer,
    private readonly options: PartnerRepositoryOptions,
  ) {}

  async get(partnerId: string): Promise<Versioned<Partner> | null> {
    const found = await readOne<StoredPartner>(this.container, partnerId, partnerId);
    return found && found.value.type === 'partner'
      ? { value: toPartner(found.value), etag: found.etag }
      : null;
  }

  async getDocument<T extends PartnerDocument>(
    partnerId: string,
    id: string,
  ): Promise<Versioned<T> | null> {
    const found = await readOne<T>(this.container, id, partnerId);
    // A document of another partition can never answer: the partition key is part of the read.
    return found && found.value.partnerId === partnerId ? found : null;
  }

  async commit(
    partnerId: string,
    operations: WriteOperation<PartnerDocument>[],
  ): Promise<string | null> {
    assertAuditAppendOnly(operations);
    const etags = await writeInPartition(
      this.container,
      partnerId,
      operations.map((operation) => this.withRetention(operation)),
    );
    // An event written: worth a prompt run.
    if (operations.some((o) => o.op === 'create' && o.document.type === 'event')) {
      noteEventsWritten(this.container.invocation, partnerId);
    }
    const partnerIndex = operations.findIndex(
      (operation) => 'document' in operation && operation.document.type === 'partner',
    );
    return partnerIndex >= 0 ? (etags[partnerIndex] ?? null) : null;
  }

  /** An audit event's create carries its ttl; nothing else does (assertAuditAppendOnly). */
  private withRetention(
    operation: WriteOperation<PartnerDocument>,
  ): WriteOperation<PartnerDocument & { ttl?: number }> {
    if (operation.op !== 'create' || operation.document.type !== 'audit') return operation;
    return { ...operation, document: { ...operation.document, ttl: this.options.auditTtlSeconds } };
  }

  async activity(partnerId: string, page: PageRequest): Promise<Page<AuditEvent>> {
    return valuesOf(
      await queryPartitionPage<AuditEvent>(
        this.container,
        partnerQueries.activity,
        [],
        page,
        partnerId,
      ),
    );
  }

  /**
   * The review queue, oldest submission first (never-submitted partners oldest created first),
   * keyset-paged: the cursor is the last partner's (sort value, partnerId), and each page reads a
   * fresh cross-partition iterator from there. (On Azure the SDK merges a cross-partition ORDER
   * BY itself and gives no continuation token.)
   */
  async enrollmentsWithStatus(status: string, page: PageRequest): Promise<Page<Partner>> {
    const after = decodeReviewCursor(page.continuationToken);
    const notEnrolled = status === 'not-enrolled';
    const query = notEnrolled
      ? after
        ? partnerQueries.notEnrolledQueueAfter
        : partnerQueries.notEnrolledQueue
      : after
        ? partnerQueries.reviewQueueAfter
        : partnerQueries.reviewQueue;
    const found = queryAcrossPartitions<StoredPartner>(
      this.container,
      query,
      [
        ...(notEnrolled ? [] : [{ name: '@status', value: status }]),
        ...(after
          ? [
              { name: '@afterAt', value: after.at },
              { name: '@afterId', value: after.partnerId },
            ]
          : []),
      ],
      page.pageSize + 1,
    );
    const items: Partner[] = [];
    let more = false;
    for await (const item of found) {
      if (items.length === page.pageSize) {
        more = true;
        break;
      }
      items.push(toPartner(item.value));
    }
    const last = items.at(-1);
    return {
      items,
      continuationToken: more && last ? encodeReviewCursor(last) : null,
    };
  }

  async *overduePendingEnrollments(cutoff: Date): AsyncIterable<Versioned<Partner>> {
    yield* this.allPartners(partnerQueries.overduePendingEnrollments, [
      { name: '@cutoff', value: cutoff.toISOString() },
    ]);
  }

  async *incentiveInvitationsDue(now: Date): AsyncIterable<Versioned<Partner>> {
    // A null due date never matches: a partner invited, or set aside, is out of this index.
    yield* this.allPartners(partnerQueries.incentiveInvitationsDue, [
      { name: '@now', value: now.toISOString() },
    ]);
  }

  async *incentiveInvitationsHeld(now: Date): AsyncIterable<Versioned<Partner>> {
    yield* this.allPartners(partnerQueries.incentiveInvitationsHeld, [
      { name: '@now', value: now.toISOString() },
    ]);
  }

  async *pendingEnrollmentsSubmittedBefore(cutoff: Date): AsyncIterable<Versioned<Partner>> {
    yield* this.allPartners(partnerQueries.pendingEnrollmentsSubmittedBefore, [
      { name: '@cutoff', value: cutoff.toISOString() },
    ]);
  }

  /** Every partner a cross-partition query finds, drained in this process, with its etag. */
  private async *allPartners(
    query: DeclaredQuery,
    parameters: { name: string; value: string }[],
  ): AsyncIterable<Versioned<Partner>> {
    for await (const item of queryAcrossPartitions<StoredPartner>(
      this.container,
      query,
      parameters,
      100,
    )) {
      yield { value: toPartner(item.value), etag: item.etag };
    }
  }

  async providerListings(
    filter: { region?: string | undefined; service?: string | undefined },
    page: PageRequest,
  ): Promise<Page<ProviderListing>> {
    const parameters = [];
    if (filter.region) parameters.push({ name: '@region', value: filter.region });
    if (filter.service) parameters.push({ name: '@service', value: filter.service });
    return valuesOf(
      await queryPartitionPage<ProviderListing>(
        this.container,
        providerListingsQuery({ region: Boolean(filter.region), service: Boolean(filter.service) }),
        parameters,
        page,
        directoryPartition,
      ),
    );
  }

  async partnerships(
    partnerId: string,
    side: Partnership['side'],
    page: PageRequest,
  ): Promise<Page<Partnership>> {
    return valuesOf(
      await queryPartitionPage<Partnership>(
        this.container,
        partnerQueries.partnerships,
        [{ name: '@side', value: side }],
        page,
        partnerId,
      ),
    );
  }

  async partnershipsWithStatus(
    partnerId: string,
    side: Partnership['side'],
    status: 'active' | 'ended',
    page: PageRequest,
  ): Promise<Page<Partnership>> {
    return valuesOf(
      await queryPartitionPage<Partnership>(
        this.container,
        partnerQueries.partnershipsWithStatus,
        [
          { name: '@side', value: side },
          { name: '@status', value: status },
        ],
        page,
        partnerId,
      ),
    );
  }

  async transfers(
    partnerId: string,
    side: Transfer['side'],
    status: Transfer['status'] | undefined,
    page: PageRequest,
  ): Promise<Page<Transfer>> {
    return valuesOf(
      await queryPartitionPage<Transfer>(
        this.container,
        status === undefined ? partnerQueries.transfers : partnerQueries.transfersWithStatus,
        [
          { name: '@side', value: side },
          ...(status === undefined ? [] : [{ name: '@status', value: status }]),
        ],
        page,
        partnerId,
      ),
    );
  }

  async pendingTransfersWith(providerId: string, resellerId: string): Promise<Transfer[]> {
    const found = await allInPartition<Transfer>(
      this.container,
      partnerQueries.pendingTransfersWith,
      [{ name: '@counterpartyId', value: resellerId }],
      providerId,
      100,
    );
    return found.map((item) => item.value);
  }

  async *transfersToExpire(now: Date): AsyncIterable<Versioned<Transfer>> {
    yield* queryAcrossPartitions<Transfer>(
      this.container,
      partnerQueries.transfersToExpire,
      [{ name: '@now', value: now.toISOString() }],
      100,
    );
  }

  async *transfersToPropagate(now: Date): AsyncIterable<Versioned<Transfer>> {
    yield* queryAcrossPartitions<Transfer>(
      this.container,
      partnerQueries.transfersToPropagate,
      [{ name: '@now', value: now.toISOString() }],
      100,
    );
  }

  async partnershipWithMpn(providerId: string, mpnId: string): Promise<Partnership | null> {
    const found = await findInPartition<Partnership>(
      this.container,
      partnerQueries.partnershipWithMpn,
      [{ name: '@mpnId', value: mpnId }],
      providerId,
    );
    return found?.value ?? null;
  }

  async openInvitationsTo(
    providerId: string,
    mpnId: string,
  ): Promise<Versioned<ResellerInvitation>[]> {
    const open: Versioned<ResellerInvitation>[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await queryPartitionPage<ResellerInvitation>(
        this.container,
        partnerQueries.openResellerInvitations,
        [],
        { pageSize: 100, continuationToken },
        providerId,
      );
      open.push(...page.items.filter((item) => item.value.mpnId === mpnId));
      continuationToken = page.continuationToken ?? undefined;
    } while (continuationToken !== undefined);
    return open;
  }

  async invitationById<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    invitationId: string,
  ): Promise<Versioned<T> | null> {
    return findInPartition<T>(
      this.container,
      partnerQueries.invitationById,
      [
        { name: '@type', value: type },
        { name: '@invitationId', value: invitationId },
      ],
      partnerId,
    );
  }

  async invitations<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    page: PageRequest,
  ): Promise<Page<T>> {
    return valuesOf(
      await queryPartitionPage<T>(
        this.container,
        partnerQueries.invitations,
        [{ name: '@type', value: type }],
        page,
        partnerId,
      ),
    );
  }

  async pendingInvitations<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    now: Date,
  ): Promise<T[]> {
    return allOf<T>(
      this.container,
      partnerQueries.pendingInvitations,
      [
        { name: '@type', value: type },
        { name: '@now', value: now.toISOString() },
      ],
      partnerId,
    );
  }

  async customerRelationships(
    partnerId: string,
    relationship: string | undefined,
    page: PageRequest,
  ): Promise<Page<CustomerRelationship>> {
    return valuesOf(
      await queryPartitionPage<CustomerRelationship>(
        this.container,
        relationship === undefined
          ? partnerQueries.customerRelationships
          : partnerQueries.customerRelationshipsOfKind,
        relationship === undefined ? [] : [{ name: '@relationship', value: relationship }],
        page,
        partnerId,
      ),
    );
  }
}
