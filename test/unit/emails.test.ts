import { describe, expect, it } from 'vitest';
import {
  enrollmentApprovedEmail,
  enrollmentEscalatedEmail,
  enrollmentRejectedEmail,
} from '../../shared/app/emails/enrollment-emails';
import { incentiveInvitationEmail } from '../../shared/app/emails/incentive-emails';
import { partnerInvitationEmail } from '../../shared/app/emails/partner-invitation-email';
import { renderEmail } from '../../shared/app/emails/render';
import { webhookDisabledEmail } from '../../shared/app/emails/webhook-emails';
import { newPartner, type Partner } from '../../shared/domain/partner';
import type { ProviderSnapshot } from '../../shared/domain/providers';

// docs/rules.md, Emails: what a recipient reads, word for word, in English and in French. The
// plain text and the HTML part are made from the same parts, so both are pinned here.

const link = 'https://app.example/api/links/abc.def';
const lines = (...parts: string[]) => parts.join('\n');

function partner(mpnId: string | null): Partner {
  return newPartner(
    'partner-1',
    {
      companyName: 'Fourth Coffee',
      mpnId,
      mpnVerified: mpnId !== null,
      mpnAccountEmail: null,
      country: 'FR',
      programs: { directBill: true },
    },
    new Date('2026-03-02T09:00:00.000Z'),
  );
}

describe('an email rendered from its parts', () => {
  const parts = {
    to: 'pat@contoso.example',
    subject: 'Tom & Jerry <news>',
    greeting: 'Hello Pat,',
    paragraphs: ['First "one".', "Second's."],
    closing: 'Kind regards,',
    signature: 'The team',
    language: 'en' as const,
  };

  it('with an action: greeting, paragraphs, the action, closing and signature, text and HTML alike', () => {
    const email = renderEmail({ ...parts, action: { label: 'Open it', url: `${link}?a=1&b=2` } });
    expect(email.to).toBe('pat@contoso.example');
    expect(email.subject).toBe('Tom & Jerry <news>');
    expect(email.text).toBe(
      lines(
        'Hello Pat,',
        '',
        'First "one".',
        '',
        "Second's.",
        '',
        `Open it: ${link}?a=1&b=2`,
        '',
        'Kind regards,',
        'The team',
      ),
    );
    expect(email.html).toBe(
      lines(
        '<!doctype html>',
        '<html lang="en"><head><meta charset="utf-8"><title>Tom &amp; Jerry &lt;news&gt;</title></head>',
        '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1b1b1b;line-height:1.5;max-width:640px">',
        '<p>Hello Pat,</p>',
        '<p>First &quot;one&quot;.</p>',
        '<p>Second&#39;s.</p>',
        `<p><a href="${link}?a=1&amp;b=2" style="display:inline-block;padding:10px 18px;background:#0f6cbd;color:#fff;text-decoration:none;border-radius:4px">Open it</a></p>`,
        `<p style="font-size:13px;color:#555">${link}?a=1&amp;b=2</p>`,
        '<p>Kind regards,<br>The team</p>',
        '</body></html>',
      ),
    );
    expect(email.links).toEqual([`${link}?a=1&b=2`]);
  });

  it('without an action: no action line, no button, no link', () => {
    const email = renderEmail(parts);
    expect(email.text).toBe(
      lines('Hello Pat,', '', 'First "one".', '', "Second's.", '', 'Kind regards,', 'The team'),
    );
    expect(email.html).toBe(
      lines(
        '<!doctype html>',
        '<html lang="en"><head><meta charset="utf-8"><title>Tom &amp; Jerry &lt;news&gt;</title></head>',
        '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1b1b1b;line-height:1.5;max-width:640px">',
        '<p>Hello Pat,</p>',
        '<p>First &quot;one&quot;.</p>',
        '<p>Second&#39;s.</p>',
        '<p>Kind regards,<br>The team</p>',
        '</body></html>',
      ),
    );
    expect(email.links).toEqual([]);
  });
});

