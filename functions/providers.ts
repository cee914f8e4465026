import { DomainError } from '../shared/domain/errors';
import { isEnrolled } from '../shared/domain/enrollment';
import type { Partnership, ProviderListing } from '../shared/domain/providers';
import { loadPartner } from '../shared/app/partners';
import { endPartnership } from '../shared/app/partnerships';
import { listPartnerships } from '../shared/app/reseller-invitations';
import { defineHttp } from '../shared/http/define';
import { ok } from '../shared/http/responses';
import { pageOf } from '../shared/http/schemas/common';
import {
  directoryQuery,
  endedPartnershipView,
  partnershipsQuery,
  partnershipProviderView,
  partnershipResellerView,
  providerView,
  resellerIdParams,
} from '../shared/http/schemas/providers';

const toProviderView = (listing: ProviderListing) => ({
  partnerId: listing.providerId,
  companyName: listing.companyName,
  regions: listing.regions,
  services: listing.services,
});

/** docs/rules.md section 5: the provider directory, for enrolled partners. */
export const listIndirectProviders = defineHttp({
  name: 'listIndirectProviders',
  methods: ['GET'],
  route: 'indirect-providers',
  summary:
    'The indirect provider directory, by region and service, sorted by name (enrolled partners)',
  tags: ['providers'],
  access: { kind: 'signed-in' },
  query: directoryQuery,
  responses: {
    200: { description: 'A page of providers', schema: pageOf(providerView) },
  },
  errors: ['not-found', 'forbidden'],
  async handle({ principal, query, services }) {
    const { value: partner } = await loadPartner(services, principal.tenantId);
    if (!isEnrolled(partner.enrollment)) {
      throw new DomainError(
        'forbidden',
        'The provider directory opens once your indirect reseller enrollment is approved.',
      );
    }
    const page = await services.partners.providerListings(
      { region: query.region, service: query.service },
      query,
    );
    return ok({ items: page.items.map(toProviderView), continuationToken: page.continuationToken });
  },
});

const partnershipState = (partnership: Partnership) => ({
  since: partnership.since,
  status: partnership.status ?? 'active',
  ...(partnership.endedAt ? { endedAt: partnership.endedAt } : {}),
});

export const toPartnerProvider = (partnership: Partnership) => ({
  partnerId: partnership.counterpartyId,
  companyName: partnership.counterpartyName,
  regions: partnership.counterpartyRegions,
  services: partnership.counterpartyServices,
  ...partnershipState(partnership),
});

const toPartnerReseller = (partnership: Partnership) => ({
  partnerId: partnership.counterpartyId,
  companyName: partnership.counterpartyName,
  mpnId: partnership.counterpartyMpnId,
  country: partnership.counterpartyCountry,
  ...partnershipState(partnership),
});

export const listMyIndirectProviders = defineHttp({
  name: 'listMyIndirectProviders',
  methods: ['GET'],
  route: 'me/indirect-providers',
  summary: 'The providers this reseller is in partnership with',
  tags: ['providers'],
  access: { kind: 'signed-in' },
  query: partnershipsQuery,
  responses: {
    200: { description: 'A page of providers', schema: pageOf(partnershipProviderView) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await listPartnerships(
      services,
      principal.tenantId,
      'reseller',
      query,
      query.status,
    );
    return ok({
      items: page.items.map(toPartnerProvider),
      continuationToken: page.continuationToken,
    });
  },
});

export const listMyIndirectResellers = defineHttp({
  name: 'listMyIndirectResellers',
  methods: ['GET'],
  route: 'me/indirect-resellers',
  summary: 'The resellers in partnership with this provider',
  tags: ['providers'],
  access: { kind: 'signed-in' },
  query: partnershipsQuery,
  responses: {
    200: { description: 'A page of resellers', schema: pageOf(partnershipResellerView) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await listPartnerships(
      services,
      principal.tenantId,
      'provider',
      query,
      query.status,
    );
    return ok({
      items: page.items.map(toPartnerReseller),
      continuationToken: page.continuationToken,
    });
  },
});

export const endPartnershipFunction = defineHttp({
  name: 'endPartnership',
  methods: ['DELETE'],
  route: 'me/indirect-resellers/{resellerId}',
  summary:
    'The provider ends a partnership: both sides keep it as ended, customers stay, pending transfers are cancelled',
  tags: ['providers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  params: resellerIdParams,
  responses: {
    200: { description: 'The ended partnership', schema: endedPartnershipView },
  },
  errors: ['not-found', 'conflict'],
  async handle({ principal, params, services }) {
    const { partnership, cancelledTransfers } = await endPartnership(
      services,
      principal,
      params.resellerId,
    );
    return ok({
      resellerId: partnership.counterpartyId,
      status: 'ended' as const,
      endedAt: partnership.endedAt ?? '',
      cancelledTransfers,
    });
  },
});
