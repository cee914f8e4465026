import type { AuditEvent } from '../domain/audit';
import type {
  EventDocument,
  EventSequence,
  FeedEvent,
  RelayedEventDocument,
} from '../domain/events';
import type {
  EventDelivery,
  WebhookCursor,
  WebhookEndpoint,
  WebhookSlot,
} from '../domain/webhooks';
import type { OutboxEmail, EmailLane, EmailMessage } from '../domain/email';
import type {
  Customer,
  CustomerDocument,
  CustomerInvitation,
  CustomerRelationship,
  DomainClaim,
} from '../domain/customers';
import type { InvitationDocument } from '../domain/link';
import type { Partner } from '../domain/partner';
import type {
  MpnIndexEntry,
  Partnership,
  ProviderListing,
  ResellerInvitation,
} from '../domain/providers';
import type { Principal } from '../domain/principal';
import type { RateCounter } from '../domain/rate-limit';
import type {
  OperationsDocument,
  OutboxBacklog,
  OutboxName,
  TimerHeartbeat,
} from '../domain/operations';
import type { SendCounter } from '../domain/send-budget';
import type { Transfer, TransferGuard } from '../domain/transfers';
import type { TransitionCounts } from '../domain/transition-counts';
import type { TransitionDay, TransitionEntry } from '../domain/transition-report';

/** Time comes from here, never from `new Date()` in a rule: tests control it. */
export interface Clock {
  now(): Date;
}

export interface Page<T> {
  items: T[];
  continuationToken: string | null;
}

export interface PageRequest {
  pageSize: number;
  continuationToken?: string | undefined;
}

export interface Versioned<T> {
  value: T;
  etag: string;
}

/** Any document living in a partner's partition, told apart by `type`. */
export type PartnerDocument =
  | ({ type: 'partner'; id: string } & Partner)
  | AuditEvent
  | OutboxEmail
  | InvitationDocument
  | ProviderListing
  | MpnIndexEntry
  | Partnership
  | CustomerRelationship
  | DomainClaim
  | CustomerInvitation
  | RateCounter
  | Transfer
  | TransferGuard
  | EventDocument
  | EventSequence
  | WebhookEndpoint
  | WebhookSlot
  | TransitionCounts
  | TransitionDay
  | TransitionEntry;

/**
 * One change of a partial update (Cosmos DB patch): `incr` adds to a number (negative to take
 * away), `set` writes a value, `add` with a path ending in `/-` appends to an array.
 */
export type PatchStep =
  | { op: 'incr'; path: string; value: number }
  | { op: 'set'; path: string; value: string | number | boolean | null }
  | { op: 'add'; path: string; value: string | number };

/**
 * One write in a partition batch. `create` fails if the id exists; `replace` needs the etag
 * read before (optimistic concurrency) and fails if it changed; `patch` changes a few fields of
 * an existing document without reading it (counters: concurrent increments never conflict),
 * and fails if the document is missing.
 */
export type WriteOperation<D> =
  | { op: 'create'; document: D }
  | { op: 'replace'; document: D; etag: string }
  | { op: 'upsert'; document: D }
  | { op: 'delete'; id: string; etag?: string }
  | { op: 'patch'; id: string; steps: PatchStep[] };

/** Why a write was refused: the document changed, already exists, or is gone. */
export class WriteConflict extends Error {
  constructor(
    readonly reason: 'changed' | 'exists' | 'missing',
    readonly index: number,
  ) {
    super(`write ${index} refused: ${reason}`);
    this.name = 'WriteConflict';
  }
}