describe('the webhook disabled email', () => {
  const url = 'https://hooks.contoso.example/partner-center?key=1';
  const reason = 'it answered 410 Gone';

  it('in English names the host, the reason, the pull feed and the way back', () => {
    const email = webhookDisabledEmail(url, reason, 'ops@contoso.example', 'en', link);
    expect(email.subject).toBe('Webhook endpoint disabled: hooks.contoso.example');
    expect(email.text).toBe(
      lines(
        'Hello,',
        '',
        'We disabled your webhook endpoint hooks.contoso.example: it answered 410 Gone.',
        '',
        'Events are still in the pull feed GET /api/me/events. Once the endpoint is fixed, enable it again; those whose delivery failed can be sent again one by one, and those that happened while it was disabled are in the feed.',
        '',
        `View your webhooks: ${link}`,
        '',
        'Kind regards,',
        'The Partner Center team',
      ),
    );
    expect(email.html).toContain('<html lang="en">');
  });

  it('in French says the same in French', () => {
    const email = webhookDisabledEmail(
      url,
      'il a répondu 410 Gone',
      'ops@contoso.example',
      'fr',
      link,
    );
    expect(email.subject).toBe('Point de terminaison webhook désactivé : hooks.contoso.example');
    expect(email.text).toBe(
      lines(
        'Bonjour,',
        '',
        'Nous avons désactivé votre point de terminaison webhook hooks.contoso.example : il a répondu 410 Gone.',
        '',
        'Les événements restent disponibles dans le flux GET /api/me/events. Une fois le point de terminaison réparé, réactivez-le ; ceux dont la livraison a échoué peuvent être renvoyés un par un, et ceux survenus pendant qu’il était désactivé sont dans le flux.',
        '',
        `Voir vos webhooks : ${link}`,
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ),
    );
    expect(email.html).toContain('<html lang="fr">');
  });
});

describe("the provider's invitation to a reseller", () => {
  const provider = (services: ProviderSnapshot['services']): ProviderSnapshot => ({
    partnerId: 'provider-1',
    companyName: 'Adatum',
    mpnId: '1234567',
    country: 'FR',
    regions: ['FR'],
    services,
  });
  const expiresAt = '2026-04-01T09:00:00.000Z';

  it('in English lists the services offered in words and the day the link expires', () => {
    const email = partnerInvitationEmail(
      provider(['training-support', 'credit-financing']),
      'sam@fabrikam.example',
      'en',
      link,
      expiresAt,
    );
    expect(email.subject).toBe('Adatum invites you to become its indirect reseller');
    expect(email.text).toBe(
      lines(
        'Hello,',
        '',
        'Adatum, an indirect provider, invites you to join its network of indirect resellers.',
        '',
        'Services offered: training and technical support, credit terms and financing.',
        '',
        'A global admin of your organisation signs in and accepts the invitation. This link is personal, works once, and expires on 2026-04-01.',
        '',
        `View the invitation: ${link}`,
        '',
        'Kind regards,',
        'Adatum',
      ),
    );
  });

  it('in French does the same in French', () => {
    const email = partnerInvitationEmail(
      provider(['marketing']),
      'sam@fabrikam.example',
      'fr',
      link,
      expiresAt,
    );
    expect(email.subject).toBe('Adatum vous invite à devenir son revendeur indirect');
    expect(email.text).toBe(
      lines(
        'Bonjour,',
        '',
        'Adatum, fournisseur indirect, vous invite à rejoindre son réseau de revendeurs indirects.',
        '',
        'Services proposés : aide marketing.',
        '',
        "Un administrateur général de votre organisation doit se connecter et accepter l'invitation. Ce lien est personnel, ne peut servir qu'une fois et expire le 2026-04-01.",
        '',
        `Voir l'invitation : ${link}`,
        '',
        'Cordialement,',
        'Adatum',
      ),
    );
    expect(email.html).toContain('<html lang="fr">');
  });

  it('says nothing of services when the provider lists none, in either language', () => {
    for (const language of ['en', 'fr'] as const) {
      const email = partnerInvitationEmail(
        provider([]),
        'sam@fabrikam.example',
        language,
        link,
        expiresAt,
      );
      expect(email.text.split('\n\n')).toHaveLength(5);
      expect(email.text).not.toMatch(/Services/);
    }
  });
});

