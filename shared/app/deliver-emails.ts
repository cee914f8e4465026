import {
  claimGroups,
  emailLanes,
  settledEmail,
  deliveryLeaseSeconds,
  retryDelaySeconds,
  type ClaimGroup,
  type EmailLane,
  type OutboxEmail,
} from '../domain/email';
import { publicItemId } from '../domain/operations';
import { takingTurns } from '../domain/send-budget';
import {
  SendThrottled,
  TransientSendError,
  type DueEmail,
  type Logger,
  type Versioned,
} from './ports';
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

/**
 * Most due emails read per query. A due email is read without its bodies (about 200 bytes), so
 * 5,000 are about 1 MB: enough for a partner's several due emails to be found in one read and
 * claimed together (emailsPerClaim), not one round trip each.
 */
const dueEmailsPerQuery = 5000;

/**
 * Due emails read per send the budget allows: enough for other partners' emails to take turns
 * with one partner's backlog, few enough that a short budget reads only a short page.
 */
const emailsReadPerSend = 4;

/** Reads of due emails per turn, each passing over the partners already found. */
const readsPerTurn = 4;

/**
 * Most emails of one partner claimed in one round trip, then sent one after another: a partner
 * with many due emails costs a round trip per 25 claims and per 25 outcomes instead of one per
 * email, and its 25 sends (ACS answers in well under a second) end long before the claim's lease.
 */
const emailsPerClaim = 25;

type Outcome = 'sent' | 'retried' | 'failed' | 'skipped' | 'throttled';

/**
 * The deliverEmails timer: sends the emails that are due, at least once and idempotently, within
 * the platform's send budget (EMAIL_SENDS_PER_MINUTE, EMAIL_SENDS_PER_HOUR: ACS quotas), the
 * reviewers' and operators' lane first, then transactional, then bulk; what the budget does not
 * allow waits for the next run. Within a lane, partners take turns (docs/rules.md section 13):
 * one partner's backlog delays another partner's email by one run at most.
 * Each email is first claimed with its etag (so two hosts running at once never both send it)
 * for a lease; a process that dies mid-delivery leaves a claim that lapses and is retried.
 * A partner's emails are claimed, and their outcomes written, up to emailsPerClaim in one round
 * trip (each still on its own etag). The send carries the email id as its operation id, so a
 * send repeated after a crash is delivered once. Failures retry with exponential backoff; after
 * the last attempt the email is marked failed and an error is logged. A throttled send (429) is
 * not an attempt: it stops the run, the email waits for the Retry-After, and the emails claimed
 * with it and not sent yet are put back as they were.
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
  // Set the moment a send is throttled, so that no other send of the run (in its own group or
  // another running meanwhile) goes into the throttled quota.
  const acs: Throttling = { throttled: false };
  let stop = false;
  for (const lane of emailLanes) {
    while (!stop && Date.now() - started < budgetMs) {
      const limit = Math.min(dueEmailsPerQuery, Math.max(1, budget.ceiling * emailsReadPerSend));
      const { due, complete } = await dueInTurn(services, lane, limit, seen);
      if (due.length === 0) break;
      const granted = await budget.take(due.length);
      const batch = takingTurns(due, granted);
      if (batch.length < due.length) {
        report.outOfBudget = true;
        stop = true;
      }
      batch.forEach((email) => seen.add(email.id));
      let sends = 0;
      await eachBounded(
        claimGroups(batch, emailsPerClaim),
        services.config.email.deliveryConcurrency,
        async (group) => {
          if (acs.throttled) return; // ACS is throttling: the rest waits
          for (const outcome of await deliverGroup(services, logger, group, acs)) {
            report[outcome] += 1;
            if (outcome !== 'skipped') sends += 1;
            if (outcome === 'throttled') stop = true;
          }
        },
      );
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
): Promise<{ due: DueEmail[]; complete: boolean }> {
  const due: DueEmail[] = [];
  const ids = new Set<string>();
  const partners = new Set<string>();
  for (let read = 0; read < readsPerTurn; read += 1) {
    const page = await services.outbox.due(services.clock.now(), lane, limit, [...partners]);
    for (const email of page) {
      if (seen.has(email.id) || ids.has(email.id)) continue;
      ids.add(email.id);
      due.push(email);
      partners.add(email.partnerId);
    }
    // Fewer than asked: every due email of the partners not passed over was in this read, and
    // on the first read, every due email of the lane.
    if (page.length < limit) return { due, complete: read === 0 };
  }
  return { due, complete: false };
}

/** Whether ACS has refused a send of this run for its quota (429). */
interface Throttling {
  throttled: boolean;
}

