import { findInvitation } from '../shared/app/invitations';
import { invitationStatus } from '../shared/domain/link';
import type { ResellerInvitation } from '../shared/domain/providers';
import {
  acceptResellerInvitation,
  inviteReseller,
  revokeResellerInvitation,
} from '../shared/app/reseller-invitations';
import type { Services } from '../shared/app/services';
import { defineHttp } from '../shared/http/define';
import {
  defineLinkLanding,
  defineLinkLookup,
  linkTokenBody,
  lookupAnswer,
} from '../shared/http/link-landing';
import type { PageContent } from '../shared/http/pages';
import { readableDate } from '../shared/http/dates';
import type { Language } from '../shared/domain/partner';
import { created, ok } from '../shared/http/responses';
import { pageOf, pageQuery } from '../shared/http/schemas/common';
import {
  acceptedPartnershipView,
  createdResellerInvitationView,
  invitationIdParams,
  publicInvitationView,
  resellerInvitationBody,
  resellerInvitationView,
} from '../shared/http/schemas/providers';
import { toPartnerProvider } from './providers';

const toInvitationView = (services: Services, invitation: ResellerInvitation) => ({
  invitationId: invitation.invitationId,
  status: invitationStatus(invitation, services.clock.now()),
  mpnId: invitation.mpnId,
  email: invitation.email,
  createdAt: invitation.createdAt,
  expiresAt: invitation.expiresAt,
});

