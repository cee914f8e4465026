import {
  enrollInIncentiveProgram,
  incentiveInvitationLinkKind,
  readIncentiveInvitation,
  readIncentives,
} from '../shared/app/incentives';
import { defineHttp } from '../shared/http/define';
import * as z from 'zod';
import type { Services } from '../shared/app/services';
import type { Language } from '../shared/domain/partner';
import { readableDate } from '../shared/http/dates';
import { defineLinkLanding, defineLinkLookup, lookupAnswer } from '../shared/http/link-landing';
import type { PageContent } from '../shared/http/pages';
import { created, ok } from '../shared/http/responses';
import {
  incentiveProgramParams,
  incentivesView,
  incentiveView,
} from '../shared/http/schemas/incentives';
import { toIncentiveView, toIncentiveViews } from '../shared/http/views';

/** docs/rules.md section 10: two incentive programs, managed separately; docs/api.md routes. */
export const getIncentives = defineHttp({
  name: 'getIncentives',
  methods: ['GET'],
  route: 'me/incentives',
  summary: 'The two incentive programs and where the partner stands in each',
  tags: ['incentives'],
  access: { kind: 'signed-in' },
  responses: {
    200: { description: 'Both programs', schema: incentivesView },
  },
  errors: ['not-found'],
  async handle({ principal, services }) {
    return ok(toIncentiveViews(await readIncentives(services, principal.tenantId)));
  },
});

export const enrollInIncentiveProgramFunction = defineHttp({
  name: 'enrollInIncentiveProgram',
  methods: ['POST'],
  route: 'me/incentives/{program}/enrollment',
  summary:
    'Enroll in one incentive program (global admin): indirect-reseller needs the invitation, direct-bill the direct-bill program',
  tags: ['incentives'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  params: incentiveProgramParams,
  responses: {
    201: { description: 'Enrolled', schema: incentiveView },
    200: { description: 'Already enrolled: the first enrollment', schema: incentiveView },
  },
  errors: ['not-found', 'forbidden', 'not-eligible'],
  async handle({ principal, params, services }) {
    const { partner, created: first } = await enrollInIncentiveProgram(
      services,
      principal,
      params.program,
    );
    const answer = toIncentiveView(partner, params.program);
    return first ? created(answer) : ok(answer);
  },
});

export const incentiveInvitationLanding = defineLinkLanding({
  name: 'incentiveInvitationLanding',
  kind: incentiveInvitationLinkKind,
  summary: 'Where the link of the incentives invitation email lands (the token after #)',
});

export const lookupIncentiveInvitation = defineLinkLookup({
  name: 'lookupIncentiveInvitation',
  kind: incentiveInvitationLinkKind,
  summary: 'What the holder of an incentives invitation link may see (the token in the body)',
  tags: ['incentives'],
  view: z.object({
    companyName: z.string(),
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    expiresAt: z.string(),
    language: z.enum(['en', 'fr']),
  }),
  id: 'IncentiveInvitationLookup',
  async lookup(services, token) {
    const details = await readIncentiveInvitation(services, token);
    const language = details.invitation.language ?? 'en';
    return {
      companyName: details.companyName,
      ...lookupAnswer(services, details.invitation, language, () =>
        incentivePage(services, details, language),
      ),
    };
  },
});

function incentivePage(
  services: Services,
  invitation: { companyName: string; mpnId: string | null; invitedAt: string; expiresAt: string },
  language: Language,
): PageContent {
  const expires = readableDate(invitation.expiresAt, language);
  const invited = readableDate(invitation.invitedAt, language);
  const portal = services.config.links.portalBaseUrl;
  if (language === 'fr') {
    return {
      title: 'Votre invitation aux incitations pour revendeurs indirects',
      paragraphs: [
        `${invitation.companyName} est inscrit comme revendeur indirect et est invité à s'inscrire au programme d'incitations pour revendeurs indirects.`,
        "Cette invitation a été envoyée à l'adresse e-mail du compte MPN associé à votre locataire. Les programmes d'incitations de facturation directe sont gérés séparément : s'inscrire à l'un ne change rien à l'autre.",
        `Ce lien est valable jusqu'au ${expires}.`,
      ],
      facts: [
        ['Partenaire', invitation.companyName],
        ['ID MPN', invitation.mpnId ?? 'non enregistré'],
        ['Invité le', invited],
        ["Lien valable jusqu'au", expires],
      ],
      steps: [
        portal
          ? `Connectez-vous à ${portal} en tant qu'administrateur général de votre organisation.`
          : "Connectez-vous à l'Espace partenaires en tant qu'administrateur général de votre organisation.",
        'Ouvrez Incitations, puis Incitations pour revendeurs indirects, et sélectionnez Inscrire.',
        "Le programme apparaît alors comme inscrit ; vos programmes d'incitations de facturation directe restent tels quels.",
        ...(portal
          ? []
          : [
              "Aucun portail n'est configuré pour cette plateforme : votre portail partenaire appelle POST /api/me/incentives/indirect-reseller/enrollment ; transmettez ce lien à l'équipe qui l'exploite.",
            ]),
      ],
    };
  }
  return {
    title: 'Your invitation to the indirect reseller incentives',
    paragraphs: [
      `${invitation.companyName} is enrolled as an indirect reseller and is invited to enroll in the indirect reseller incentives program.`,
      'This invitation was sent to the email address of the MPN account associated with your tenant. The direct-bill incentive programs are managed separately: enrolling in one changes nothing in the other.',
      `This link works until ${expires}.`,
    ],
    facts: [
      ['Partner', invitation.companyName],
      ['MPN ID', invitation.mpnId ?? 'not recorded'],
      ['Invited on', invited],
      ['Link valid until', expires],
    ],
    steps: [
      portal
        ? `Sign in to ${portal} as a global admin of your organisation.`
        : 'Sign in to Partner Center as a global admin of your organisation.',
      'Open Incentives, then Indirect reseller incentives, and select Enroll.',
      'The program then shows as enrolled; your direct-bill incentive programs stay as they are.',
      ...(portal
        ? []
        : [
            'No portal is configured for this platform: your partner portal calls POST /api/me/incentives/indirect-reseller/enrollment; send this link to the team that runs it.',
          ]),
    ],
  };
}
