import { recentFailuresShown } from '../../domain/operations';

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
  readonly container: 'partners' | 'customers' | 'events';
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
const notEnrolledOrder =
  'ORDER BY c.type ASC, c.enrollment.status ASC, c.createdAt ASC, c.partnerId ASC';

/** The partners container (partition key /partnerId). */
export const partnerQueries = {
  activity: query(
    'activity',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'audit' ORDER BY c.type ASC, c.id DESC",
  ),
  /**
   * The operators' review queue of a status partners reach by submitting (every status but
   * not-enrolled: `submittedAt` is set), oldest submission first; keyset-paged by the app.
   */
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
  /**
   * The partners who never submitted (`submittedAt` null: a cross-partition ORDER BY over a
   * null throws in the SDK), oldest first by creation.
   */
  notEnrolledQueue: query(
    'notEnrolledQueue',
    'partners',
    'cross-partition',
    `SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'not-enrolled' ${notEnrolledOrder}`,
  ),
  notEnrolledQueueAfter: query(
    'notEnrolledQueueAfter',
    'partners',
    'cross-partition',
    `SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'not-enrolled' AND (c.createdAt > @afterAt OR (c.createdAt = @afterAt AND c.partnerId > @afterId)) ${notEnrolledOrder}`,
  ),
  /**
   * Timer: every enrollment pending past the cutoff and not yet escalated, in no order (the
   * timer takes each): `escalatedAt` is null in every match, and a cross-partition ORDER BY
   * over a null throws in the SDK (Azure/azure-sdk-for-js#30122).
   */
  overduePendingEnrollments: query(
    'overduePendingEnrollments',
    'partners',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'partner' AND c.enrollment.status = 'pending-approval' AND c.enrollment.escalatedAt = null AND c.enrollment.submittedAt <= @cutoff",
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
    "SELECT c.id, c.partnerId, c.attempts, c.dueAt, c._etag FROM c WHERE c.type = 'email' AND c.lane = @lane AND c.dueAt <= @now AND NOT ARRAY_CONTAINS(@passOver, c.partnerId) ORDER BY c.type ASC, c.lane ASC, c.dueAt ASC",
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
  /** The reseller pipeline: a provider's invitations still open (at most a few hundred). */
  pendingInvitations: query(
    'pendingInvitations',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = @type AND c.status = 'active' AND c.expiresAt > @now",
  ),
  /** The operators' transition report: the days of a period (at most 366). */
  transitionDays: query(
    'transitionDays',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'transition-day' AND c.day >= @from AND c.day <= @to",
  ),
  /** The operators' transition report: partners at one step since before a cutoff, longest first. */
  stuckTransitions: query(
    'stuckTransitions',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'transition-entry' AND c.since < @cutoff ORDER BY c.type ASC, c.since ASC",
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
  /**
   * Timer: every partition holding events to publish (a crash, or no prompt publication), each
   * once: however many events wait in one partition, it is one result.
   */
  partitionsToPublish: query(
    'partitionsToPublish',
    'partners',
    'cross-partition',
    "SELECT DISTINCT VALUE c.partnerId FROM c WHERE c.type = 'event' AND c.publishDueAt <= @now",
  ),
  webhooks: query(
    'webhooks',
    'partners',
    'partition',
    "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'webhook' ORDER BY c.type ASC, c.createdAt DESC",
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

/**
 * The events container (partition key /stream): each partner's feed (`feed:<partnerId>`), and
 * each webhook endpoint's cursor and deliveries (`webhook:<webhookId>`).
 */
export const eventQueries = {
  /** The pull feed: published events after a feed number, in feed order. */
  eventFeed: query(
    'eventFeed',
    'events',
    'partition',
    "SELECT * FROM c WHERE c.stream = @partitionKey AND c.type = 'event' AND c.sequence > @after ORDER BY c.type ASC, c.sequence ASC",
  ),
  /** One endpoint's deliveries, newest first. */
  deliveries: query(
    'deliveries',
    'events',
    'partition',
    "SELECT * FROM c WHERE c.stream = @partitionKey AND c.type = 'delivery' ORDER BY c.type ASC, c.createdAt DESC",
  ),
  /** Prompt delivery: one endpoint's deliveries due at `now`, oldest first. */
  deliveriesDueIn: query(
    'deliveriesDueIn',
    'events',
    'partition',
    "SELECT * FROM c WHERE c.stream = @partitionKey AND c.type = 'delivery' AND c.dueAt <= @now ORDER BY c.type ASC, c.dueAt ASC",
  ),
  /**
   * Timer: deliveries waiting to be tried again (or whose claim lapsed) and due at `now`, oldest
   * first, passing over the endpoints that already have their share of this run.
   */
  deliveriesDue: query(
    'deliveriesDue',
    'events',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'delivery' AND c.dueAt <= @now AND NOT ARRAY_CONTAINS(@passOver, c.webhookId) ORDER BY c.type ASC, c.dueAt ASC",
  ),
  /** Timer: endpoints with events to catch up on, the longest waiting first. */
  cursorsDue: query(
    'cursorsDue',
    'events',
    'cross-partition',
    "SELECT * FROM c WHERE c.type = 'webhook-cursor' AND c.dueAt <= @now ORDER BY c.type ASC, c.dueAt ASC",
  ),
  /**
   * Backlog: the endpoints failing, whose deliveries wait for a retry after an attempt their
   * endpoint refused (each endpoint's deliveries are in one partition, so each id comes once).
   */
  failingEndpoints: query(
    'failingEndpoints',
    'events',
    'cross-partition',
    "SELECT DISTINCT VALUE c.webhookId FROM c WHERE c.type = 'delivery' AND c.status = 'pending' AND c.attempts > 0",
  ),
  /**
   * Backlog: the endpoints behind, each its partner and how far in its feed it has been sent, but
   * for the failing endpoints (`@failing`: theirs is their partner's matter, counted apart). What
   * each has yet to be sent is counted up to its partner's feed head (operations-repository.ts):
   * publication writes nothing to a cursor already behind.
   */
  cursorsBehind: query(
    'cursorsBehind',
    'events',
    'cross-partition',
    "SELECT c.partnerId, c.through FROM c WHERE c.type = 'webhook-cursor' AND IS_DEFINED(c.dueAt) AND NOT ARRAY_CONTAINS(@failing, c.webhookId)",
  ),
  /** Backlog: since when the endpoint furthest behind has waited (failing endpoints apart). */
  oldestBehind: query(
    'oldestBehind',
    'events',
    'cross-partition',
    "SELECT VALUE MIN(c.behindSince) FROM c WHERE c.type = 'webhook-cursor' AND IS_DEFINED(c.dueAt) AND NOT ARRAY_CONTAINS(@failing, c.webhookId)",
  ),
} as const;

/**
 * How a timer counts an outbox's backlog (emails in `partners`, deliveries in `events`): counts,
 * the oldest date and the most recent failures' few properties, never the items themselves (an
 * email that failed for good keeps its bodies). Across partitions, each range answers a number or
 * at most `recentFailuresShown` small results.
 *
 * Deliveries (docs/rules.md section 13): those of a failing endpoint (`@failing`) wait apart from
 * the platform's backlog, and only the operators' own endpoints' failures (`@operators`, their
 * partition) are the platform's: a partner's endpoint that fails for good is disabled and its
 * owner told.
 */
function outboxBacklogQueries(container: 'partners' | 'events') {
  const deliveries = container === 'events';
  const waitingOf = deliveries ? ' AND NOT ARRAY_CONTAINS(@failing, c.webhookId)' : '';
  const failedOf = deliveries ? ' AND c.partnerId = @operators' : '';
  return {
    waitingCount: query(
      `${container}OutboxWaitingCount`,
      container,
      'cross-partition',
      `SELECT VALUE COUNT(1) FROM c WHERE c.type = @type AND IS_DEFINED(c.dueAt)${waitingOf}`,
    ),
    oldestWaiting: query(
      `${container}OutboxOldestWaiting`,
      container,
      'cross-partition',
      `SELECT VALUE MIN(c.createdAt) FROM c WHERE c.type = @type AND IS_DEFINED(c.dueAt)${waitingOf}`,
    ),
    failedCount: query(
      `${container}OutboxFailedCount`,
      container,
      'cross-partition',
      `SELECT VALUE COUNT(1) FROM c WHERE c.type = @type AND c.status = 'failed'${failedOf}`,
    ),
    recentFailures: query(
      `${container}OutboxRecentFailures`,
      container,
      'cross-partition',
      `SELECT TOP ${recentFailuresShown} c.id, c.partnerId, c.kind, c.eventType, c.failedAt FROM c WHERE c.type = @type AND c.status = 'failed'${failedOf} AND c.failedAt >= @since ORDER BY c.type ASC, c.status ASC,${deliveries ? ' c.partnerId ASC,' : ''} c.failedAt DESC`,
    ),
  };
}

export type OutboxBacklogQueries = ReturnType<typeof outboxBacklogQueries>;

export const backlogQueries = {
  partners: outboxBacklogQueries('partners'),
  events: outboxBacklogQueries('events'),
} as const;

/** Every declared query, for the index check. */
export const declaredQueries: readonly DeclaredQuery[] = [
  ...Object.values(partnerQueries),
  ...providerListingVariants,
  ...Object.values(customerQueries),
  ...Object.values(eventQueries),
  ...Object.values(backlogQueries.partners),
  ...Object.values(backlogQueries.events),
];
