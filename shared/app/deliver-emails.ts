import {
  emailLanes,
  settledEmail,
  deliveryLeaseSeconds,
  retryDelaySeconds,
  type EmailLane,
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

/** Reads of due emails per turn, each passing over the partners already found. */
const readsPerTurn = 4;

type Outcome = 'sent' | 'retried' | 'failed' | 'skipped' | 'throttled';

/**
 * The deliverEmails timer: sends the emails that are due, at least once and idempotently, within
 * the platform's send budget (EMAIL_SENDS_PER_MINUTE, EMAIL_SENDS_PER_HOUR: ACS quotas), the
 * reviewers' and operators' lane first, then transactional, then bulk; what the budget does not
 * allow waits for the next run. Within a lane, partners take turns (docs/rules.md section 13):
 * one partner's backlog delays another partner's email by one run at most.
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
      const { due, complete } = await dueInTurn(services, lane, limit, seen);
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
      if (complete) break; // the lane had nothing more due
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

/**
 * The emails of a lane due now that this run has not handled yet, oldest first, with every
 * partner that has any among them (docs/rules.md section 13): when one partner's backlog fills a
 * read, the next read passes over the partners found so far, so the others' emails are found
 * too, whatever the backlog. Partners then take turns over what was found.
 */
async function dueInTurn(
  services: Services,
  lane: EmailLane,
  limit: number,
  seen: ReadonlySet<string>,
): Promise<{ due: Versioned<OutboxEmail>[]; complete: boolean }> {
  const due: Versioned<OutboxEmail>[] = [];
  const ids = new Set<string>();
  const partners = new Set<string>();
  for (let read = 0; read < readsPerTurn; read += 1) {
    const page = await services.outbox.due(services.clock.now(), lane, limit, [...partners]);
    for (const email of page) {
      if (seen.has(email.value.id) || ids.has(email.value.id)) continue;
      ids.add(email.value.id);
      due.push(email);
      partners.add(email.value.partnerId);
    }
    // Fewer than asked: every due email of the partners not passed over was in this read, and
    // on the first read, every due email of the lane.
    if (page.length < limit) return { due, complete: read === 0 };
  }
  return { due, complete: false };
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
