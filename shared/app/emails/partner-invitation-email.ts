import type { EmailMessage } from '../../domain/email';
import type { Language } from '../../domain/partner';
import type { ProviderSnapshot } from '../../domain/providers';
import { renderEmail } from './render';

const serviceNames: Record<Language, Record<string, string>> = {
  en: {
    'training-support': 'training and technical support',
    marketing: 'marketing help',
    'credit-financing': 'credit terms and financing',
  },
  fr: {
    'training-support': 'formation et support technique',
    marketing: 'aide marketing',
    'credit-financing': 'conditions de crédit et financement',
  },
};

/** docs/rules.md section 6: the provider's invitation, an email with a personalised link. */
export function partnerInvitationEmail(
  provider: ProviderSnapshot,
  to: string,
  language: Language,
  link: string,
  expiresAt: string,
): EmailMessage {
  const fr = language === 'fr';
  const services = provider.services
    .map((service) => serviceNames[language][service] ?? service)
    .join(', ');
  const expires = expiresAt.slice(0, 10);
  return renderEmail({
    language,
    to,
    subject: fr
      ? `${provider.companyName} vous invite à devenir son revendeur indirect`
      : `${provider.companyName} invites you to become its indirect reseller`,
    greeting: fr ? 'Bonjour,' : 'Hello,',
    paragraphs: fr
      ? [
          `${provider.companyName}, fournisseur indirect, vous invite à rejoindre son réseau de revendeurs indirects.`,
          ...(services ? [`Services proposés : ${services}.`] : []),
          `Un administrateur général de votre organisation doit se connecter et accepter l'invitation. Ce lien est personnel, ne peut servir qu'une fois et expire le ${expires}.`,
        ]
      : [
          `${provider.companyName}, an indirect provider, invites you to join its network of indirect resellers.`,
          ...(services ? [`Services offered: ${services}.`] : []),
          `A global admin of your organisation signs in and accepts the invitation. This link is personal, works once, and expires on ${expires}.`,
        ],
    action: { label: fr ? "Voir l'invitation" : 'View the invitation', url: link },
    closing: fr ? 'Cordialement,' : 'Kind regards,',
    signature: provider.companyName,
  });
}
