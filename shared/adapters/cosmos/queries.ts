/**
 * Every query the app sends to Cosmos DB, declared once: its container, whether it stays in one
 * logical partition, and its text. `test/unit/query-indexes.test.ts` derives from each text the
 * index it needs and checks containers.json against it, so a query that no index serves, or a
 * composite index that no query uses, fails the build.
 *
 * How they are written, after Cosmos DB's indexing-policy rules ("Queries with a filter and
 * ORDER BY"): a composite index serves a filter plus ORDER BY only when the equality-filtered
 * properties come first in the ORDER BY, so each ORDER BY repeats them (`c.type ASC, ...`)
 * before its sort properties, and containers.json holds that exact composite.
 */
export interface DeclaredQuery {
  readonly name: string;
  readonly container: 'partners' | 'customers';
  /**
   * `partition`: filters on `c.<partition key> = @partitionKey` and runs in that partition
   * (pages with a continuation token). `cross-partition`: runs across partitions, drained by
   * one SDK iterator; never handed a continuation token (Azure's SDK gives none for ORDER BY).
   */
  readonly scope: 'partition' | 'cross-partition';
  readonly text: string;
}

const query = (
  name: string,
  container: DeclaredQuery['container'],
  scope: DeclaredQuery['scope'],
  text: string,
): DeclaredQuery => ({ name, container, scope, text });

const reviewQueueOrder =
  'ORDER BY c.type ASC, c.enrollment.status ASC, c.enrollment.submittedAt ASC, c.partnerId ASC';