describe('the enrollment emails', () => {
  const to = { email: 'pat@fourthcoffee.example', firstName: 'Pat' };

  it('approved, in English: greets the contact by name and names the next step', () => {
    const email = enrollmentApprovedEmail(partner('1234567'), to, 'en', link);
    expect(email.to).toBe('pat@fourthcoffee.example');
    expect(email.subject).toBe('Fourth Coffee: your indirect reseller enrollment is approved');
    expect(email.text).toBe(
      lines(
        'Hello Pat,',
        '',
        'The enrollment of Fourth Coffee in the indirect reseller program has been approved.',
        '',
        'Next step: a global admin accepts the indirect reseller agreement in Partner Center. You can then find an indirect provider and accept its invitation.',
        '',
        `Accept the agreement: ${link}`,
        '',
        'Kind regards,',
        'The Partner Center team',
      ),
    );
  });

  it('approved, in French', () => {
    const email = enrollmentApprovedEmail(partner('1234567'), to, 'fr', link);
    expect(email.subject).toBe(
      'Fourth Coffee : votre inscription comme revendeur indirect est approuvée',
    );
    expect(email.text).toBe(
      lines(
        'Bonjour Pat,',
        '',
        "L'inscription de Fourth Coffee au programme revendeur indirect a été approuvée.",
        '',
        "Étape suivante : un administrateur général doit accepter le contrat de revendeur indirect dans l'espace partenaires. Vous pourrez ensuite trouver un fournisseur indirect et accepter son invitation.",
        '',
        `Accepter le contrat : ${link}`,
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ),
    );
    expect(email.html).toContain('<html lang="fr">');
  });

  it('rejected, in English: gives the reviewers’ reason and what to do', () => {
    const email = enrollmentRejectedEmail(
      partner('1234567'),
      to,
      'en',
      'the address is incomplete',
      link,
    );
    expect(email.subject).toBe('Fourth Coffee: your indirect reseller enrollment was not approved');
    expect(email.text).toBe(
      lines(
        'Hello Pat,',
        '',
        'The enrollment of Fourth Coffee in the indirect reseller program was not approved.',
        '',
        'Reason: the address is incomplete',
        '',
        'Next step: correct what the reason points out, confirm the partner profile, then submit the enrollment again.',
        '',
        `See the enrollment: ${link}`,
        '',
        'Kind regards,',
        'The Partner Center team',
      ),
    );
    expect(email.html).toContain('<html lang="en">');
  });

  it('rejected, in French', () => {
    const email = enrollmentRejectedEmail(
      partner('1234567'),
      to,
      'fr',
      "l'adresse est incomplète",
      link,
    );
    expect(email.subject).toBe(
      "Fourth Coffee : votre inscription comme revendeur indirect n'a pas été approuvée",
    );
    expect(email.text).toBe(
      lines(
        'Bonjour Pat,',
        '',
        "L'inscription de Fourth Coffee au programme revendeur indirect n'a pas été approuvée.",
        '',
        "Motif : l'adresse est incomplète",
        '',
        'Étape suivante : corrigez ce qui est indiqué, confirmez le profil partenaire, puis soumettez à nouveau l’inscription.',
        '',
        `Voir l'inscription : ${link}`,
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ),
    );
    expect(email.html).toContain('<html lang="fr">');
  });

  it('escalated, to the reviewers in English, names the partner and its MPN ID', () => {
    const email = enrollmentEscalatedEmail(
      partner('1234567'),
      'reviewers@example.test',
      '2026-03-02',
      5,
      link,
    );
    expect(email.subject).toBe('Enrollment pending over 5 business days: Fourth Coffee');
    expect(email.text).toBe(
      lines(
        'Hello reviewers,',
        '',
        'The indirect reseller enrollment of Fourth Coffee (partner partner-1, MPN ID 1234567) was submitted on 2026-03-02 and is still pending after 5 business days.',
        '',
        'Please approve or reject it from the review queue.',
        '',
        `Open the review queue: ${link}`,
        '',
        'Thank you,',
        'Partner transition automation',
      ),
    );
  });

  it('escalated, for a partner whose MPN ID is not known yet, says so', () => {
    const email = enrollmentEscalatedEmail(
      partner(null),
      'reviewers@example.test',
      '2026-03-02',
      5,
      link,
    );
    expect(email.text).toContain('(partner partner-1, MPN ID unknown)');
  });
});

