import { conflict, notFound } from '../domain/errors';
import { isRetainedFailure, retriedEmail, type OutboxEmail } from '../domain/email';
import { parsePublicItemId, publicItemId } from '../domain/operations';
import { noteRetried } from './backlog';
import type { Services } from './services';

/**
 * An operator puts an email that failed for good back in the outbox (docs/rules.md section 12):
 * due at once, with a fresh set of attempts. The id names the email's partition
 * (`<partnerId>.<id>`, as the status page and the failure's log line give it).
 */
export async function retryFailedEmail(services: Services, emailId: string): Promise<OutboxEmail> {
  const parts = parsePublicItemId(emailId);
  const found = parts
    ? await services.partners.getDocument<OutboxEmail>(parts.partnerId, parts.id)
    : null;
  const now = services.clock.now();
  if (!parts || !found || found.value.type !== 'email') throw notFound('email');
  const email = found.value;
  if (email.status !== 'failed')
    throw conflict(`The email is ${email.status}: only an email that failed for good is retried.`);
  if (!isRetainedFailure(email, now)) throw notFound('email');
  const retried = retriedEmail(email, now);
  if ((await services.outbox.replaceIfUnchanged(retried, found.etag)) === null)
    throw conflict('The email changed while it was being retried; read the status again.');
  await noteRetried(services, 'emails', publicItemId(email.partnerId, email.id));
  return retried;
}
