import type { CustomerInvitation } from '../../domain/customers';
import type { Language } from '../../domain/partner';
import { escapeHtml } from '../../html';
import { parseLinkToken } from '../link-tokens';

/**
 * The customer invitation email (docs/rules.md section 8): the draft the reseller may edit, where
 * its link stands in the edited text, and the parts the platform adds (the HTML part, in which
 * only that link is a link, and a fixed footer naming who sent it).
 */
export interface Draft {
  subject: string;
  body: string;
}

/** The email the reseller may edit, in its language; the link must stay in it (section 8). */
export function draftFor(
  language: Language,
  reseller: string,
  provider: string,
  link: string,
  expiresAt: string,
): Draft {
  const expires = expiresAt.slice(0, 10);
  return language === 'fr'
    ? {
        subject: `${reseller} vous invite à travailler avec ${provider}`,
        body: [
          'Bonjour,',
          '',
          `${reseller} vous invite à en faire votre revendeur, avec ${provider} comme fournisseur indirect. En acceptant, ${reseller} gérera vos abonnements, licences et utilisateurs, et ${provider} pourra passer vos commandes.`,
          '',
          `Un administrateur général de votre organisation peut accepter l'invitation ici (lien valable jusqu'au ${expires}) :`,
          link,
          '',
          'Cordialement,',
          reseller,
        ].join('\n'),
      }
    : {
        subject: `${reseller} invites you to work with ${provider}`,
        body: [
          'Hello,',
          '',
          `${reseller} invites you to make it your reseller, with ${provider} as its indirect provider. Once you accept, ${reseller} manages your subscriptions, licenses and users, and ${provider} can place your orders.`,
          '',
          `A global admin of your organisation can accept the invitation here (the link works until ${expires}):`,
          link,
          '',
          'Kind regards,',
          reseller,
        ].join('\n'),
      };
}

/**
 * Where the invitation's own link stands in the text, exactly: its prefix, then a whole token
 * (not followed by another token character, so a link followed by punctuation or inside
 * brackets is found and ends where the token ends), whose secret is this invitation's.
 */
export function invitationLinkSpans(
  prefix: string,
  text: string,
  invitation: Pick<CustomerInvitation, 'partnerId' | 'id'>,
): { start: number; end: number }[] {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(
    `${escaped}([A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`,
    'g',
  );
  const spans: { start: number; end: number }[] = [];
  for (const match of text.matchAll(pattern)) {
    const parsed = parseLinkToken(match[1]!);
    if (
      parsed &&
      parsed.partitionKey === invitation.partnerId &&
      parsed.documentId === invitation.id
    ) {
      spans.push({ start: match.index, end: match.index + match[0].length });
    }
  }
  return spans;
}

/**
 * The HTML part of the reseller's plain text: everything escaped, and only the invitation
 * link made a link (its href exactly the link); any other URL stays text.
 */
export function customerInvitationHtml(
  text: string,
  spans: readonly { start: number; end: number }[],
  footer: string,
): string {
  let html = '';
  let at = 0;
  for (const { start, end } of spans) {
    const link = escapeHtml(text.slice(start, end));
    html += `${escapeHtml(text.slice(at, start))}<a href="${link}">${link}</a>`;
    at = end;
  }
  html += escapeHtml(text.slice(at));
  const paragraphs = (value: string): string =>
    value
      .split('\n')
      .map((line) => `<p>${line}</p>`)
      .join('');
  return `<!doctype html>\n<html><head><meta charset="utf-8"></head><body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5">${paragraphs(html)}<hr><div style="color:#555;font-size:90%">${paragraphs(escapeHtml(footer))}</div></body></html>`;
}

/** The fixed footer: who sent it and why the recipient got it, whatever the editable part says. */
export function customerInvitationFooter(
  language: Language,
  reseller: string,
  provider: string,
): string {
  return language === 'fr'
    ? [
        `Cet e-mail vous est envoyé par ${reseller}, revendeur indirect de ${provider}, via la plateforme de transition des partenaires CSP de Microsoft.`,
        `Vous le recevez parce que ${reseller} a saisi votre adresse pour vous inviter. Le texte ci-dessus est le sien ; le seul lien de la plateforme est le lien d'invitation. Pour répondre, répondez à cet e-mail : votre réponse va à ${reseller}.`,
      ].join('\n')
    : [
        `This email is sent by ${reseller}, an indirect reseller of ${provider}, through the Microsoft CSP partner transition platform.`,
        `You receive it because ${reseller} entered your address to invite you. The text above is theirs; the only platform link is the invitation link. To answer, reply to this email: your reply goes to ${reseller}.`,
      ].join('\n');
}