/** The partners container (partition key /partnerId). */
export const partnerQueries = {
  activity: query(
    'activity',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'audit' ORDER BY c.type ASC, c.id DESC",
  ),
  /** The operators' review queue, oldest submission first; keyset-paged by the app. */
  reviewQueue: query(
    'reviewQueue',
    'partners',
    'cross-partition',
    `SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = @status ${reviewQueueOrder}`,
  ),
  reviewQueueAfter: query(
    'reviewQueueAfter',
    'partners',
    'cross-partition',
    `SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = @status AND (c.enrollment.submittedAt > @afterAt OR (c.enrollment.submittedAt = @afterAt AND c.partnerId > @afterId)) ${reviewQueueOrder}`,
  ),
  overduePendingEnrollments: query(
    'overduePendingEnrollments',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'pending-approval' AND c.enrollment.escalatedAt = null AND c.enrollment.submittedAt <= @cutoff ORDER BY c.type ASC, c.enrollment.status ASC, c.enrollment.escalatedAt ASC, c.enrollment.submittedAt ASC",
  ),
  incentiveInvitationsDue: query(
    'incentiveInvitationsDue',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'partner' AND c.incentiveInviteDueAt <= @now ORDER BY c.type ASC, c.incentiveInviteDueAt ASC",
  ),
  incentiveInvitationsHeld: query(
    'incentiveInvitationsHeld',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'partner' AND c.incentiveInviteHeldSince <= @now ORDER BY c.type ASC, c.incentiveInviteHeldSince ASC",
  ),
  /**
   * Timer: the waiting items of an outbox (emails, event deliveries), in no order: the backlog
   * counts them and keeps the oldest, so no composite index is paid for on every write.
   */
  outboxWaiting: query(
    'outboxWaiting',
    'partners',
    'cross-partition',
    'SELECT * FROM c WHERE c.type = @type AND IS_DEFINED(c.dueAt)',
  ),
  /** Timer: the items of an outbox that failed for good (kept until retried or expired). */
  outboxFailed: query(
    'outboxFailed',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = @type AND c.status = 'failed'",
  ),
  /** Timer: the same in one partition (the operators' own webhook deliveries). */
  outboxFailedIn: query(
    'outboxFailedIn',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type AND c.status = 'failed'",
  ),
  /** Timer: enrollments still pending that were submitted before the cutoff. */
  pendingEnrollmentsSubmittedBefore: query(
    'pendingEnrollmentsSubmittedBefore',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'pending-approval' AND c.enrollment.submittedAt <= @cutoff",
  ),
  /** The status page and the health check: every document of the operations partition. */
  operationsDocuments: query(
    'operationsDocuments',
    'partners',
    'partition',
    'SELECT * FROM c WHERE c.partnerId = @partitionKey',
  ),
  /**
   * Timer: emails of a lane due at `now`, oldest first, passing over the partners that already
   * have their turn in this run (docs/rules.md section 13). `dueAt` is set on every email it
   * can return (the filter), so the cross-partition ORDER BY never meets a null.
   */
  outboxDue: query(
    'outboxDue',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'email' AND c.lane = @lane AND c.dueAt <= @now AND NOT ARRAY_CONTAINS(@passOver, c.partnerId) ORDER BY c.type ASC, c.lane ASC, c.dueAt ASC",
  ),
  partnerships: query(
    'partnerships',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'partnership' AND c.side = @side ORDER BY c.type ASC, c.side ASC, c.since DESC",
  ),
  partnershipsWithStatus: query(
    'partnershipsWithStatus',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'partnership' AND c.side = @side AND c.status = @status ORDER BY c.type ASC, c.side ASC, c.status ASC, c.since DESC",
  ),
  transfers: query(
    'transfers',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'transfer' AND c.side = @side ORDER BY c.type ASC, c.side ASC, c.createdAt DESC",
  ),
  transfersWithStatus: query(
    'transfersWithStatus',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'transfer' AND c.side = @side AND c.status = @status ORDER BY c.type ASC, c.side ASC, c.status ASC, c.createdAt DESC",
  ),
  pendingTransfersWith: query(
    'pendingTransfersWith',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'transfer' AND c.side = 'provider' AND c.status = 'pending' AND c.counterpartyId = @counterpartyId",
  ),
  /** Timer: open requests past 30 days, reseller copies only (they decide). */
  transfersToExpire: query(
    'transfersToExpire',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'transfer' AND c.side = 'reseller' AND c.status = 'pending' AND c.expiresAt <= @now ORDER BY c.type ASC, c.side ASC, c.status ASC, c.expiresAt ASC",
  ),
  /** Timer: changes a crash left half-written; the field exists only until every side agrees. */
  transfersToPropagate: query(
    'transfersToPropagate',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'transfer' AND c.propagateAfter <= @now ORDER BY c.type ASC, c.propagateAfter ASC",
  ),
  partnershipWithMpn: query(
    'partnershipWithMpn',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'partnership' AND c.side = 'provider' AND c.counterpartyMpnId = @mpnId",
  ),
  /**
   * A provider's reseller invitations still open (a few hundred at most): ending a partnership
   * revokes those to that reseller's MPN ID, picked out by the app (no index on MPN IDs).
   */
  openResellerInvitations: query(
    'openResellerInvitations',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'reseller-invitation' AND c.status = 'active'",
  ),
  invitationById: query(
    'invitationById',
    'partners',
    'partition',
    'SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type AND c.invitationId = @invitationId',
  ),
  invitations: query(
    'invitations',
    'partners',
    'partition',
    'SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type ORDER BY c.type ASC, c.createdAt DESC',
  ),
  customerRelationships: query(
    'customerRelationships',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'customer-relationship' ORDER BY c.type ASC, c.sortName ASC, c.id ASC",
  ),
  customerRelationshipsOfKind: query(
    'customerRelationshipsOfKind',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'customer-relationship' AND c.relationship = @relationship ORDER BY c.type ASC, c.relationship ASC, c.sortName ASC, c.id ASC",
  ),
  /** Events written with their change and not yet published (numbered and fanned out). */
  eventsToPublish: query(
    'eventsToPublish',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'event' AND c.publishDueAt <= @now ORDER BY c.type ASC, c.publishDueAt ASC",
  ),
  /** Timer: every partition holding events to publish (a crash, or no prompt publication). */
  partitionsToPublish: query(
    'partitionsToPublish',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'event' AND c.publishDueAt <= @now ORDER BY c.type ASC, c.publishDueAt ASC",
  ),
  /** The pull feed: published events after a feed number, in feed order. */
  eventFeed: query(
    'eventFeed',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'event' AND c.sequence > @after ORDER BY c.type ASC, c.sequence ASC",
  ),
  webhooks: query(
    'webhooks',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'webhook' ORDER BY c.type ASC, c.createdAt DESC",
  ),
  deliveries: query(
    'deliveries',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'delivery' AND c.webhookId = @webhookId ORDER BY c.type ASC, c.webhookId ASC, c.createdAt DESC",
  ),
  /** Prompt delivery: one partition's deliveries due at `now`, oldest first. */
  deliveriesDueIn: query(
    'deliveriesDueIn',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'delivery' AND c.dueAt <= @now ORDER BY c.type ASC, c.dueAt ASC",
  ),
  /**
   * Timer: deliveries waiting (or whose claim lapsed) and due at `now`, oldest first, passing
   * over the endpoints that already have their share of this run.
   */
  deliveriesDue: query(
    'deliveriesDue',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'delivery' AND c.dueAt <= @now AND NOT ARRAY_CONTAINS(@passOver, c.webhookId) ORDER BY c.type ASC, c.dueAt ASC",
  ),
} as const;

