import {
  emailLanes,
  settledEmail,
  deliveryLeaseSeconds,
  retryDelaySeconds,
  type OutboxEmail,
} from '../domain/email';
import { publicItemId } from '../domain/operations';
import { takingTurns } from '../domain/send-budget';
import { SendThrottled, TransientSendError, type Logger, type Versioned } from './ports';
import { SendBudget } from './send-budget';
import { addSeconds, eachBounded } from './bounded';
import type { Services } from './services';

export interface DeliveryReport {
  sent: number;
  retried: number;
  failed: number;
  skipped: number;
  /** Sends ACS refused for its quota (429): none used up an attempt. */
  throttled: number;
  /** Emails were due but the send budget was spent: they wait for the next run. */
  outOfBudget: boolean;
}

/** Most due emails read per query: a page of them is claimed and sent one by one. */
const dueEmailsPerQuery = 1000;

/**
 * Due emails read per send the budget allows: enough for other partners' emails to take turns
 * with one partner's backlog, few enough that a short budget reads only a short page.
 */
const emailsReadPerSend = 4;

type Outcome = 'sent' | 'retried' | 'failed' | 'skipped' | 'throttled';

/**
 * The deliverEmails timer: sends the emails that are due, at least once and idempotently, within
 * the platform's send budget (EMAIL_SENDS_PER_MINUTE, EMAIL_SENDS_PER_HOUR: ACS quotas), the
 * transactional lane first, then bulk; what the budget does not allow waits for the next run.
 * Each email is first claimed with its etag (so two hosts running at once never both send it)
 * for a lease; a process that dies mid-delivery leaves a claim that lapses and is retried.
 * The send carries the email id as its operation id, so a send repeated after a crash is
 * delivered once. Failures retry with exponential backoff; after the last attempt the email
 * is marked failed and an error is logged. A throttled send (429) is not an attempt: it stops
 * the run and the email waits for the Retry-After.
 */
export async function deliverEmails(
  services: Services,
  logger: Logger,
  budgetMs = 240_000,
): Promise<DeliveryReport> {
  const report: DeliveryReport = {
    sent: 0,
    retried: 0,
    failed: 0,
    skipped: 0,
    throttled: 0,
    outOfBudget: false,
  };
  const started = Date.now();
  const seen = new Set<string>();
  const budget = new SendBudget(services);
  let stop = false;
  for (const lane of emailLanes) {
    while (!stop && Date.now() - started < budgetMs) {
      const limit = Math.min(dueEmailsPerQuery, Math.max(1, budget.ceiling * emailsReadPerSend));
      const page = await services.outbox.due(services.clock.now(), lane, limit);
      const due = page.filter((email) => !seen.has(email.value.id));
      if (due.length === 0) break;
      const granted = await budget.take(due.length);
      const batch = takingTurns(
        due.map((email) => ({ ...email, partnerId: email.value.partnerId })),
        granted,
      );
      if (batch.length < due.length) {
        report.outOfBudget = true;
        stop = true;
      }
      batch.forEach((email) => seen.add(email.value.id));
      let sends = 0;
      await eachBounded(batch, services.config.email.deliveryConcurrency, async (email) => {
        if (report.throttled > 0) return; // ACS is throttling: the rest waits
        const outcome = await deliverOne(services, logger, email);
        report[outcome] += 1;
        if (outcome !== 'skipped') sends += 1;
        if (outcome === 'throttled') stop = true;
      });
      await budget.giveBack(granted - sends);
      if (page.length < limit) break; // the lane has nothing more due
    }
  }
  if (report.outOfBudget) {
    logger.warn(
      'deliverEmails: the send budget is spent; the emails still due wait for the next run',
      {
        sendsPerMinute: services.config.email.sendsPerMinute,
        sendsPerHour: services.config.email.sendsPerHour,
      },
    );
  }
  return report;
}

async function deliverOne(
  services: Services,
  logger: Logger,
  { value: email, etag }: Versioned<OutboxEmail>,
): Promise<Outcome> {
  const { maxAttempts, retryBaseSeconds } = services.config.email;
  const now = services.clock.now();
  const claimed: OutboxEmail = {
    ...email,
    status: 'sending',
    attempts: email.attempts + 1,
    dueAt: addSeconds(now, deliveryLeaseSeconds),
  };
  const claimEtag = await services.outbox.replaceIfUnchanged(claimed, etag);
  if (claimEtag === null) return 'skipped'; // another run claimed it first
  let outcome: OutboxEmail;
  let result: Outcome;
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
    result = 'sent';
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof SendThrottled) {
      // Nothing was sent: the attempt is given back and the body kept, however long ACS throttles.
      const delay = error.retryAfterSeconds ?? retryBaseSeconds;
      outcome = {
        ...claimed,
        attempts: email.attempts,
        status: 'pending',
        dueAt: addSeconds(services.clock.now(), delay),
        lastError: reason,
      };
      result = 'throttled';
      logger.warn(`email ${email.id} (${email.kind}) throttled; retrying in ${delay}s`, {
        emailId: email.id,
        reason,
      });
    } else if (claimed.attempts >= maxAttempts) {
      outcome = settledEmail(claimed, 'failed', services.clock.now(), reason);
      result = 'failed';
      logger.error(
        `email ${email.id} (${email.kind}) failed for good after ${claimed.attempts} attempts`,
        {
          emailId: email.id,
          // What POST /api/operator/emails/{emailId}/retry takes (docs/api.md).
          retryId: publicItemId(email.partnerId, email.id),
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
      result = 'retried';
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
  return result;
}
