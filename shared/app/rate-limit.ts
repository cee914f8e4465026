import { DomainError } from '../domain/errors';
import {
  hourWindow,
  rateCounterId,
  rateCounterTtlSeconds,
  type RateCounter,
} from '../domain/rate-limit';
import type { PartnerDocument, WriteOperation } from './ports';
import type { Services } from './services';

/**
 * Counts one invitation email against the tenant's hourly limit (INVITATION_RATE_LIMIT_PER_HOUR):
 * returns the counter's write, to go FIRST in the batch that queues the email (a refused first
 * operation writes nothing, even on the emulator; a concurrent invitation makes it a
 * WriteConflict at index 0, and the caller counts again). Over the limit it throws 429
 * `rate-limited` with Retry-After, the seconds until the next hour, before anything is written.
 * Every route that emails an invitation calls it: reseller invitations, customer invitations.
 */
export async function countInvitationEmail(
  services: Services,
  partnerId: string,
  now: Date,
): Promise<WriteOperation<PartnerDocument>> {
  const window = hourWindow(now);
  const id = rateCounterId('invitations', window);
  const limit = services.config.limits.invitationsPerHour;
  const found = await services.partners.getDocument<RateCounter>(partnerId, id);
  if (!found) {
    const counter: RateCounter = {
      type: 'rate-counter',
      id,
      partnerId,
      window: window.key,
      count: 1,
      ttl: rateCounterTtlSeconds,
    };
    return { op: 'create', document: counter };
  }
  if (found.value.count >= limit) {
    throw new DomainError(
      'rate-limited',
      `At most ${limit} invitation emails an hour may be sent for a partner; try again in ${window.secondsLeft} seconds.`,
      undefined,
      { 'Retry-After': String(window.secondsLeft) },
    );
  }
  return {
    op: 'replace',
    document: { ...found.value, count: found.value.count + 1 },
    etag: found.etag,
  };
}