/** The provider directory, filtered by region and service (each optional): four variants. */
export function providerListingsQuery(filter: {
  region: boolean;
  service: boolean;
}): DeclaredQuery {
  return providerListingVariants[(filter.region ? 1 : 0) + (filter.service ? 2 : 0)]!;
}

const providerListingVariants = [0, 1, 2, 3].map((variant) => {
  const region = (variant & 1) !== 0;
  const service = (variant & 2) !== 0;
  return query(
    `providerListings${region ? 'ByRegion' : ''}${service ? 'ByService' : ''}`,
    'partners',
    'partition',
    `SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'provider-listing'${
      region ? ' AND ARRAY_CONTAINS(c.regions, @region)' : ''
    }${service ? ' AND ARRAY_CONTAINS(c.services, @service)' : ''} ORDER BY c.type ASC, c.sortName ASC, c.id ASC`,
  );
});

/** The customers container (partition key /customerId). */
export const customerQueries = {
  documents: query(
    'customerDocuments',
    'customers',
    'partition',
    'SELECT * FROM c WHERE c.customerId = @partitionKey AND c.type = @type ORDER BY c.type ASC, c.createdAt DESC',
  ),
  documentsVisibleTo: query(
    'customerDocumentsVisibleTo',
    'customers',
    'partition',
    'SELECT * FROM c WHERE c.customerId = @partitionKey AND c.type = @type AND ARRAY_CONTAINS(c.partners, @partnerId) ORDER BY c.type ASC, c.createdAt DESC',
  ),
  /** Prompt delivery: one customer's events to copy to their partners. */
  eventsToRelayIn: query(
    'eventsToRelayIn',
    'customers',
    'partition',
    "SELECT * FROM c WHERE c.customerId = @partitionKey AND c.type = 'event' AND c.publishDueAt <= @now ORDER BY c.type ASC, c.publishDueAt ASC",
  ),
  /** Timer: events of customer-partition changes, to copy to their partners. */
  eventsToRelay: query(
    'eventsToRelay',
    'customers',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'event' AND c.publishDueAt <= @now ORDER BY c.type ASC, c.publishDueAt ASC",
  ),
} as const;

/** Every declared query, for the index check. */
export const declaredQueries: readonly DeclaredQuery[] = [
  ...Object.values(partnerQueries),
  ...providerListingVariants,
  ...Object.values(customerQueries),
];
