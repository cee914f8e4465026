import { operatorEventsPartition } from './events';

/**
 * Emails leave through an outbox: a document written in the same transactional batch as the
 * state change that causes it, then delivered by the deliverEmails timer (docs/rules.md, Emails).
 */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Every link in the email, so the local outbox can print them and tests can follow them. */
  links: string[];
  /** The From display name (the address stays the platform's sender). */
  fromName?: string;
  /** Where replies go (a partner's own contact, never the platform's no-reply sender). */
  replyTo?: string;
}

export type EmailStatus = 'pending' | 'sending' | 'sent' | 'failed';

/**
 * Which emails go first when the platform's send budget (ACS quota) is short (docs/rules.md
 * section 13): those to the platform's own reviewers and operators, then those a person is
 * waiting for (enrollment decisions, invitations, transfers), then bulk ones.
 */
export type EmailLane = 'platform' | 'transactional' | 'bulk';

/** In the order deliverEmails serves them. */
export const emailLanes: readonly EmailLane[] = ['platform', 'transactional', 'bulk'];

/**
 * Every kind of email the app queues (shared/app/outbox.ts takes only these): docs/rules.md,
 * Emails, has a row for each, with who gets it and in which language.
 */
export const emailKinds = [
  'enrollment-approved',
  'enrollment-rejected',
  'enrollment-escalated',
  'partner-invitation',
  'partnership-ended',
  'customer-invitation',
  'incentive-invitation',
  'webhook-disabled',
  'transfer-requested',
  'transfer-completed',
  'transfer-rejected',
  'transfer-withdrawn',
  'transfer-expired',
  'transfer-cancelled',
] as const;

export type EmailKind = (typeof emailKinds)[number];

/** Kinds sent to the reviewers' mailbox. */
const platformKinds: ReadonlySet<string> = new Set(['enrollment-escalated']);

/** Kinds nobody waits for at the moment they are queued; every other kind is transactional. */
const bulkKinds: ReadonlySet<string> = new Set(['incentive-invitation']);

/** The lane of an email: the reviewers' and the operators' own (their partition's) first. */
export function laneOf(kind: string, partnerId?: string): EmailLane {
  if (platformKinds.has(kind) || partnerId === operatorEventsPartition) return 'platform';
  return bulkKinds.has(kind) ? 'bulk' : 'transactional';
}

export interface OutboxEmail extends EmailMessage {
  type: 'email';
  /** Also the ACS operation id: a retried send of the same email is not delivered twice. */
  id: string;
  partnerId: string;
  kind: string;
  lane: EmailLane;
  status: EmailStatus;
  attempts: number;
  /**
   * When the next delivery attempt is due (for `sending`: when its claim lapses). Removed once
   * the email is sent or failed, so the due-email index holds only the waiting ones.
   */
  dueAt?: string;
  createdAt: string;
  sentAt: string | null;
  lastError: string | null;
  /** When it failed for good (set only while it is failed). */
  failedAt?: string;
  /** Seconds to keep a delivered or failed email (Cosmos TTL); unset while it waits. */
  ttl?: number;
}

export function queuedEmail(
  id: string,
  partnerId: string,
  kind: EmailKind,
  message: EmailMessage,
  now: Date,
): OutboxEmail {
  return {
    type: 'email',
    id,
    partnerId,
    kind,
    lane: laneOf(kind, partnerId),
    ...message,
    status: 'pending',
    attempts: 0,
    dueAt: now.toISOString(),
    createdAt: now.toISOString(),
    sentAt: null,
    lastError: null,
  };
}

/** Exponential backoff: base, 2x base, 4x base ... capped at six hours. */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number {
  return Math.min(baseSeconds * 2 ** Math.max(0, attempts - 1), 6 * 3600);
}

/** How long a claimed email stays claimed before another run may take it over. */
export const deliveryLeaseSeconds = 300;

/** Delivered and failed emails are kept 90 days, then expire. */
export const deliveredEmailTtlSeconds = 90 * 24 * 3600;

/**
 * A failed email is kept, bodies included, for 30 days (the default life of an invitation link,
 * after which its secret opens nothing) so that an operator can put it back in the outbox; past
 * that it counts as gone even where the store has not yet purged it.
 */
export const failedEmailRetentionSeconds = 30 * 24 * 3600;

/**
 * A sent email keeps who, what and when, but not its bodies: an invitation's body holds its
 * link's secret, which must not stay in the database once delivered. A failed one keeps them
 * until it is retried or expires (docs/rules.md section 12).
 */
export function settledEmail(
  email: OutboxEmail,
  status: 'sent' | 'failed',
  at: Date,
  lastError: string | null,
): OutboxEmail {
  const { dueAt: _due, failedAt: _failed, ...rest } = email;
  if (status === 'failed') {
    return {
      ...rest,
      status,
      lastError,
      failedAt: at.toISOString(),
      ttl: failedEmailRetentionSeconds,
    };
  }
  return {
    ...rest,
    status,
    sentAt: at.toISOString(),
    lastError,
    text: '',
    html: '',
    links: [],
    ttl: deliveredEmailTtlSeconds,
  };
}

/**
 * True while a failed email can still be retried. `failedAt` is set only while the email is
 * failed (settledEmail, retriedEmail), and the retry route answers 409 to any other status first.
 */
export function isRetainedFailure(email: OutboxEmail, now: Date): boolean {
  return (
    email.failedAt !== undefined &&
    now.getTime() - Date.parse(email.failedAt) < failedEmailRetentionSeconds * 1000
  );
}

/** A failed email back in the outbox: due now, with a fresh set of attempts. */
export function retriedEmail(email: OutboxEmail, now: Date): OutboxEmail {
  const { failedAt: _failed, ttl: _ttl, ...rest } = email;
  return { ...rest, status: 'pending', attempts: 0, dueAt: now.toISOString() };
}

/** Emails of one partner, claimed together (at most a transactional batch's worth). */
export interface ClaimGroup<T> {
  partnerId: string;
  items: T[];
}

/**
 * `items` (in the order partners take turns) in groups of one partner's, at most `size` each,
 * in the order of each group's first item: a partner with many emails forms several groups, the
 * later ones after the other partners' first turns, so grouping never moves a partner ahead.
 */
export function claimGroups<T extends { partnerId: string }>(
  items: readonly T[],
  size: number,
): ClaimGroup<T>[] {
  const groups: ClaimGroup<T>[] = [];
  const open = new Map<string, ClaimGroup<T>>();
  for (const item of items) {
    let group = open.get(item.partnerId);
    if (group === undefined || group.items.length >= size) {
      group = { partnerId: item.partnerId, items: [] };
      groups.push(group);
      open.set(item.partnerId, group);
    }
    group.items.push(item);
  }
  return groups;
}
