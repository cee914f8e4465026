import {
  acceptCustomerInvitation,
  createCustomerInvitation,
  markCustomerInvitationDone,
  revokeCustomerInvitation,
  sendCustomerInvitation,
} from '../shared/app/customer-invitations';
import type { CustomerInvitation } from '../shared/domain/customers';
import { findInvitation } from '../shared/app/invitations';
import { defineHttp } from '../shared/http/define';
import { defineLinkLanding, defineLinkLookup, lookupAnswer } from '../shared/http/link-landing';
import type { PageContent } from '../shared/http/pages';
import { readableDate } from '../shared/http/dates';
import type { Language } from '../shared/domain/partner';
import type { Services } from '../shared/app/services';
import { accepted, created, ok } from '../shared/http/responses';
import {
  acceptCustomerInvitationBody,
  acceptedCustomerView,
  createdCustomerInvitationView,
  customerInvitationBody,
  customerInvitationIdParams,
  customerInvitationStateView,
  publicCustomerInvitationView,
  sendCustomerInvitationBody,
} from '../shared/http/schemas/customers';

const stateView = (invitation: CustomerInvitation) => ({
  invitationId: invitation.invitationId,
  status: invitation.status,
  handedOver: invitation.handedOver,
  sentTo: invitation.sentTo,
  expiresAt: invitation.expiresAt,
});

/** docs/rules.md section 8: inviting customers to both the reseller and its provider. */
export const createCustomerInvitationFunction = defineHttp({
  name: 'createCustomerInvitation',
  methods: ['POST'],
  route: 'me/customer-invitations',
  summary:
    'Draft a customer invitation for one of the reseller’s providers (global admin or admin agent)',
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  body: customerInvitationBody,
  responses: {
    201: {
      description: 'The draft email with its personalised link',
      schema: createdCustomerInvitationView,
    },
  },
  errors: ['not-found', 'forbidden', 'partnership-ended'],
  async handle({ principal, body, services }) {
    const { invitation, link, draft } = await createCustomerInvitation(
      services,
      principal,
      body.providerId,
    );
    return created({
      invitationId: invitation.invitationId,
      link,
      expiresAt: invitation.expiresAt,
      draft,
    });
  },
});

export const sendCustomerInvitationFunction = defineHttp({
  name: 'sendCustomerInvitation',
  methods: ['POST'],
  route: 'me/customer-invitations/{invitationId}/send',
  summary: 'Send the (edited) invitation email; the body must keep the exact link',
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: customerInvitationIdParams,
  body: sendCustomerInvitationBody,
  responses: {
    202: { description: 'Queued for sending', schema: customerInvitationStateView },
  },
  errors: [
    'not-found',
    'link-missing',
    'link-not-allowed',
    'invitation-expired',
    'invitation-used',
    'invitation-revoked',
    'partnership-ended',
  ],
  async handle({ principal, params, body, services }) {
    return accepted(
      stateView(await sendCustomerInvitation(services, principal, params.invitationId, body)),
    );
  },
});

export const customerInvitationDone = defineHttp({
  name: 'customerInvitationDone',
  methods: ['POST'],
  route: 'me/customer-invitations/{invitationId}/done',
  summary: 'Record that the reseller sent the invitation itself',
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: customerInvitationIdParams,
  responses: {
    200: { description: 'Recorded', schema: customerInvitationStateView },
  },
  errors: ['not-found', 'partnership-ended'],
  async handle({ principal, params, services }) {
    return ok(
      stateView(await markCustomerInvitationDone(services, principal, params.invitationId)),
    );
  },
});

export const revokeCustomerInvitationFunction = defineHttp({
  name: 'revokeCustomerInvitation',
  methods: ['DELETE'],
  route: 'me/customer-invitations/{invitationId}',
  summary: 'Revoke a customer invitation: its link then reads revoked and cannot be accepted',
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: customerInvitationIdParams,
  responses: {
    200: { description: 'Revoked', schema: customerInvitationStateView },
  },
  // 409: accepted already, or changed by another request while being revoked.
  errors: ['not-found', 'conflict'],
  async handle({ principal, params, services }) {
    return ok(stateView(await revokeCustomerInvitation(services, principal, params.invitationId)));
  },
});

