import {
  settledEmail,
  deliveryLeaseSeconds,
  retryDelaySeconds,
  type OutboxEmail,
} from '../domain/email';
import { TransientSendError, type Logger, type Versioned } from './ports';
import type { Services } from './services';

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
}

/**
 * Due emails read per query: a page of them is claimed and sent one by one, so a larger page
 * holds no claim longer; it only saves queries (each a cross-partition round trip, and a scan
 * of the whole container on the emulator).
 */
const dueEmailsPerQuery = 1000;

const addSeconds = (date: Date, seconds: number): string =>
  new Date(date.getTime() + seconds * 1000).toISOString();

/** Runs `work` over `items` with at most `limit` at a time. */
async function eachBounded<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next]!;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(workers);
}

/**
 * The deliverEmails timer: sends every email that is due, at least once and idempotently.
 * Each email is first claimed with its etag (so two hosts running at once never both send it)
 * for a lease; a process that dies mid-delivery leaves a claim that lapses and is retried.
 * The send carries the email id as its operation id, so a send repeated after a crash is
 * delivered once. Failures retry with exponential backoff; after the last attempt the email
 * is marked failed and an error is logged.
 */
export async function deliverEmails(
  services: Services,
  logger: Logger,
  budgetMs = 240_000,
): Promise<DeliveryReport> {
  const report: DeliveryReport = { sent: 0, retried: 0, failed: 0, skipped: 0 };
  const started = Date.now();
  const seen = new Set<string>();
  while (Date.now() - started < budgetMs) {
    const due = (await services.outbox.due(services.clock.now(), dueEmailsPerQuery)).filter(
      (email) => !seen.has(email.value.id),
    );
    if (due.length === 0) break;
    due.forEach((email) => seen.add(email.value.id));
    await eachBounded(due, services.config.email.deliveryConcurrency, (email) =>
      deliverOne(services, logger, email, report),
    );
  }
  return report;
}

async function deliverOne(
  services: Services,
  logger: Logger,
  { value: email, etag }: Versioned<OutboxEmail>,
  report: DeliveryReport,
): Promise<void> {
  const { maxAttempts, retryBaseSeconds } = services.config.email;
  const now = services.clock.now();
  const claimed: OutboxEmail = {
    ...email,
    status: 'sending',
    attempts: email.attempts + 1,
    dueAt: addSeconds(now, deliveryLeaseSeconds),
  };
  const claimEtag = await services.outbox.replaceIfUnchanged(claimed, etag);
  if (claimEtag === null) {
    report.skipped += 1; // another run claimed it first
    return;
  }
  let outcome: OutboxEmail;
  try {
    await services.emailSender.send(
      {
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        links: email.links,
        ...(email.fromName ? { fromName: email.fromName } : {}),
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
      },
      email.id,
    );
    outcome = settledEmail(claimed, 'sent', services.clock.now(), null);
    report.sent += 1;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (claimed.attempts >= maxAttempts) {
      outcome = settledEmail(claimed, 'failed', services.clock.now(), reason);
      report.failed += 1;
      logger.error(
        `email ${email.id} (${email.kind}) failed for good after ${claimed.attempts} attempts`,
        {
          emailId: email.id,
          kind: email.kind,
          partnerId: email.partnerId,
          reason,
        },
      );
    } else {
      const retryAfter = error instanceof TransientSendError ? (error.retryAfterSeconds ?? 0) : 0;
      const delay = Math.max(retryDelaySeconds(claimed.attempts, retryBaseSeconds), retryAfter);
      outcome = {
        ...claimed,
        status: 'pending',
        dueAt: addSeconds(services.clock.now(), delay),
        lastError: reason,
      };
      report.retried += 1;
      logger.warn(
        `email ${email.id} (${email.kind}) attempt ${claimed.attempts} failed; retrying in ${delay}s`,
        {
          emailId: email.id,
          reason,
        },
      );
    }
  }
  // If the claim lapsed and another run took the email over, its outcome stands instead.
  await services.outbox.replaceIfUnchanged(outcome, claimEtag);
}