describe('the indirect reseller incentives invitation', () => {
  const expiresAt = '2026-04-01T09:00:00.000Z';

  it('in English: what it is, where it goes, how to enroll and until when', () => {
    const email = incentiveInvitationEmail(
      partner('1234567'),
      'mpn@fourthcoffee.example',
      'en',
      link,
      expiresAt,
    );
    expect(email.subject).toBe(
      'Fourth Coffee: your invitation to the indirect reseller incentives',
    );
    expect(email.text).toBe(
      lines(
        'Hello,',
        '',
        'Fourth Coffee is now enrolled as an indirect reseller, and is invited to enroll in the indirect reseller incentives program.',
        '',
        'This invitation goes to the email address of the MPN account associated with your tenant (MPN ID 1234567).',
        '',
        'To enroll, a global admin of your organisation signs in to Partner Center and selects Incentives, then Indirect reseller incentives, then Enroll. The direct-bill incentive programs are managed separately: enrolling in one changes nothing in the other.',
        '',
        'This link is valid until 2026-04-01.',
        '',
        `See the invitation: ${link}`,
        '',
        'Kind regards,',
        'The Partner Center team',
      ),
    );
  });

  it('in French', () => {
    const email = incentiveInvitationEmail(
      partner('1234567'),
      'mpn@fourthcoffee.example',
      'fr',
      link,
      expiresAt,
    );
    expect(email.subject).toBe(
      "Fourth Coffee : invitation au programme d'incitations revendeur indirect",
    );
    expect(email.text).toBe(
      lines(
        'Bonjour,',
        '',
        "Fourth Coffee est désormais inscrit comme revendeur indirect : il est invité à rejoindre le programme d'incitations revendeur indirect.",
        '',
        "Cette invitation est envoyée à l'adresse du compte MPN associé à votre locataire (MPN ID 1234567).",
        '',
        "Pour vous inscrire, un administrateur général de votre organisation se connecte à l'espace partenaires et choisit Incitations, puis Incitations revendeur indirect, puis S'inscrire. Les programmes d'incitations en facturation directe sont gérés séparément : s'inscrire à l'un ne change rien à l'autre.",
        '',
        "Ce lien est valable jusqu'au 2026-04-01.",
        '',
        `Voir l'invitation : ${link}`,
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ),
    );
  });

  it('says the MPN ID is unknown, in the recipient’s language, when it is not known yet', () => {
    const en = incentiveInvitationEmail(
      partner(null),
      'mpn@fourthcoffee.example',
      'en',
      link,
      expiresAt,
    );
    expect(en.text).toContain('(MPN ID unknown).');
    const fr = incentiveInvitationEmail(
      partner(null),
      'mpn@fourthcoffee.example',
      'fr',
      link,
      expiresAt,
    );
    expect(fr.text).toContain('(MPN ID inconnu).');
  });
});
