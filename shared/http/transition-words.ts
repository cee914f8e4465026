import type { Language } from '../domain/partner';
import type { StepReason } from '../domain/transition';
import { readableDate } from './dates';

type Words = { [W in StepReason as `${W['step']}:${W['why']}`]: (reason: W) => string };

const plural = (count: number, one: string, many: string): string =>
  `${count} ${count === 1 ? one : many}`;

const english: Words = {
  'profile:confirmed': (r) =>
    `Your partner profile was confirmed on ${readableDate(r.confirmedAt, 'en')}.`,
  'profile:missing': (r) =>
    r.fields.length === 0
      ? 'A global admin confirms the partner profile before enrolling.'
      : `Complete the partner profile before enrolling; missing: ${r.fields.join(', ')}.`,
  'profile:stale': (r) =>
    `Your profile was last confirmed on ${readableDate(r.confirmedAt, 'en')}, more than 12 months ago: a global admin confirms it again before enrolling.`,
  'enrollment:submitted': (r) =>
    `You enrolled as an indirect reseller on ${readableDate(r.submittedAt, 'en')}.`,
  'enrollment:ready': () =>
    'A global admin submits the enrollment form to become an indirect reseller with your existing tenant.',
  'enrollment:profile-first': () => 'You can enroll once your partner profile is current.',
  'enrollment:not-direct-bill': () =>
    'Only a partner in the direct-bill program can enroll as an indirect reseller with its existing tenant.',
  'enrollment:resubmit': (r) =>
    `Your enrollment was rejected on ${readableDate(r.rejectedAt, 'en')}${r.reason ? `: ${r.reason}` : ''}. Correct what it says and submit again.`,
  'approval:approved': (r) =>
    r.automatic ? 'Approved at once: every automatic check passed.' : 'Approved by the reviewers.',
  'approval:in-review': (r) =>
    r.overdue
      ? `The reviewers have not decided yet; it was due by ${readableDate(r.dueBy, 'en')} and has been escalated to them.`
      : `The reviewers decide within three business days, by ${readableDate(r.dueBy, 'en')}.`,
  'approval:rejected': (r) =>
    `The reviewers rejected your enrollment${r.reason ? `: ${r.reason}` : ''}.`,
  'approval:not-submitted': () => 'Reviewers decide once you have enrolled.',
  'agreement:accepted': (r) =>
    `You accepted the indirect reseller agreement${r.version ? ` (version ${r.version})` : ''}: you are both a direct and an indirect reseller.`,
  'agreement:to-accept': () =>
    'A global admin reads and accepts the indirect reseller agreement to become active.',
  'agreement:after-approval': () => 'The agreement opens once your enrollment is approved.',
  'provider:in-partnership': (r) =>
    `You are in partnership with ${plural(r.providers, 'indirect provider', 'indirect providers')}.`,
  'provider:find-provider': (r) =>
    `${r.hadOne ? 'Your partnership ended. ' : ''}Choose an indirect provider in your region and accept its invitation: its email carries the link.`,
  'provider:after-approval': () => 'You partner with a provider once your enrollment is approved.',
  'customers:moved': (r) =>
    `You moved ${plural(r.moved, 'customer', 'customers')} towards your provider${r.stillDirect > 0 ? `; ${plural(r.stillDirect, 'is', 'are')} still direct bill, and you may move them when you are ready` : ''}.`,
  'customers:to-move': (r) =>
    `${plural(r.stillDirect, 'direct-bill customer', 'direct-bill customers')} can be extended to your provider, with each customer's consent.`,
  'customers:none-to-move': () =>
    'You have no direct-bill customer to move: invite new customers to you and your provider.',
  'customers:after-provider': () =>
    'You move customers once you are active and in partnership with a provider.',
  'subscriptions:transferred': (r) =>
    `${plural(r.transferred, 'subscription was', 'subscriptions were')} transferred to your provider${r.stillDirect > 0 ? `; you still bill ${plural(r.stillDirect, 'active subscription', 'active subscriptions')} directly` : ''}.`,
  'subscriptions:in-transfer': (r) =>
    `${plural(r.inTransfer, 'subscription waits', 'subscriptions wait')} for your provider's answer to a transfer.`,
  'subscriptions:to-transfer': (r) =>
    `You bill ${plural(r.stillDirect, 'active subscription', 'active subscriptions')} directly: ask your provider to take over the license subscriptions of your extended customers.`,
  'subscriptions:none-to-transfer': () => 'You bill no subscription directly: nothing to transfer.',
  'subscriptions:after-customers': () =>
    'You transfer subscriptions once a customer is extended to your provider.',
  'incentives:enrolled': () => 'You are enrolled in the indirect reseller incentives.',
  'incentives:invited': () =>
    'You are invited to the indirect reseller incentives: enroll when you are ready.',
  'incentives:due': (r) =>
    r.overdue
      ? `The invitation to the indirect reseller incentives is late: it was due by ${readableDate(r.dueBy, 'en')}; operators have been alerted.`
      : `The invitation to the indirect reseller incentives is sent to your MPN account email by ${readableDate(r.dueBy, 'en')}.`,
  'incentives:held': () =>
    'The invitation to the indirect reseller incentives cannot be sent: no MPN account email is on record. Ask your operator to add it.',
  'incentives:after-approval': () =>
    'You are invited to the indirect reseller incentives within 30 days of your approval.',
};

