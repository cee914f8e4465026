import { confirmProfile, loadPartner } from '../shared/app/partners';
import { defineHttp } from '../shared/http/define';
import { etagHeader, ok } from '../shared/http/responses';
import { partnerView, profileBody } from '../shared/http/schemas/partners';
import { toPartnerView } from '../shared/http/views';

/** The calling partner, identified by its token's tenant (docs/api.md GET /api/me). */
export const getMe = defineHttp({
  name: 'getMe',
  methods: ['GET'],
  route: 'me',
  summary: 'The calling partner: profile, type, program status and navigation',
  tags: ['partner'],
  access: { kind: 'signed-in' },
  responses: {
    200: { description: 'The partner', schema: partnerView, headers: { ETag: 'always' } },
  },
  errors: ['not-found'],
  async handle({ principal, services }) {
    const partner = await loadPartner(services, principal.tenantId);
    return ok(toPartnerView(partner), { ETag: etagHeader(partner.etag) });
  },
});

export const putProfile = defineHttp({
  name: 'putProfile',
  methods: ['PUT'],
  route: 'me/profile',
  summary: 'Confirm the partner profile (stamps confirmedAt)',
  tags: ['partner'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  body: profileBody,
  ifMatch: true,
  responses: {
    200: {
      description: 'The partner with its confirmed profile',
      schema: partnerView,
      headers: { ETag: 'always' },
    },
  },
  errors: ['not-found', 'precondition-failed', 'conflict'],
  async handle({ principal, body, services, ifMatch }) {
    const partner = await confirmProfile(services, principal, body, ifMatch);
    return ok(toPartnerView(partner), { ETag: etagHeader(partner.etag) });
  },
});
