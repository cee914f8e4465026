import type { EmailMessage } from '../../domain/email';
import type { Language } from '../../domain/partner';
import type { Transfer, TransferStatus } from '../../domain/transfers';
import { renderEmail } from './render';

const signature = { en: 'The Partner Center team', fr: "L'équipe Partner Center" };
const closing = { en: 'Kind regards,', fr: 'Cordialement,' };

const what: Record<TransferStatus, { en: string; fr: string }> = {
  pending: { en: 'requested', fr: 'demandé' },
  completed: { en: 'accepted and completed', fr: 'accepté et effectué' },
  rejected: { en: 'rejected', fr: 'refusé' },
  withdrawn: { en: 'withdrawn', fr: 'retiré' },
  expired: { en: 'expired', fr: 'expiré' },
  cancelled: { en: 'cancelled', fr: 'annulé' },
};

const consequence: Record<TransferStatus, { en: string; fr: string }> = {
  pending: {
    en: 'The provider accepts or rejects it within 30 days; until then the subscriptions stay as they are.',
    fr: "Le fournisseur l'accepte ou le refuse sous 30 jours ; d'ici là, les abonnements restent inchangés.",
  },
  completed: {
    en: "The reseller's direct-bill subscriptions are suspended; the provider now bills their successors, with the reseller as partner of record.",
    fr: 'Les abonnements en facturation directe du revendeur sont suspendus ; le fournisseur facture désormais leurs successeurs, le revendeur restant partenaire attitré.',
  },
  rejected: {
    en: 'The subscriptions stay with the reseller, billed directly.',
    fr: 'Les abonnements restent chez le revendeur, en facturation directe.',
  },
  withdrawn: {
    en: 'The reseller withdrew the request; the subscriptions stay with it.',
    fr: 'Le revendeur a retiré sa demande ; les abonnements restent chez lui.',
  },
  expired: {
    en: 'Nobody answered within 30 days; the subscriptions stay with the reseller.',
    fr: "Personne n'a répondu sous 30 jours ; les abonnements restent chez le revendeur.",
  },
  cancelled: {
    en: 'The partnership between the provider and the reseller ended; the subscriptions stay with the reseller.',
    fr: 'Le partenariat entre le fournisseur et le revendeur a pris fin ; les abonnements restent chez le revendeur.',
  },
};

/** docs/rules.md, Emails: each transfer step, to both partners' primary contacts. */
export function transferEmail(
  transfer: Transfer,
  to: string,
  language: Language,
  link: string,
): EmailMessage {
  const fr = language === 'fr';
  const count = transfer.lineItems.reduce((total, line) => total + 1 + line.addOns.length, 0);
  const step = what[transfer.status][language];
  return renderEmail({
    language,
    to,
    subject: fr
      ? `Transfert d'abonnements ${step} : ${transfer.customerName} (${transfer.reseller.companyName} → ${transfer.provider.companyName})`
      : `Subscription transfer ${step}: ${transfer.customerName} (${transfer.reseller.companyName} → ${transfer.provider.companyName})`,
    greeting: fr ? 'Bonjour,' : 'Hello,',
    paragraphs: [
      fr
        ? `Le transfert ${transfer.transferId} de ${count} abonnement(s) du client ${transfer.customerName}, de ${transfer.reseller.companyName} (revendeur) vers ${transfer.provider.companyName} (fournisseur indirect), est ${step}.`
        : `Transfer ${transfer.transferId} of ${count} subscription(s) of ${transfer.customerName}, from ${transfer.reseller.companyName} (reseller) to ${transfer.provider.companyName} (indirect provider), was ${step}.`,
      consequence[transfer.status][language],
      ...(transfer.reason
        ? [fr ? `Motif : ${transfer.reason}` : `Reason: ${transfer.reason}`]
        : []),
    ],
    action: { label: fr ? 'Voir le transfert' : 'View the transfer', url: link },
    closing: closing[language],
    signature: signature[language],
  });
}

/** docs/rules.md section 8b: the reseller is told when its provider ends their partnership. */
export function partnershipEndedEmail(
  providerName: string,
  resellerName: string,
  to: string,
  language: Language,
  link: string,
): EmailMessage {
  const fr = language === 'fr';
  return renderEmail({
    language,
    to,
    subject: fr
      ? `${providerName} a mis fin à son partenariat avec ${resellerName}`
      : `${providerName} ended its partnership with ${resellerName}`,
    greeting: fr ? 'Bonjour,' : 'Hello,',
    paragraphs: fr
      ? [
          `${providerName}, fournisseur indirect, a mis fin à son partenariat avec ${resellerName}.`,
          "Vos clients restent où ils sont ; les transferts d'abonnements en attente entre vous sont annulés. Une nouvelle invitation pourra ouvrir un nouveau partenariat.",
        ]
      : [
          `${providerName}, an indirect provider, ended its partnership with ${resellerName}.`,
          'Your customers stay where they are; pending subscription transfers between you are cancelled. A new invitation may start a new partnership later.',
        ],
    action: { label: fr ? 'Voir vos fournisseurs' : 'View your providers', url: link },
    closing: closing[language],
    signature: signature[language],
  });
}