/** A dependency (Cosmos, ACS) cannot be reached: the request changed nothing. */
export class DependencyUnavailable extends Error {
  /** When the dependency said how long to wait (Cosmos's x-ms-retry-after-ms), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly dependency: string,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super(`${dependency} is unavailable`, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.name = 'DependencyUnavailable';
  }
}

export interface PartnerRepository {
  get(partnerId: string): Promise<Versioned<Partner> | null>;
  /** A point read of any document in the partner's partition. */
  getDocument<T extends PartnerDocument>(
    partnerId: string,
    id: string,
  ): Promise<Versioned<T> | null>;
  /**
   * Writes everything in one transactional batch in the partner's partition: the first
   * operation is the guard (the partner's replace with its etag, or its create), so a refused
   * guard writes nothing. Returns the partner's new etag when the partner was written.
   */
  commit(partnerId: string, operations: WriteOperation<PartnerDocument>[]): Promise<string | null>;
  activity(partnerId: string, page: PageRequest): Promise<Page<AuditEvent>>;
  /** The provider directory (one partition), sorted by name, filtered by region and service. */
  providerListings(
    filter: { region?: string | undefined; service?: string | undefined },
    page: PageRequest,
  ): Promise<Page<ProviderListing>>;
  /** A partner's customers, sorted by name, optionally of one relationship. */
  customerRelationships(
    partnerId: string,
    relationship: string | undefined,
    page: PageRequest,
  ): Promise<Page<CustomerRelationship>>;
  /** The partnerships of a partner in which it has the given side. */
  partnerships(
    partnerId: string,
    side: Partnership['side'],
    page: PageRequest,
  ): Promise<Page<Partnership>>;
  /** The partnerships of a partner in which it has the given side and status. */
  partnershipsWithStatus(
    partnerId: string,
    side: Partnership['side'],
    status: 'active' | 'ended',
    page: PageRequest,
  ): Promise<Page<Partnership>>;
  /** A partner's copies of transfers on one side, newest first, optionally of one status. */
  transfers(
    partnerId: string,
    side: Transfer['side'],
    status: Transfer['status'] | undefined,
    page: PageRequest,
  ): Promise<Page<Transfer>>;
  /** A provider's pending transfers with one reseller (ending their partnership). */
  pendingTransfersWith(providerId: string, resellerId: string): Promise<Transfer[]>;
  /** Cross-partition (timer): reseller copies pending and past their expiry at `now`. */
  transfersToExpire(now: Date): AsyncIterable<Versioned<Transfer>>;
  /** Cross-partition (timer): reseller copies whose last change has yet to reach every side. */
  transfersToPropagate(now: Date): AsyncIterable<Versioned<Transfer>>;
  /** The partnership of a provider with the reseller holding this MPN ID, if any. */
  partnershipWithMpn(providerId: string, mpnId: string): Promise<Partnership | null>;
  /** An invitation found by its public id in the inviting partner's partition. */
  /** A provider's reseller invitations still open (active) to one MPN ID. */
  openInvitationsTo(providerId: string, mpnId: string): Promise<Versioned<ResellerInvitation>[]>;
  invitationById<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    invitationId: string,
  ): Promise<Versioned<T> | null>;
  /** A partner's invitations of a kind, newest first. */
  invitations<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    page: PageRequest,
  ): Promise<Page<T>>;
  /** Every invitation of a kind that can still be accepted at `now` (not used, revoked, expired). */
  pendingInvitations<T extends InvitationDocument>(
    partnerId: string,
    type: T['type'],
    now: Date,
  ): Promise<T[]>;
  /** Cross-partition: the operators' review queue, oldest submission first. */
  enrollmentsWithStatus(status: string, page: PageRequest): Promise<Page<Partner>>;
  /**
   * Cross-partition (timer): pending enrollments not yet escalated, submitted before `cutoff`,
   * each with its etag so the timer's change needs no second read.
   */
  overduePendingEnrollments(cutoff: Date): AsyncIterable<Versioned<Partner>>;
  /**
   * Cross-partition (timer): partners whose incentives invitation is due at `now`, earliest
   * first. Reads only those (an indexed due date), never every partner.
   */
  incentiveInvitationsDue(now: Date): AsyncIterable<Versioned<Partner>>;
  /**
   * Cross-partition (timer): partners whose invitation is held for want of an MPN account
   * email (out of the due index, so they never hold up the others), oldest first.
   */
  incentiveInvitationsHeld(now: Date): AsyncIterable<Versioned<Partner>>;
  /** Cross-partition (timer): enrollments still pending, submitted before `cutoff`. */
  pendingEnrollmentsSubmittedBefore(cutoff: Date): AsyncIterable<Versioned<Partner>>;
}