/** docs/rules.md section 6: a provider invites a reseller by email link. */
export const createResellerInvitation = defineHttp({
  name: 'createResellerInvitation',
  methods: ['POST'],
  route: 'me/reseller-invitations',
  summary: "Invite a reseller by MPN ID and email (provider's global admin or admin agent)",
  tags: ['providers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  body: resellerInvitationBody,
  responses: {
    201: { description: 'Invited; the email is queued', schema: createdResellerInvitationView },
  },
  // The region is checked when the reseller accepts: no answer here tells where an MPN ID is.
  errors: ['not-found', 'forbidden'],
  async handle({ principal, body, services }) {
    const { invitation, link } = await inviteReseller(services, principal, body);
    return created({ ...toInvitationView(services, invitation), link });
  },
});

export const listResellerInvitations = defineHttp({
  name: 'listResellerInvitations',
  methods: ['GET'],
  route: 'me/reseller-invitations',
  summary: "The provider's invitations, newest first (who may invite may read them)",
  tags: ['providers'],
  // The invitees' email addresses: the roles that write invitations, not any user of the tenant.
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  query: pageQuery,
  responses: {
    200: { description: 'A page of invitations', schema: pageOf(resellerInvitationView) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await services.partners.invitations<ResellerInvitation>(
      principal.tenantId,
      'reseller-invitation',
      query,
    );
    return ok({
      items: page.items.map((item) => toInvitationView(services, item)),
      continuationToken: page.continuationToken,
    });
  },
});

export const revokeResellerInvitationFunction = defineHttp({
  name: 'revokeResellerInvitation',
  methods: ['DELETE'],
  route: 'me/reseller-invitations/{invitationId}',
  summary: 'Revoke a pending invitation (the provider)',
  tags: ['providers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: invitationIdParams,
  responses: {
    200: { description: 'Revoked', schema: resellerInvitationView },
  },
  errors: ['not-found', 'conflict'],
  async handle({ principal, params, services }) {
    return ok(
      toInvitationView(
        services,
        await revokeResellerInvitation(services, principal, params.invitationId),
      ),
    );
  },
});

export const lookupPartnerInvitation = defineLinkLookup({
  name: 'lookupPartnerInvitation',
  kind: 'partner-invitations',
  summary: 'What the holder of an invitation link may see (the token in the body, never a URL)',
  tags: ['providers'],
  view: publicInvitationView,
  id: 'PartnerInvitationLookup',
  async lookup(services, token) {
    const { value: invitation } = await findInvitation<ResellerInvitation>(
      services,
      token,
      'reseller-invitation',
    );
    const language = invitation.language ?? 'en';
    return {
      providerName: invitation.provider.companyName,
      ...lookupAnswer(services, invitation, language, () =>
        partnerInvitationPage(services, invitation, language),
      ),
    };
  },
});

export const acceptPartnerInvitation = defineHttp({
  name: 'acceptPartnerInvitation',
  methods: ['POST'],
  route: 'partner-invitations/accept',
  summary:
    "Accept a provider's invitation (global admin of the invited reseller); the token in the body",
  tags: ['providers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  body: linkTokenBody,
  responses: {
    200: { description: 'The partnership', schema: acceptedPartnershipView },
  },
  errors: [
    'not-found',
    'wrong-tenant',
    'forbidden',
    'region-mismatch',
    'invitation-expired',
    'invitation-used',
    'invitation-revoked',
  ],
  async handle({ principal, body, services }) {
    const side = await acceptResellerInvitation(services, principal, body.token);
    return ok({ provider: toPartnerProvider(side) });
  },
});

export const partnerInvitationLanding = defineLinkLanding({
  name: 'partnerInvitationLanding',
  kind: 'partner-invitations',
  summary: "Where a provider's invitation link lands (the token after #)",
});

function partnerInvitationPage(
  services: Services,
  invitation: ResellerInvitation,
  language: Language,
): PageContent {
  const provider = invitation.provider;
  const expires = readableDate(invitation.expiresAt, language);
  const portal = services.config.links.portalBaseUrl;
  if (language === 'fr') {
    return {
      title: `${provider.companyName} vous invite à devenir son revendeur indirect`,
      paragraphs: [
        `${provider.companyName} est un fournisseur indirect. En acceptant, il devient l'un de vos fournisseurs indirects, et vous l'un de ses revendeurs indirects : il peut alors vous approvisionner, créer des locataires clients pour vous et passer les commandes de vos clients.`,
        `Ce lien est valable jusqu'au ${expires}.`,
      ],
      facts: [
        ['Fournisseur qui invite', provider.companyName],
        ['Régions', provider.regions.join(', ')],
        ['Services', provider.services.join(', ') || 'aucun indiqué'],
        ["Invitation pour l'ID MPN", invitation.mpnId],
        ['Expire le', expires],
      ],
      steps: [
        portal
          ? `Connectez-vous à ${portal} en tant qu'administrateur général de l'organisation invitée (celle qui détient cet ID MPN).`
          : "Connectez-vous à l'Espace partenaires en tant qu'administrateur général de l'organisation invitée (celle qui détient cet ID MPN).",
        'Votre organisation doit être inscrite comme revendeur indirect.',
        "Ouvrez-y cette invitation et sélectionnez Accepter. Le lien ne fonctionne qu'une fois.",
        ...(portal
          ? []
          : [
              "Aucun portail n'est configuré pour cette plateforme : transmettez ce lien, complet, à l'administrateur qui gère vos partenariats, ou demandez au fournisseur comment l'accepter.",
            ]),
      ],
    };
  }
  return {
    title: `${provider.companyName} invites you to become its indirect reseller`,
    paragraphs: [
      `${provider.companyName} is an indirect provider. Accepting makes it one of your indirect providers, and you one of its indirect resellers: it can then supply you, create customer tenants for you, and order for your customers.`,
      `This link works until ${expires}.`,
    ],
    facts: [
      ['Inviting provider', provider.companyName],
      ['Regions', provider.regions.join(', ')],
      ['Services', provider.services.join(', ') || 'none listed'],
      ['Invitation for MPN ID', invitation.mpnId],
      ['Expires', expires],
    ],
    steps: [
      portal
        ? `Sign in to ${portal} as a global admin of the invited organisation (the one holding this MPN ID).`
        : 'Sign in to Partner Center as a global admin of the invited organisation (the one holding this MPN ID).',
      'Your organisation must be enrolled as an indirect reseller.',
      'Open this invitation there and select Accept. The link works once.',
      ...(portal
        ? []
        : [
            'No portal is configured for this platform: forward this whole link to the admin who manages your partnerships, or ask the provider how to accept it.',
          ]),
    ],
  };
}
