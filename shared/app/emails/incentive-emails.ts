import type { EmailMessage } from '../../domain/email';
import type { Language, Partner } from '../../domain/partner';
import { renderEmail } from './render';

const signature = { en: 'The Partner Center team', fr: "L'équipe Partner Center" };
const closing = { en: 'Kind regards,', fr: 'Cordialement,' };

/**
 * docs/rules.md section 10 and Emails: the indirect reseller incentives invitation, to the email of
 * the MPN account associated with the partner's tenant (not the enrollment's primary contact,
 * so there is no first name to greet).
 */
export function incentiveInvitationEmail(
  partner: Partner,
  to: string,
  language: Language,
  link: string,
  expiresAt: string,
): EmailMessage {
  const fr = language === 'fr';
  const company = partner.companyName;
  const mpn = partner.mpnId ?? (fr ? 'inconnu' : 'unknown');
  const validUntil = expiresAt.slice(0, 10);
  return renderEmail({
    language,
    to,
    subject: fr
      ? `${company} : invitation au programme d'incitations revendeur indirect`
      : `${company}: your invitation to the indirect reseller incentives`,
    greeting: fr ? 'Bonjour,' : 'Hello,',
    paragraphs: fr
      ? [
          `${company} est désormais inscrit comme revendeur indirect : il est invité à rejoindre le programme d'incitations revendeur indirect.`,
          `Cette invitation est envoyée à l'adresse du compte MPN associé à votre locataire (MPN ID ${mpn}).`,
          "Pour vous inscrire, un administrateur général de votre organisation se connecte à l'espace partenaires et choisit Incitations, puis Incitations revendeur indirect, puis S'inscrire. Les programmes d'incitations en facturation directe sont gérés séparément : s'inscrire à l'un ne change rien à l'autre.",
          `Ce lien est valable jusqu'au ${validUntil}.`,
        ]
      : [
          `${company} is now enrolled as an indirect reseller, and is invited to enroll in the indirect reseller incentives program.`,
          `This invitation goes to the email address of the MPN account associated with your tenant (MPN ID ${mpn}).`,
          'To enroll, a global admin of your organisation signs in to Partner Center and selects Incentives, then Indirect reseller incentives, then Enroll. The direct-bill incentive programs are managed separately: enrolling in one changes nothing in the other.',
          `This link is valid until ${validUntil}.`,
        ],
    action: { label: fr ? "Voir l'invitation" : 'See the invitation', url: link },
    closing: closing[language],
    signature: signature[language],
  });
}
