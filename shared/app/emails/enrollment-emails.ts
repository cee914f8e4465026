import type { Language, Partner } from '../../domain/partner';
import type { EmailMessage } from '../../domain/email';
import { renderEmail } from './render';

const signature = { en: 'The Partner Center team', fr: "L'équipe Partner Center" };
const closing = { en: 'Kind regards,', fr: 'Cordialement,' };

interface Recipient {
  email: string;
  firstName: string;
}

/** docs/rules.md, Emails: enrollment approved, to the form's primary contact. */
export function enrollmentApprovedEmail(
  partner: Partner,
  to: Recipient,
  language: Language,
  link: string,
): EmailMessage {
  const fr = language === 'fr';
  return renderEmail({
    language,
    to: to.email,
    subject: fr
      ? `${partner.companyName} : votre inscription comme revendeur indirect est approuvée`
      : `${partner.companyName}: your indirect reseller enrollment is approved`,
    greeting: fr ? `Bonjour ${to.firstName},` : `Hello ${to.firstName},`,
    paragraphs: fr
      ? [
          `L'inscription de ${partner.companyName} au programme revendeur indirect a été approuvée.`,
          "Étape suivante : un administrateur général doit accepter le contrat de revendeur indirect dans l'espace partenaires. Vous pourrez ensuite trouver un fournisseur indirect et accepter son invitation.",
        ]
      : [
          `The enrollment of ${partner.companyName} in the indirect reseller program has been approved.`,
          'Next step: a global admin accepts the indirect reseller agreement in Partner Center. You can then find an indirect provider and accept its invitation.',
        ],
    action: { label: fr ? 'Accepter le contrat' : 'Accept the agreement', url: link },
    closing: closing[language],
    signature: signature[language],
  });
}

/** docs/rules.md, Emails: enrollment rejected, with the reviewers' reason. */
export function enrollmentRejectedEmail(
  partner: Partner,
  to: Recipient,
  language: Language,
  reason: string,
  link: string,
): EmailMessage {
  const fr = language === 'fr';
  return renderEmail({
    language,
    to: to.email,
    subject: fr
      ? `${partner.companyName} : votre inscription comme revendeur indirect n'a pas été approuvée`
      : `${partner.companyName}: your indirect reseller enrollment was not approved`,
    greeting: fr ? `Bonjour ${to.firstName},` : `Hello ${to.firstName},`,
    paragraphs: fr
      ? [
          `L'inscription de ${partner.companyName} au programme revendeur indirect n'a pas été approuvée.`,
          `Motif : ${reason}`,
          'Étape suivante : corrigez ce qui est indiqué, confirmez le profil partenaire, puis soumettez à nouveau l’inscription.',
        ]
      : [
          `The enrollment of ${partner.companyName} in the indirect reseller program was not approved.`,
          `Reason: ${reason}`,
          'Next step: correct what the reason points out, confirm the partner profile, then submit the enrollment again.',
        ],
    action: { label: fr ? "Voir l'inscription" : 'See the enrollment', url: link },
    closing: closing[language],
    signature: signature[language],
  });
}

/** docs/rules.md, Emails: enrollment escalated, to the reviewers' mailbox (in English). */
export function enrollmentEscalatedEmail(
  partner: Partner,
  to: string,
  submittedAt: string,
  businessDays: number,
  link: string,
): EmailMessage {
  return renderEmail({
    language: 'en',
    to,
    subject: `Enrollment pending over ${businessDays} business days: ${partner.companyName}`,
    greeting: 'Hello reviewers,',
    paragraphs: [
      `The indirect reseller enrollment of ${partner.companyName} (partner ${partner.partnerId}, MPN ID ${partner.mpnId ?? 'unknown'}) was submitted on ${submittedAt} and is still pending after ${businessDays} business days.`,
      'Please approve or reject it from the review queue.',
    ],
    action: { label: 'Open the review queue', url: link },
    closing: 'Thank you,',
    signature: 'Partner transition automation',
  });
}
