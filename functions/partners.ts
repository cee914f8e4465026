import { putMasterRecord, loadPartner } from '../shared/app/partners';
import { defineHttp } from '../shared/http/define';
import { created, etagHeader, ok } from '../shared/http/responses';
import { masterRecordBody, partnerIdParams, partnerView } from '../shared/http/schemas/partners';
import { toPartnerView } from '../shared/http/views';

/** Operators keep each partner's master record (docs/api.md). */
export const putPartner = defineHttp({
  name: 'putPartner',
  methods: ['PUT'],
  route: 'operator/partners/{partnerId}',
  summary: "Create or update a partner's master record",
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator'] },
  params: partnerIdParams,
  body: masterRecordBody,
  ifMatch: true,
  responses: {
    200: { description: 'Updated', schema: partnerView, headers: { ETag: 'always' } },
    201: {
      description: 'Created',
      schema: partnerView,
      headers: { ETag: 'always', Location: 'always' },
    },
  },
  errors: ['precondition-failed', 'conflict'],
  async handle({ params, body, principal, services, ifMatch }) {
    const result = await putMasterRecord(services, principal, params.partnerId, body, ifMatch);
    const view = toPartnerView(result.partner);
    const headers = { ETag: etagHeader(result.partner.etag) };
    return result.created
      ? created(view, { ...headers, Location: `/api/operator/partners/${params.partnerId}` })
      : ok(view, headers);
  },
});

export const getPartner = defineHttp({
  name: 'getPartner',
  methods: ['GET'],
  route: 'operator/partners/{partnerId}',
  summary: "Read a partner's master record",
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator'] },
  params: partnerIdParams,
  responses: {
    200: { description: 'The partner', schema: partnerView, headers: { ETag: 'always' } },
  },
  errors: ['not-found'],
  async handle({ params, services }) {
    const partner = await loadPartner(services, params.partnerId);
    return ok(toPartnerView(partner), { ETag: etagHeader(partner.etag) });
  },
});
