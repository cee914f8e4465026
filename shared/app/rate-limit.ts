import { rateLimited } from '../domain/errors';
import {
  allowanceExceeded,
  hourWindow,
  minuteWindow,
  rateCounterId,
  rateCounterTtlSeconds,
  type RateCounter,
} from '../domain/rate-limit';
import type { PartnerDocument, Versioned, WriteOperation } from './ports';
import type { Services } from './services';

/** The emails one action causes, and how many of them are invitations. */
export interface EmailCount {
  emails: number;
  invitations?: number;
}

/**
 * docs/rules.md section 13: counts the emails a partner's action causes against its hourly
 * allowance (EMAIL_SENDS_PER_PARTNER_PER_HOUR; invitation emails also against
 * INVITATION_RATE_LIMIT_PER_HOUR), in one counter document per partner and hour in its own
 * partition. Returns the counter's write, to go FIRST in the batch that queues the emails (a
 * refused first operation writes nothing, even on the emulator; a concurrent action makes it a
 * WriteConflict at index 0, and the caller counts again). An action that would pass the
 * allowance gets 429 `rate-limited` with Retry-After, the seconds until the next hour, before
 * anything is written; with `overrun: 'allowed'` (ending a partnership, which must never be
 * refused) it is counted all the same, and what follows this hour is refused.
 */
export async function countEmails(
  services: Services,
  partnerId: string,
  now: Date,
  adding: EmailCount,
  overrun: 'refused' | 'allowed' = 'refused',
): Promise<WriteOperation<PartnerDocument>> {
  const window = hourWindow(now);
  const id = rateCounterId('emails', window);
  const found = await services.partners.getDocument<RateCounter>(partnerId, id);
  const counted = { emails: found?.value.count ?? 0, invitations: found?.value.invitations ?? 0 };
  const add = { emails: adding.emails, invitations: adding.invitations ?? 0 };
  const limits = {
    emailsPerHour: services.config.limits.emailsPerPartnerPerHour,
    invitationsPerHour: services.config.limits.invitationsPerHour,
  };
  const exceeded = allowanceExceeded(counted, add, limits);
  if (exceeded && overrun === 'refused') {
    const what =
      exceeded === 'invitations'
        ? `At most ${limits.invitationsPerHour} invitation emails an hour may be sent for a partner`
        : `At most ${limits.emailsPerHour} emails an hour may be caused by a partner's actions, and this one would send ${add.emails} more`;
    throw rateLimited(what, window.secondsLeft);
  }
  const counter: RateCounter = {
    type: 'rate-counter',
    id,
    partnerId,
    window: window.key,
    count: Math.max(0, counted.emails + add.emails),
    invitations: Math.max(0, counted.invitations + add.invitations),
    ttl: rateCounterTtlSeconds,
  };
  return found
    ? { op: 'replace', document: counter, etag: found.etag }
    : { op: 'create', document: counter };
}

/**
 * A per-minute limit on what one thing (a webhook endpoint) may be asked to do: the counter's
 * write, to go first in the batch that does it, in the partition `read` reads it from (`place`
 * says which); 429 with Retry-After once `limit` is reached.
 */
export async function countPerMinute(
  services: Services,
  read: (id: string) => Promise<Versioned<RateCounter> | null>,
  place: Pick<RateCounter, 'partnerId' | 'stream'>,
  what: string,
  limit: number,
  detail: string,
): Promise<WriteOperation<RateCounter>> {
  const window = minuteWindow(services.clock.now());
  const id = rateCounterId(what, window);
  const found = await read(id);
  const count = found?.value.count ?? 0;
  if (count >= limit) {
    throw rateLimited(detail, window.secondsLeft);
  }
  const counter: RateCounter = {
    type: 'rate-counter',
    id,
    ...place,
    window: window.key,
    count: count + 1,
    ttl: 120,
  };
  return found
    ? { op: 'replace', document: counter, etag: found.etag }
    : { op: 'create', document: counter };
}