/**
 * One partner's emails of a run: claimed together, sent one after another, their outcomes
 * written together. Once `acs.throttled` (ACS refused a send for its quota, in this group or
 * another), the emails claimed and not sent are put back as they were: not an attempt.
 */
async function deliverGroup(
  services: Services,
  logger: Logger,
  group: ClaimGroup<DueEmail>,
  acs: Throttling,
): Promise<Outcome[]> {
  const leaseUntil = new Date(services.clock.now().getTime() + deliveryLeaseSeconds * 1000);
  const claimed = await services.outbox.claim(group.partnerId, group.items, leaseUntil);
  const found = new Map(group.items.map((email) => [email.id, email]));
  const outcomes: Outcome[] = Array.from(
    { length: group.items.length - claimed.length },
    () => 'skipped', // another run claimed it first
  );
  const settled: Versioned<OutboxEmail>[] = [];
  for (const { value: email, etag } of claimed) {
    const asFound = found.get(email.id)!;
    if (acs.throttled) {
      settled.push({
        value: { ...email, status: 'pending', attempts: asFound.attempts, dueAt: asFound.dueAt },
        etag,
      });
      continue;
    }
    const [outcome, result] = await deliverOne(services, logger, email);
    settled.push({ value: outcome, etag });
    outcomes.push(result);
    if (result === 'throttled') acs.throttled = true;
  }
  // If a claim lapsed and another run took the email over, its outcome stands instead.
  await services.outbox.settle(group.partnerId, settled);
  return outcomes;
}

/** Sends a claimed email: what to write as its outcome, and what became of it. */
async function deliverOne(
  services: Services,
  logger: Logger,
  claimed: OutboxEmail,
): Promise<[OutboxEmail, Outcome]> {
  const { maxAttempts, retryBaseSeconds } = services.config.email;
  try {
    await services.emailSender.send(
      {
        to: claimed.to,
        subject: claimed.subject,
        text: claimed.text,
        html: claimed.html,
        links: claimed.links,
        ...(claimed.fromName ? { fromName: claimed.fromName } : {}),
        ...(claimed.replyTo ? { replyTo: claimed.replyTo } : {}),
      },
      claimed.id,
    );
    return [settledEmail(claimed, 'sent', services.clock.now(), null), 'sent'];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof SendThrottled) {
      // Nothing was sent: the attempt is given back and the body kept, however long ACS throttles.
      const delay = error.retryAfterSeconds ?? retryBaseSeconds;
      logger.warn(`email ${claimed.id} (${claimed.kind}) throttled; retrying in ${delay}s`, {
        emailId: claimed.id,
        reason,
      });
      return [
        {
          ...claimed,
          attempts: claimed.attempts - 1,
          status: 'pending',
          dueAt: addSeconds(services.clock.now(), delay),
          lastError: reason,
        },
        'throttled',
      ];
    }
    if (claimed.attempts >= maxAttempts) {
      logger.error(
        `email ${claimed.id} (${claimed.kind}) failed for good after ${claimed.attempts} attempts`,
        {
          emailId: claimed.id,
          // What POST /api/operator/emails/{emailId}/retry takes (docs/api.md).
          retryId: publicItemId(claimed.partnerId, claimed.id),
          kind: claimed.kind,
          partnerId: claimed.partnerId,
          reason,
        },
      );
      return [settledEmail(claimed, 'failed', services.clock.now(), reason), 'failed'];
    }
    const retryAfter = error instanceof TransientSendError ? (error.retryAfterSeconds ?? 0) : 0;
    const delay = Math.max(retryDelaySeconds(claimed.attempts, retryBaseSeconds), retryAfter);
    logger.warn(
      `email ${claimed.id} (${claimed.kind}) attempt ${claimed.attempts} failed; retrying in ${delay}s`,
      {
        emailId: claimed.id,
        reason,
      },
    );
    return [
      {
        ...claimed,
        status: 'pending',
        dueAt: addSeconds(services.clock.now(), delay),
        lastError: reason,
      },
      'retried',
    ];
  }
}