/** The operators' transition report, in its own partition (domain/transition-report.ts). */
export interface TransitionReportRepository {
  /** The days from `from` to `to` (YYYY-MM-DD, both included): one single-partition query. */
  transitionDays(from: string, to: string): Promise<TransitionDay[]>;
  /**
   * The entries of partners at one step since `cutoff` or before, longest first, at most
   * `limit`: one single-partition query.
   */
  stuckSince(cutoff: Date, limit: number): Promise<TransitionEntry[]>;
}

/**
 * An email found due: what it takes to give it a turn and claim it. Its bodies come with the
 * claim, so a page of due emails stays small however long they are.
 */
export interface DueEmail {
  id: string;
  partnerId: string;
  attempts: number;
  /** When it fell due (for a lapsed claim: when the claim lapsed). */
  dueAt: string;
  etag: string;
}

export interface OutboxRepository {
  /**
   * Cross-partition: emails of one lane waiting (or whose claim lapsed) and due at `now`,
   * oldest first, but those of the partners in `passOver` (they have their turn already).
   */
  due(now: Date, lane: EmailLane, limit: number, passOver?: readonly string[]): Promise<DueEmail[]>;
  /**
   * Claims due emails of one partner for a delivery, each only if unchanged since it was found
   * (its etag): `sending`, one attempt more, due again at `leaseUntil` (when the claim lapses).
   * Returns the emails claimed, whole, with their new etags; one that changed since it was found
   * is left out (another run has it). One round trip when none changed.
   */
  claim(
    partnerId: string,
    emails: readonly DueEmail[],
    leaseUntil: Date,
  ): Promise<Versioned<OutboxEmail>[]>;
  /**
   * Writes the outcomes of claimed emails of one partner, each only if still as claimed (its
   * etag): one whose claim lapsed and that another run took over is left as that run made it.
   * One round trip when none changed.
   */
  settle(partnerId: string, outcomes: readonly Versioned<OutboxEmail>[]): Promise<void>;
  /** Replaces the email if its etag is unchanged; returns the new etag or null if it changed. */
  replaceIfUnchanged(email: OutboxEmail, etag: string): Promise<string | null>;
  /** Point reads of the send budget's counters (domain/send-budget.ts); absent ones are left out. */
  sendCounters(ids: string[]): Promise<Map<string, Versioned<SendCounter>>>;
  /** Writes the counters in one batch if none changed since read: their new etags, or null. */
  writeSendCounters(operations: WriteOperation<SendCounter>[]): Promise<string[] | null>;
}

/**
 * Events (docs/rules.md section 11): waiting in their partner's partition until published, then
 * in the events container: the feed, each endpoint's cursor in it, and its deliveries.
 */
