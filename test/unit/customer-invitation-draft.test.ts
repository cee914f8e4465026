import { describe, expect, it } from 'vitest';
import {
  customerInvitationFooter,
  customerInvitationHtml,
  draftFor,
  invitationLinkSpans,
} from '../../shared/app/emails/customer-invitation-email';
import { issueLinkToken } from '../../shared/app/link-tokens';

describe('the customer invitation draft', () => {
  const link = 'https://app.example/api/links/customer-invitations/abc.def';
  it('is written in English or French, with the link and the expiry date', () => {
    const en = draftFor('en', 'Fourth Coffee', 'Adatum', link, '2026-04-01T09:00:00.000Z');
    expect(en.subject).toBe('Fourth Coffee invites you to work with Adatum');
    expect(en.body).toContain(link);
    expect(en.body).toContain('2026-04-01');
    const fr = draftFor('fr', 'Fourth Coffee', 'Adatum', link, '2026-04-01T09:00:00.000Z');
    expect(fr.subject).toBe('Fourth Coffee vous invite à travailler avec Adatum');
    expect(fr.body).toContain(link);
  });
});

describe('the customer invitation email, word for word', () => {
  const link = 'https://app.example/api/links/customer-invitations/abc.def';
  const expiresAt = '2026-04-01T09:00:00.000Z';

  it('the English draft: what the reseller and the provider will do, and until when the link works', () => {
    const en = draftFor('en', 'Fourth Coffee', 'Adatum', link, expiresAt);
    expect(en.body).toBe(
      [
        'Hello,',
        '',
        'Fourth Coffee invites you to make it your reseller, with Adatum as its indirect provider. Once you accept, Fourth Coffee manages your subscriptions, licenses and users, and Adatum can place your orders.',
        '',
        'A global admin of your organisation can accept the invitation here (the link works until 2026-04-01):',
        link,
        '',
        'Kind regards,',
        'Fourth Coffee',
      ].join('\n'),
    );
  });

  it('the French draft', () => {
    const fr = draftFor('fr', 'Fourth Coffee', 'Adatum', link, expiresAt);
    expect(fr.body).toBe(
      [
        'Bonjour,',
        '',
        'Fourth Coffee vous invite à en faire votre revendeur, avec Adatum comme fournisseur indirect. En acceptant, Fourth Coffee gérera vos abonnements, licences et utilisateurs, et Adatum pourra passer vos commandes.',
        '',
        "Un administrateur général de votre organisation peut accepter l'invitation ici (lien valable jusqu'au 2026-04-01) :",
        link,
        '',
        'Cordialement,',
        'Fourth Coffee',
      ].join('\n'),
    );
  });

  it('the fixed footer names the sender and where a reply goes, in English and in French', () => {
    expect(customerInvitationFooter('en', 'Fourth Coffee', 'Adatum')).toBe(
      [
        'This email is sent by Fourth Coffee, an indirect reseller of Adatum, through the Microsoft CSP partner transition platform.',
        'You receive it because Fourth Coffee entered your address to invite you. The text above is theirs; the only platform link is the invitation link. To answer, reply to this email: your reply goes to Fourth Coffee.',
      ].join('\n'),
    );
    expect(customerInvitationFooter('fr', 'Fourth Coffee', 'Adatum')).toBe(
      [
        'Cet e-mail vous est envoyé par Fourth Coffee, revendeur indirect de Adatum, via la plateforme de transition des partenaires CSP de Microsoft.',
        "Vous le recevez parce que Fourth Coffee a saisi votre adresse pour vous inviter. Le texte ci-dessus est le sien ; le seul lien de la plateforme est le lien d'invitation. Pour répondre, répondez à cet e-mail : votre réponse va à Fourth Coffee.",
      ].join('\n'),
    );
  });
});

describe("the customer invitation's HTML part", () => {
  const tenant = '6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11';
  const otherTenant = '0a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  const prefix = 'https://app.example/api/links/customer-invitations/';

  it('makes only this invitation’s link a link; the rest is escaped text, then the footer', () => {
    const issued = issueLinkToken(tenant);
    const text = `Hi <team>,\nAccept: ${prefix}${issued.token}.\nBye`;
    const spans = invitationLinkSpans(prefix, text, { partnerId: tenant, id: issued.documentId });
    expect(spans).toHaveLength(1);
    const href = `${prefix}${issued.token}`;
    expect(customerInvitationHtml(text, spans, 'Sent by A & B')).toBe(
      '<!doctype html>\n<html><head><meta charset="utf-8"></head><body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5">' +
        `<p>Hi &lt;team&gt;,</p><p>Accept: <a href="${href}">${href}</a>.</p><p>Bye</p>` +
        '<hr><div style="color:#555;font-size:90%"><p>Sent by A &amp; B</p></div></body></html>',
    );
  });

  it('does not take a link carrying this secret under another tenant for this invitation’s', () => {
    const issued = issueLinkToken(tenant);
    const [otherPartition] = issueLinkToken(otherTenant).token.split('.');
    const [, secret] = issued.token.split('.');
    const text = `Accept: ${prefix}${otherPartition}.${secret}`;
    expect(invitationLinkSpans(prefix, text, { partnerId: tenant, id: issued.documentId })).toEqual(
      [],
    );
  });
});
