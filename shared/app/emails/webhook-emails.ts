import type { EmailMessage } from '../../domain/email';
import type { Language } from '../../domain/partner';
import { renderEmail } from './render';

/** docs/rules.md, Emails: an endpoint disabled after a 410 Gone or three days of failures. */
export function webhookDisabledEmail(
  url: string,
  reason: string,
  to: string,
  language: Language,
  link: string,
): EmailMessage {
  const fr = language === 'fr';
  const host = new URL(url).host;
  return renderEmail({
    language,
    to,
    subject: fr
      ? `Point de terminaison webhook désactivé : ${host}`
      : `Webhook endpoint disabled: ${host}`,
    greeting: fr ? 'Bonjour,' : 'Hello,',
    paragraphs: fr
      ? [
          `Nous avons désactivé votre point de terminaison webhook ${host} : ${reason}.`,
          'Les événements restent disponibles dans le flux GET /api/me/events. Une fois le point de terminaison réparé, réactivez-le ; ceux dont la livraison a échoué peuvent être renvoyés un par un, et ceux survenus pendant qu’il était désactivé sont dans le flux.',
        ]
      : [
          `We disabled your webhook endpoint ${host}: ${reason}.`,
          'Events are still in the pull feed GET /api/me/events. Once the endpoint is fixed, enable it again; those whose delivery failed can be sent again one by one, and those that happened while it was disabled are in the feed.',
        ],
    action: { label: fr ? 'Voir vos webhooks' : 'View your webhooks', url: link },
    closing: fr ? 'Cordialement,' : 'Kind regards,',
    signature: fr ? "L'équipe Partner Center" : 'The Partner Center team',
  });
}