export interface EventRepository {
  /** A partition's events written and not yet published, oldest first. */
  toPublish(partnerId: string, now: Date, limit: number): Promise<Versioned<EventDocument>[]>;
  /** Cross-partition (timer): partitions holding events to publish. */
  partitionsToPublish(now: Date, limit: number): Promise<string[]>;
  /** Cross-partition (timer): events of customer-partition changes waiting to be copied. */
  relayed(now: Date, limit: number): Promise<Versioned<RelayedEventDocument>[]>;
  /** One customer's events waiting to be copied (prompt delivery: one partition). */
  relayedIn(
    customerId: string,
    now: Date,
    limit: number,
  ): Promise<Versioned<RelayedEventDocument>[]>;
  /** Removes a relayed event once copied (a concurrent removal is not an error). */
  removeRelayed(event: Versioned<RelayedEventDocument>): Promise<void>;
  /**
   * Writes numbered events to their partners' feeds, in their order: each batch of them at once
   * (none of a batch is in the feed before all of it is). Writing one again is not an error.
   */
  addToFeed(events: readonly FeedEvent[]): Promise<void>;
  /** The pull feed: published events numbered after `after`, in feed order. */
  feed(partnerId: string, after: number, limit: number): Promise<FeedEvent[]>;
  /** A partner's webhook endpoints (at most ten), newest first, every page read. */
  webhooks(partnerId: string): Promise<Versioned<WebhookEndpoint>[]>;
  /** An endpoint's cursor in its partner's feed, or null before its first event. */
  cursor(webhookId: string): Promise<Versioned<WebhookCursor> | null>;
  /**
   * Writes an endpoint's cursor (created when `etag` is null, else replaced if unchanged) and the
   * deliveries it takes, in one batch: the new etags (the cursor's first), or null when the
   * cursor changed meanwhile.
   */
  advance(
    cursor: WebhookCursor,
    etag: string | null,
    deliveries: EventDelivery[],
  ): Promise<(string | null)[] | null>;
  /** Cross-partition (timer): endpoints with events to catch up on, the longest waiting first. */
  cursorsDue(now: Date, limit: number): Promise<Versioned<WebhookCursor>[]>;
  /** One delivery of an endpoint, or null. */
  delivery(webhookId: string, eventId: string): Promise<Versioned<EventDelivery> | null>;
  /** Writes a new delivery (a test event): false when that delivery exists already. */
  createDelivery(delivery: EventDelivery): Promise<boolean>;
  /** A counter kept in an endpoint's stream (its manual sends a minute), or null. */
  streamCounter(webhookId: string, id: string): Promise<Versioned<RateCounter> | null>;
  /**
   * Writes an endpoint's counter and one of its deliveries (created, or replaced if unchanged)
   * in one batch in its stream: both or neither. A WriteConflict at index 0 when another send
   * counted meanwhile, at index 1 when the delivery exists already or changed.
   */
  commitCountedDelivery(
    webhookId: string,
    counter: WriteOperation<RateCounter>,
    delivery: WriteOperation<EventDelivery>,
  ): Promise<void>;
  /** One endpoint's deliveries, newest first. */
  deliveries(webhookId: string, page: PageRequest): Promise<Page<EventDelivery>>;
  /** One endpoint's deliveries due at `now`, oldest first (prompt delivery). */
  deliveriesDueIn(webhookId: string, now: Date, limit: number): Promise<Versioned<EventDelivery>[]>;
  /** Replaces a delivery if its etag is unchanged: its new etag, or null if it changed. */
  replaceDelivery(delivery: EventDelivery, etag: string): Promise<string | null>;
  /**
   * Writes settled deliveries of one endpoint, each only if still as its run claimed it (its
   * etag): one round trip per batch when none changed; one another run took over is left as
   * that run made it.
   */
  settleDeliveries(settled: readonly Versioned<EventDelivery>[]): Promise<void>;
  /**
   * Cross-partition (timer): deliveries waiting, or whose claim lapsed, due at `now`, oldest
   * first, but those of the endpoints named in `passOver`.
   */
  deliveriesDue(now: Date, limit: number, passOver: string[]): Promise<Versioned<EventDelivery>[]>;
}

/** What became of one webhook request (docs/api.md Events). */
export interface WebhookDeliveryResult {
  outcome: 'delivered' | 'failed' | 'gone' | 'refused';
  status?: number;
  durationMs: number;
  excerpt?: string;
  error?: string;
}

/** Calls partners' webhook endpoints, safely (docs/security.md). */
export interface WebhookTransport {
  /** Why the app may not call this URL (plain words), or null when it may. */
  refusal(url: string): Promise<string | null>;
  /**
   * Signs and sends one event; never throws. The `webhook-timestamp` is the wall clock's, not
   * the app's Clock: receivers compare it with their own time to refuse replays.
   */
  deliver(request: {
    url: string;
    secrets: string[];
    eventId: string;
    body: string;
  }): Promise<WebhookDeliveryResult>;
  newSecret(): string;
  seal(secret: string): string;
  open(sealed: string): string;
}

/** An item of an outbox that failed for good, as the backlog lists it (a few properties). */
export interface FailedOutboxItem {
  id: string;
  partnerId: string;
  kind?: string;
  eventType?: string;
  failedAt?: string;
}

/** What the timers count of an outbox: never the items themselves. */
export interface OutboxCounts {
  /** Items waiting (due now or later, or claimed). */
  waiting: number;
  /** When the oldest of them was written; null when none waits. */
  oldestWaitingAt: string | null;
  failed: number;
  /** The most recent failures (failed since `since`), newest first, at most `shown`. */
  recentFailures: FailedOutboxItem[];
  /**
   * Deliveries: the endpoints whose deliveries wait for a retry (docs/rules.md section 13). Their
   * deliveries, and the events they have yet to be sent, count here, not in `waiting`; and only
   * the operators' own endpoints' failures count in `failed`. Emails: 0.
   */
  endpointsFailing: number;
}