const french: Words = {
  'profile:confirmed': (r) =>
    `Votre profil partenaire a été confirmé le ${readableDate(r.confirmedAt, 'fr')}.`,
  'profile:missing': (r) =>
    r.fields.length === 0
      ? "Un administrateur général confirme le profil partenaire avant l'inscription."
      : `Complétez le profil partenaire avant de vous inscrire ; il manque : ${r.fields.join(', ')}.`,
  'profile:stale': (r) =>
    `Votre profil a été confirmé pour la dernière fois le ${readableDate(r.confirmedAt, 'fr')}, il y a plus de 12 mois : un administrateur général le confirme à nouveau avant l'inscription.`,
  'enrollment:submitted': (r) =>
    `Vous vous êtes inscrit comme revendeur indirect le ${readableDate(r.submittedAt, 'fr')}.`,
  'enrollment:ready': () =>
    "Un administrateur général envoie le formulaire d'inscription pour devenir revendeur indirect avec votre locataire actuel.",
  'enrollment:profile-first': () =>
    "L'inscription est possible dès que votre profil partenaire est à jour.",
  'enrollment:not-direct-bill': () =>
    'Seul un partenaire du programme de facturation directe peut devenir revendeur indirect avec son locataire actuel.',
  'enrollment:resubmit': (r) =>
    `Votre inscription a été refusée le ${readableDate(r.rejectedAt, 'fr')}${r.reason ? ` : ${r.reason}` : ''}. Corrigez ce qui est indiqué et envoyez-la à nouveau.`,
  'approval:approved': (r) =>
    r.automatic
      ? 'Approuvée immédiatement : toutes les vérifications automatiques ont réussi.'
      : 'Approuvée par les vérificateurs.',
  'approval:in-review': (r) =>
    r.overdue
      ? `Les vérificateurs n'ont pas encore décidé ; la décision était attendue avant le ${readableDate(r.dueBy, 'fr')} et leur a été signalée.`
      : `Les vérificateurs décident sous trois jours ouvrés, avant le ${readableDate(r.dueBy, 'fr')}.`,
  'approval:rejected': (r) =>
    `Les vérificateurs ont refusé votre inscription${r.reason ? ` : ${r.reason}` : ''}.`,
  'approval:not-submitted': () => 'Les vérificateurs décident une fois votre inscription envoyée.',
  'agreement:accepted': (r) =>
    `Vous avez accepté le contrat de revendeur indirect${r.version ? ` (version ${r.version})` : ''} : vous êtes à la fois revendeur direct et indirect.`,
  'agreement:to-accept': () =>
    'Un administrateur général lit et accepte le contrat de revendeur indirect pour devenir actif.',
  'agreement:after-approval': () => "Le contrat est disponible une fois l'inscription approuvée.",
  'provider:in-partnership': (r) =>
    `Vous êtes en partenariat avec ${plural(r.providers, 'fournisseur indirect', 'fournisseurs indirects')}.`,
  'provider:find-provider': (r) =>
    `${r.hadOne ? 'Votre partenariat a pris fin. ' : ''}Choisissez un fournisseur indirect de votre région et acceptez son invitation : son e-mail contient le lien.`,
  'provider:after-approval': () =>
    "Le partenariat avec un fournisseur vient une fois l'inscription approuvée.",
  'customers:moved': (r) =>
    `Vous avez transféré ${plural(r.moved, 'client', 'clients')} vers votre fournisseur${r.stillDirect > 0 ? ` ; ${plural(r.stillDirect, 'client reste', 'clients restent')} en facturation directe, à transférer quand vous le souhaitez` : ''}.`,
  'customers:to-move': (r) =>
    `${plural(r.stillDirect, 'client en facturation directe peut être étendu', 'clients en facturation directe peuvent être étendus')} à votre fournisseur, avec l'accord de chaque client.`,
  'customers:none-to-move': () =>
    "Vous n'avez aucun client en facturation directe à transférer : invitez de nouveaux clients chez vous et votre fournisseur.",
  'customers:after-provider': () =>
    'Le transfert des clients vient une fois actif et en partenariat avec un fournisseur.',
  'subscriptions:transferred': (r) =>
    `${plural(r.transferred, 'abonnement a été transféré', 'abonnements ont été transférés')} à votre fournisseur${r.stillDirect > 0 ? ` ; vous facturez encore directement ${plural(r.stillDirect, 'abonnement actif', 'abonnements actifs')}` : ''}.`,
  'subscriptions:in-transfer': (r) =>
    `${plural(r.inTransfer, 'abonnement attend', 'abonnements attendent')} la réponse de votre fournisseur à un transfert.`,
  'subscriptions:to-transfer': (r) =>
    `Vous facturez directement ${plural(r.stillDirect, 'abonnement actif', 'abonnements actifs')} : demandez à votre fournisseur de reprendre les abonnements de licences de vos clients étendus.`,
  'subscriptions:none-to-transfer': () =>
    'Vous ne facturez directement aucun abonnement : rien à transférer.',
  'subscriptions:after-customers': () =>
    'Le transfert des abonnements vient une fois un client étendu à votre fournisseur.',
  'incentives:enrolled': () => 'Vous êtes inscrit aux incitations pour revendeurs indirects.',
  'incentives:invited': () =>
    'Vous êtes invité aux incitations pour revendeurs indirects : inscrivez-vous quand vous le souhaitez.',
  'incentives:due': (r) =>
    r.overdue
      ? `L'invitation aux incitations pour revendeurs indirects est en retard : elle était attendue avant le ${readableDate(r.dueBy, 'fr')} ; les opérateurs sont alertés.`
      : `L'invitation aux incitations pour revendeurs indirects est envoyée à l'e-mail de votre compte MPN avant le ${readableDate(r.dueBy, 'fr')}.`,
  'incentives:held': () =>
    "L'invitation aux incitations pour revendeurs indirects ne peut pas être envoyée : aucun e-mail de compte MPN n'est enregistré. Demandez à votre opérateur de l'ajouter.",
  'incentives:after-approval': () =>
    "Vous êtes invité aux incitations pour revendeurs indirects dans les 30 jours suivant l'approbation.",
};

/** A step's plain-words detail, in the language of the partner's emails. */
export function stepDetail(reason: StepReason, language: Language): string {
  const words = language === 'fr' ? french : english;
  const say = words[`${reason.step}:${reason.why}` as keyof Words] as (
    reason: StepReason,
  ) => string;
  return say(reason);
}