export const lookupCustomerInvitation = defineLinkLookup({
  name: 'lookupCustomerInvitation',
  kind: 'customer-invitations',
  summary: 'What the holder of a customer invitation link may see (the token in the body)',
  tags: ['customers'],
  view: publicCustomerInvitationView,
  id: 'CustomerInvitationLookup',
  async lookup(services, token) {
    const { value: invitation } = await findInvitation<CustomerInvitation>(
      services,
      token,
      'customer-invitation',
    );
    const language = invitation.language ?? 'en';
    return {
      resellerName: invitation.reseller.companyName,
      providerName: invitation.provider.companyName,
      ...lookupAnswer(services, invitation, language, () =>
        customerInvitationPage(services, invitation, language),
      ),
    };
  },
});

export const acceptCustomerInvitationFunction = defineHttp({
  name: 'acceptCustomerInvitation',
  methods: ['POST'],
  route: 'customer-invitations/accept',
  summary:
    "Accept as the customer tenant's global admin: the reseller and its provider become resellers of record",
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  body: acceptCustomerInvitationBody,
  responses: {
    200: { description: 'Accepted', schema: acceptedCustomerView },
  },
  errors: [
    'not-found',
    'wrong-tenant',
    'invitation-expired',
    'invitation-used',
    'invitation-revoked',
    'partnership-ended',
  ],
  async handle({ principal, body, services }) {
    // An existing customer gives the token alone; a new one its details, each missing one
    // named by its own path (customerRecord).
    const { token, ...details } = body;
    const { customer, reseller, provider, providerName } = await acceptCustomerInvitation(
      services,
      principal,
      token,
      details,
    );
    return ok({
      customerId: customer.customerId,
      companyName: customer.companyName,
      resellersOfRecord: [
        {
          partnerId: reseller.partnerId,
          companyName: provider.indirectReseller?.companyName ?? '',
          relationship: reseller.relationship,
        },
        {
          partnerId: provider.partnerId,
          companyName: providerName,
          relationship: provider.relationship,
        },
      ],
    });
  },
});

export const customerInvitationLanding = defineLinkLanding({
  name: 'customerInvitationLanding',
  kind: 'customer-invitations',
  summary: 'Where a customer invitation link lands (the token after #)',
});

function customerInvitationPage(
  services: Services,
  invitation: CustomerInvitation,
  language: Language,
): PageContent {
  const { reseller, provider } = invitation;
  const expires = readableDate(invitation.expiresAt, language);
  const portal = services.config.links.portalBaseUrl;
  if (language === 'fr') {
    return {
      title: `${reseller.companyName} vous invite à travailler avec lui et ${provider.companyName}`,
      paragraphs: [
        `En acceptant, ${reseller.companyName} et ${provider.companyName} deviennent vos revendeurs attitrés : ${reseller.companyName} reçoit des droits d'administration délégués pour gérer vos abonnements, licences et utilisateurs, et ${provider.companyName} peut passer vos commandes et vous facturer.`,
        `Ce lien est valable jusqu'au ${expires}.`,
      ],
      facts: [
        ['Revendeur', reseller.companyName],
        ['Fournisseur indirect', provider.companyName],
        ['Expire le', expires],
      ],
      steps: [
        portal
          ? `Connectez-vous à ${portal} en tant qu'administrateur général de votre organisation.`
          : "Connectez-vous en tant qu'administrateur général de votre organisation.",
        'Ouvrez-y cette invitation et sélectionnez Accepter. Si votre organisation est nouvelle, indiquez son nom, son domaine et son pays.',
        "Le lien ne fonctionne qu'une fois.",
        ...(portal
          ? []
          : [
              `Aucun portail n'est configuré pour cette plateforme : demandez à ${reseller.companyName} comment accepter, en lui transmettant ce lien complet.`,
            ]),
      ],
    };
  }
  return {
    title: `${reseller.companyName} invites you to work with it and ${provider.companyName}`,
    paragraphs: [
      `Accepting makes ${reseller.companyName} and ${provider.companyName} your resellers of record: ${reseller.companyName} receives delegated admin rights to manage your subscriptions, licenses and users, and ${provider.companyName} can place orders for you and bill you.`,
      `This link works until ${expires}.`,
    ],
    facts: [
      ['Reseller', reseller.companyName],
      ['Indirect provider', provider.companyName],
      ['Expires', expires],
    ],
    steps: [
      portal
        ? `Sign in to ${portal} as a global admin of your organisation.`
        : 'Sign in as a global admin of your organisation.',
      'Open this invitation there and select Accept. If your organisation is new, give its name, domain and country.',
      'The link works once.',
      ...(portal
        ? []
        : [
            `No portal is configured for this platform: ask ${reseller.companyName} how to accept, and send them this whole link.`,
          ]),
    ],
  };
}