/** Timer heartbeats and outbox backlogs (domain/operations.ts), in their own partition. */
export interface OperationsRepository {
  /** Every operations document: one single-partition query. */
  documents(): Promise<OperationsDocument[]>;
  heartbeat(timerName: string): Promise<TimerHeartbeat | null>;
  backlog(outbox: OutboxName): Promise<Versioned<OutboxBacklog> | null>;
  /** Upserts, or replaces if the etag is unchanged: false when it changed. */
  save(document: OperationsDocument, etag?: string): Promise<boolean>;
  /**
   * Cross-partition (timer): an outbox's counts, by COUNT, MIN and a few properties of its most
   * recent failures; for the events outbox, the feed events endpoints have yet to be sent count
   * as waiting too, but a failing endpoint's count apart (`endpointsFailing`).
   */
  counts(outbox: OutboxName, since: Date): Promise<OutboxCounts>;
}

export interface SendResult {
  /** The provider's message or operation id. */
  messageId: string;
}

/** A send that may succeed later: throttled or a transient failure. */
export class TransientSendError extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'TransientSendError';
  }
}

/**
 * The provider refused the send for its quota (ACS 429): nothing was sent, so it uses up no
 * attempt; the email waits for the Retry-After.
 */
export class SendThrottled extends TransientSendError {
  constructor(message: string, retryAfterSeconds?: number) {
    super(message, retryAfterSeconds);
    this.name = 'SendThrottled';
  }
}

/**
 * Sends one email. `operationId` is stable per outbox email: sending the same id twice
 * delivers it once (ACS Operation-Id; the file outbox names its file after it).
 */
export interface EmailSender {
  readonly name: string;
  send(message: EmailMessage, operationId: string): Promise<SendResult>;
}

export interface Logger {
  info(message: string, properties?: Record<string, unknown>): void;
  warn(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
}

export interface IdGenerator {
  newId(): string;
}

export interface TokenVerifier {
  /** Validates a bearer token; throws DomainError('unauthenticated') when it is not good. */
  verify(token: string): Promise<Principal>;
}

/**
 * What the idempotency store keeps for one POST scope (tenant, route, key): the hash of the
 * request and, once answered, the answer sealed with a key only the caller holds.
 */
export interface IdempotencyRecord {
  /** Also the partition key: a hash of (tenant, method, route, Idempotency-Key). */
  id: string;
  scope: string;
  requestHash: string;
  state: 'in-progress' | 'completed';
  /** The answer, sealed (AES-256-GCM) with a key derived from the Idempotency-Key; null until answered. */
  response: string | null;
  createdAt: string;
  /** The store may keep a record past its TTL (the emulator does): past this, it is absent. */
  expiresAt: string;
}

export interface IdempotencyStore {
  find(scope: string): Promise<Versioned<IdempotencyRecord> | null>;
  /**
   * Claims a scope for a request about to run: creates the record, or replaces an expired one
   * read with `replacing` as its etag. Null when another request claimed it first.
   */
  claim(record: IdempotencyRecord, replacing?: string): Promise<string | null>;
  /** Stores the answer in the claimed record. */
  complete(record: IdempotencyRecord, etag: string): Promise<void>;
  /** Gives the scope up (the request failed on our side): a retry runs it again. */
  release(scope: string, etag: string): Promise<void>;
}

export interface CustomerRepository {
  get(customerId: string): Promise<Versioned<Customer> | null>;
  getDocument<T extends CustomerDocument>(
    customerId: string,
    id: string,
  ): Promise<Versioned<T> | null>;
  /** One transactional batch in the customer's partition; the first operation is the guard. */
  commit(
    customerId: string,
    operations: WriteOperation<CustomerDocument | RelayedEventDocument>[],
  ): Promise<(string | null)[]>;
  /** Documents of a type in the customer's partition that this partner may see, newest first. */
  listFor<T extends CustomerDocument>(
    customerId: string,
    type: T['type'],
    partnerId: string | null,
    page: PageRequest,
  ): Promise<Page<Versioned<T>>>;
}
