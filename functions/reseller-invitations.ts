import { findInvitation, usableInvitation } from '../shared/app/invitations';
import { invitationStatus } from '../shared/domain/link';
import type { ResellerInvitation } from '../shared/domain/providers';
import {
  acceptResellerInvitation,
  inviteReseller,
  revokeResellerInvitation,
} from '../shared/app/reseller-invitations';
import type { Services } from '../shared/app/services';
import { defineHttp } from '../shared/http/define';
import { defineLinkLanding } from '../shared/http/link-landing';
import { created, ok } from '../shared/http/responses';
import { pageOf, pageQuery } from '../shared/http/schemas/common';
import {
  acceptedPartnershipView,
  createdResellerInvitationView,
  invitationIdParams,
  publicInvitationView,
  resellerInvitationBody,
  resellerInvitationView,
  tokenParams,
} from '../shared/http/schemas/providers';
import { errorResponses } from './responses';

const toInvitationView = (services: Services, invitation: ResellerInvitation) => ({
  invitationId: invitation.invitationId,
  status: invitationStatus(invitation, services.clock.now()),
  mpnId: invitation.mpnId,
  email: invitation.email,
  createdAt: invitation.createdAt,
  expiresAt: invitation.expiresAt,
});

/** domain.md section 6: a provider invites a reseller by email link. */
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
    ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
  },
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
    ...errorResponses(400, 401, 403),
  },
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
    ...errorResponses(400, 401, 403, 404, 409),
  },
  async handle({ principal, params, services }) {
    return ok(
      toInvitationView(
        services,
        await revokeResellerInvitation(services, principal, params.invitationId),
      ),
    );
  },
});

export const getPartnerInvitation = defineHttp({
  name: 'getPartnerInvitation',
  methods: ['GET'],
  route: 'partner-invitations/{token}',
  summary: 'What the holder of an invitation link may see',
  tags: ['providers'],
  access: { kind: 'anonymous' },
  rateLimit: 'link-lookup',
  params: tokenParams,
  responses: {
    200: { description: 'The invitation', schema: publicInvitationView },
    ...errorResponses(400, 404),
  },
  async handle({ params, services }) {
    const { value: invitation } = await findInvitation<ResellerInvitation>(
      services,
      params.token,
      'reseller-invitation',
    );
    return ok({
      providerName: invitation.provider.companyName,
      status: invitationStatus(invitation, services.clock.now()),
      expiresAt: invitation.expiresAt,
    });
  },
});

export const acceptPartnerInvitation = defineHttp({
  name: 'acceptPartnerInvitation',
  methods: ['POST'],
  route: 'partner-invitations/{token}/accept',
  summary: "Accept a provider's invitation (global admin of the invited reseller)",
  tags: ['providers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  params: tokenParams,
  responses: {
    200: { description: 'The partnership', schema: acceptedPartnershipView },
    ...errorResponses(400, 401, 403, 404, 409, 410),
  },
  async handle({ principal, params, services }) {
    const side = await acceptResellerInvitation(services, principal, params.token);
    return ok({
      provider: {
        partnerId: side.counterpartyId,
        companyName: side.counterpartyName,
        regions: side.counterpartyRegions,
        services: side.counterpartyServices,
        since: side.since,
      },
    });
  },
});

export const partnerInvitationLanding = defineLinkLanding({
  name: 'partnerInvitationLanding',
  kind: 'partner-invitations',
  summary: "Where a provider's invitation link lands",
  async describe(services, token) {
    const invitation = await usableInvitation<ResellerInvitation>(
      services,
      token,
      'reseller-invitation',
    );
    const provider = invitation.provider;
    return {
      title: `${provider.companyName} invites you to become its indirect reseller`,
      paragraphs: [
        `${provider.companyName} is an indirect provider. Accepting makes it one of your indirect providers, and you one of its indirect resellers: it can then supply you, create customer tenants for you, and order for your customers.`,
      ],
      facts: [
        ['Inviting provider', provider.companyName],
        ['Regions', provider.regions.join(', ')],
        ['Services', provider.services.join(', ') || 'none listed'],
        ['Invitation for MPN ID', invitation.mpnId],
        ['Expires', invitation.expiresAt],
      ],
      steps: [
        'Sign in to Partner Center as a global admin of the invited organisation (the one holding this MPN ID).',
        'Your organisation must be enrolled as an indirect reseller.',
        'Open this invitation there and select Accept. The link works once.',
      ],
    };
  },
});
