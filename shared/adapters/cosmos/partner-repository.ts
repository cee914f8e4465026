import type { Container } from '@azure/cosmos';
import type {
  Page,
  PageRequest,
  PartnerDocument,
  PartnerRepository,
  Versioned,
  WriteOperation,
} from '../../app/ports';
import { isAuditEventId, type AuditEvent } from '../../domain/audit';
import type { CustomerRelationship } from '../../domain/customers';
import type { InvitationDocument } from '../../domain/link';
import { directoryPartition, type Partnership, type ProviderListing } from '../../domain/providers';
import type { Partner } from '../../domain/partner';
import { queryPage, readOne, writeInPartition } from './operations';

type StoredPartner = Partner & { id: string; type: 'partner' };

export function partnerDocument(partner: Partner): StoredPartner {
  return { id: partner.partnerId, type: 'partner', ...partner };
}

function toPartner(stored: StoredPartner): Partner {
  const { id: _id, type: _type, ...partner } = stored;
  return partner;
}

/**
 * Audit events are append-only (domain/audit.ts): every write of a partition passes here, and
 * one that would replace, upsert or delete an event is a bug, refused before it reaches Cosmos.
 */
export function assertAuditAppendOnly(operations: WriteOperation<PartnerDocument>[]): void {
  for (const operation of operations) {
    const touchesAudit =
      operation.op === 'delete'
        ? isAuditEventId(operation.id)
        : operation.document.type === 'audit' || isAuditEventId(operation.document.id);
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
    private readonly container: Container,
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
    const partnerIndex = operations.findIndex(
      (operation) => operation.op !== 'delete' && operation.document.type === 'partner',
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
    const result = await queryPage<AuditEvent>(
      this.container,
      "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'audit' ORDER BY c.id DESC",
      [],
      page,
      partnerId,
    );
    return {
      items: result.items.map((item) => item.value),
      continuationToken: result.continuationToken,
    };
  }

  async enrollmentsWithStatus(status: string, page: PageRequest): Promise<Page<Partner>> {
    const result = await queryPage<StoredPartner>(
      this.container,
      "SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = @status ORDER BY c.enrollment.submittedAt ASC",
      [{ name: '@status', value: status }],
      page,
    );
    return {
      items: result.items.map((item) => toPartner(item.value)),
      continuationToken: result.continuationToken,
    };
  }

  async *overduePendingEnrollments(cutoff: Date): AsyncIterable<Versioned<Partner>> {
    yield* this.allPartners(
      "SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'pending-approval' AND c.enrollment.escalatedAt = null AND c.enrollment.submittedAt <= @cutoff ORDER BY c.enrollment.submittedAt ASC",
      [{ name: '@cutoff', value: cutoff.toISOString() }],
    );
  }

  async *incentiveInvitationsDue(now: Date): AsyncIterable<Versioned<Partner>> {
    // Served by the (type, incentiveInviteDueAt) composite index; a null due date never matches.
    yield* this.allPartners(
      "SELECT * FROM c WHERE c.type = 'partner' AND c.incentiveInviteDueAt <= @now ORDER BY c.incentiveInviteDueAt ASC",
      [{ name: '@now', value: now.toISOString() }],
    );
  }

  /** Every partner a cross-partition query finds, page after page, with its etag. */
  private async *allPartners(
    query: string,
    parameters: { name: string; value: string }[],
  ): AsyncIterable<Versioned<Partner>> {
    let continuationToken: string | undefined;
    do {
      const page = await queryPage<StoredPartner>(this.container, query, parameters, {
        pageSize: 100,
        continuationToken,
      });
      for (const item of page.items) yield { value: toPartner(item.value), etag: item.etag };
      continuationToken = page.continuationToken ?? undefined;
    } while (continuationToken);
  }

  async providerListings(
    filter: { region?: string | undefined; service?: string | undefined },
    page: PageRequest,
  ): Promise<Page<ProviderListing>> {
    const conditions = ['c.partnerId = @partitionKey', "c.type = 'provider-listing'"];
    const parameters = [];
    if (filter.region) {
      conditions.push('ARRAY_CONTAINS(c.regions, @region)');
      parameters.push({ name: '@region', value: filter.region });
    }
    if (filter.service) {
      conditions.push('ARRAY_CONTAINS(c.services, @service)');
      parameters.push({ name: '@service', value: filter.service });
    }
    const result = await queryPage<ProviderListing>(
      this.container,
      `SELECT * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.sortName ASC`,
      parameters,
      page,
      directoryPartition,
    );
    return {
      items: result.items.map((item) => item.value),
      continuationToken: result.continuationToken,
    };
  }

  async partnerships(
    partnerId: string,
    side: Partnership['side'],
    page: PageRequest,
  ): Promise<Page<Partnership>> {
    const result = await queryPage<Partnership>(
      this.container,
      "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'partnership' AND c.side = @side ORDER BY c.since DESC",
      [{ name: '@side', value: side }],
      page,
      partnerId,
    );
    return {
      items: result.items.map((item) => item.value),
      continuationToken: result.continuationToken,
    };
  }

  async partnershipWithMpn(providerId: string, mpnId: string): Promise<Partnership | null> {
    const result = await queryPage<Partnership>(
      this.container,
      "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'partnership' AND c.side = 'provider' AND c.counterpartyMpnId = @mpnId",
      [{ name: '@mpnId', value: mpnId }],
      { pageSize: 1 },
      providerId,
    );
    return result.items[0]?.value ?? null;
  }

  async invitationById<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    invitationId: string,
  ): Promise<Versioned<T> | null> {
    const result = await queryPage<T>(
      this.container,
      'SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type AND c.invitationId = @invitationId',
      [
        { name: '@type', value: type },
        { name: '@invitationId', value: invitationId },
      ],
      { pageSize: 1 },
      partnerId,
    );
    return result.items[0] ?? null;
  }

  async invitations<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    page: PageRequest,
  ): Promise<Page<T>> {
    const result = await queryPage<T>(
      this.container,
      'SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type ORDER BY c.createdAt DESC',
      [{ name: '@type', value: type }],
      page,
      partnerId,
    );
    return {
      items: result.items.map((item) => item.value),
      continuationToken: result.continuationToken,
    };
  }

  async customerRelationships(
    partnerId: string,
    relationship: string | undefined,
    page: PageRequest,
  ): Promise<Page<CustomerRelationship>> {
    const filter = relationship === undefined ? '' : ' AND c.relationship = @relationship';
    const result = await queryPage<CustomerRelationship>(
      this.container,
      `SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'customer-relationship'${filter} ORDER BY c.sortName ASC, c.id ASC`,
      relationship === undefined ? [] : [{ name: '@relationship', value: relationship }],
      page,
      partnerId,
    );
    return {
      items: result.items.map((item) => item.value),
      continuationToken: result.continuationToken,
    };
  }
}
