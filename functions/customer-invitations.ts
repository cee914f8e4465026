import {
  acceptCustomerInvitation,
  createCustomerInvitation,
  markCustomerInvitationDone,
  sendCustomerInvitation,
} from '../shared/app/customer-invitations';
import type { CustomerInvitation } from '../shared/domain/customers';
import { findInvitation, usableInvitation } from '../shared/app/invitations';
import { invitationStatus } from '../shared/domain/link';
import { defineHttp } from '../shared/http/define';
import { defineLinkLanding } from '../shared/http/link-landing';
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
import { tokenParams } from '../shared/http/schemas/providers';
import { errorResponses } from './responses';

const stateView = (invitation: CustomerInvitation) => ({
  invitationId: invitation.invitationId,
  handedOver: invitation.handedOver,
  sentTo: invitation.sentTo,
  expiresAt: invitation.expiresAt,
});

/** domain.md section 8: inviting customers to both the reseller and its provider. */
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
    ...errorResponses(400, 401, 403, 404, 413, 415),
  },
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
    ...errorResponses(400, 401, 403, 404, 409, 410, 413, 415, 429),
  },
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
    ...errorResponses(400, 401, 403, 404),
  },
  async handle({ principal, params, services }) {
    return ok(
      stateView(await markCustomerInvitationDone(services, principal, params.invitationId)),
    );
  },
});

export const getCustomerInvitation = defineHttp({
  name: 'getCustomerInvitation',
  methods: ['GET'],
  route: 'customer-invitations/{token}',
  summary: 'What the holder of a customer invitation link may see',
  tags: ['customers'],
  access: { kind: 'anonymous' },
  rateLimit: 'link-lookup',
  params: tokenParams,
  responses: {
    200: { description: 'The invitation', schema: publicCustomerInvitationView },
    ...errorResponses(400, 404),
  },
  async handle({ params, services }) {
    const { value: invitation } = await findInvitation<CustomerInvitation>(
      services,
      params.token,
      'customer-invitation',
    );
    const status = invitationStatus(invitation, services.clock.now());
    return ok({
      resellerName: invitation.reseller.companyName,
      providerName: invitation.provider.companyName,
      status,
      expiresAt: invitation.expiresAt,
    });
  },
});

export const acceptCustomerInvitationFunction = defineHttp({
  name: 'acceptCustomerInvitation',
  methods: ['POST'],
  route: 'customer-invitations/{token}/accept',
  summary:
    "Accept as the customer tenant's global admin: the reseller and its provider become resellers of record",
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  params: tokenParams,
  body: acceptCustomerInvitationBody,
  responses: {
    200: { description: 'Accepted', schema: acceptedCustomerView },
    ...errorResponses(400, 401, 403, 404, 409, 410, 413, 415),
  },
  async handle({ principal, params, body, services }) {
    const { customer, reseller, provider } = await acceptCustomerInvitation(
      services,
      principal,
      params.token,
      body,
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
          companyName: reseller.indirectProvider?.companyName ?? '',
          relationship: provider.relationship,
        },
      ],
    });
  },
});

export const customerInvitationLanding = defineLinkLanding({
  name: 'customerInvitationLanding',
  kind: 'customer-invitations',
  summary: 'Where a customer invitation link lands',
  async describe(services, token) {
    const invitation = await usableInvitation<CustomerInvitation>(
      services,
      token,
      'customer-invitation',
    );
    const { reseller, provider } = invitation;
    return {
      title: `${reseller.companyName} invites you to work with it and ${provider.companyName}`,
      paragraphs: [
        `Accepting makes ${reseller.companyName} and ${provider.companyName} your resellers of record: ${reseller.companyName} receives delegated admin rights to manage your subscriptions, licenses and users, and ${provider.companyName} can place orders for you and bill you.`,
      ],
      facts: [
        ['Reseller', reseller.companyName],
        ['Indirect provider', provider.companyName],
        ['Expires', invitation.expiresAt],
      ],
      steps: [
        'Sign in as a global admin of your organisation.',
        'Open this invitation there and select Accept. If your organisation is new, give its name, domain and country.',
        'The link works once.',
      ],
    };
  },
});
