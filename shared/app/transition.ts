import { DomainError } from '../domain/errors';
import { preferredLanguage, type Language, type Partner } from '../domain/partner';
import { isProvider, type Partnership, type ResellerInvitation } from '../domain/providers';
import { transitionOf, type Transition } from '../domain/transition';
import { emptyCounts, type TransitionCounts } from '../domain/transition-counts';
import { loadPartner } from './partners';
import type { Page, PageRequest } from './ports';
import type { Services } from './services';
import { readCounts } from './transition-counts';

export interface PartnerTransition {
  partner: Partner;
  counts: TransitionCounts;
  transition: Transition;
  language: Language;
}

/**
 * GET /api/me/transition (docs/rules.md section 14): two point reads in the partner's partition,
 * its record and its counts, however many customers it has; the rest is the domain's.
 */
export async function readTransition(
  services: Services,
  partnerId: string,
): Promise<PartnerTransition> {
  const [{ value: partner }, counts] = await Promise.all([
    loadPartner(services, partnerId),
    readCounts(services, partnerId),
  ]);
  const known = counts ?? emptyCounts(partnerId, new Date(partner.createdAt));
  return {
    partner,
    counts: known,
    transition: transitionOf(partner, known, services.clock.now(), {
      reviewBusinessDays: services.config.enrollment.escalationBusinessDays,
    }),
    language: preferredLanguage(partner),
  };
}

export interface ResellerPipeline {
  invited: ResellerInvitation[];
  resellers: Page<Partnership>;
}

/**
 * GET /api/me/reseller-pipeline (docs/rules.md section 14): the provider's invitations still
 * open (on the first page only: a provider has at most a few hundred), and a page of its
 * resellers with what each has moved to it, from its side of each partnership, where every
 * count is kept with the change it counts. A partner that is not a provider is refused (403).
 */
export async function resellerPipeline(
  services: Services,
  partnerId: string,
  page: PageRequest,
): Promise<ResellerPipeline> {
  const { value: partner } = await loadPartner(services, partnerId);
  if (!isProvider(partner)) {
    throw new DomainError(
      'forbidden',
      'Only an indirect provider has a reseller pipeline: this partner is not one.',
    );
  }
  const now = services.clock.now();
  const [invited, resellers] = await Promise.all([
    page.continuationToken === undefined
      ? services.partners.pendingInvitations<ResellerInvitation>(
          partnerId,
          'reseller-invitation',
          now,
        )
      : Promise.resolve([]),
    services.partners.partnerships(partnerId, 'provider', page),
  ]);
  return {
    invited: invited.sort(
      (a, b) =>
        b.createdAt.localeCompare(a.createdAt) || a.invitationId.localeCompare(b.invitationId),
    ),
    resellers,
  };
}
