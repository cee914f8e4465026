import { queuedEmail, type EmailKind, type EmailMessage, type OutboxEmail } from '../domain/email';
import type { Services } from './services';

/** An email for the outbox, to be written in the same batch as the change that causes it. */
export function queue(
  services: Services,
  partnerId: string,
  kind: EmailKind,
  message: EmailMessage,
): OutboxEmail {
  return queuedEmail(services.ids.newId(), partnerId, kind, message, services.clock.now());
}
