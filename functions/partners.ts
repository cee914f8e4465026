import { putMasterRecord, loadPartner } from '../shared/app/partners';
import { defineHttp } from '../shared/http/define';
import { created, etagHeader, ok } from '../shared/http/responses';
import { masterRecordBody, partnerIdParams, partnerView } from '../shared/http/schemas/partners';
import { toPartnerView } from '../shared/http/views';
import { errorResponses } from './responses';

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
    200: { description: 'Updated', schema: partnerView },
    201: { description: 'Created', schema: partnerView },
    ...errorResponses(400, 401, 403, 412, 413, 415),
  },
  async handle({ params, body, principal, services, ifMatch }) {
    const result = await putMasterRecord(services, principal, params.partnerId, body, ifMatch);
    const view = toPartnerView(result.partner);
    const headers = { ETag: etagHeader(result.partner.etag) };
    return result.created ? created(view, headers) : ok(view, headers);
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
    200: { description: 'The partner', schema: partnerView },
    ...errorResponses(400, 401, 403, 404),
  },
  async handle({ params, services }) {
    const partner = await loadPartner(services, params.partnerId);
    return ok(toPartnerView(partner), { ETag: etagHeader(partner.etag) });
  },
});
