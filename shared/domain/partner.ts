import type { Address, Contact } from './contact';
import { notEnrolled, type Enrollment } from './enrollment';
import { noIncentives, type Incentives } from './incentives';

export const providerServices = ['training-support', 'marketing', 'credit-financing'] as const;
export type ProviderService = (typeof providerServices)[number];

export interface IndirectProviderProgram {
  /** ISO 3166-1 alpha-2 country codes the provider works in (docs/rules.md section 6). */
  regions: string[];
  services: ProviderService[];
}

export interface Programs {
  directBill: boolean;
  indirectProvider?: IndirectProviderProgram;
}

export type Language = 'en' | 'fr';

export interface PartnerProfile {
  companyName: string;
  mpnId: string;
  address: Address;
  primaryContact: Contact;
  preferredLanguage?: Language;
  /** When a global admin last confirmed the profile (docs/rules.md section 1: within 12 months). */
  confirmedAt: string;
  confirmedBy: string;
}

/** The master record an operator keeps (docs/api.md PUT /api/operator/partners/{partnerId}). */
export interface MasterRecord {
  companyName: string;
  /** The MPN ID (partner ID, 6-7 digits); null until the operator knows it. */
  mpnId: string | null;
  mpnVerified: boolean;
  mpnAccountEmail: string | null;
  country: string;
  programs: Programs;
}

export interface Partner extends MasterRecord {
  partnerId: string;
  profile: PartnerProfile | null;
  enrollment: Enrollment;
  /** The two incentive programs, each with its own status (docs/rules.md section 10). */
  incentives: Incentives;
  /**
   * When the indirect reseller incentives invitation falls due: set on approval, null once the
   * invitation is queued. The hourly timer queries this indexed field, so it reads only the
   * partners due, never all of them.
   */
  incentiveInviteDueAt: string | null;
  /**
   * Set when the invitation fell due but could not be sent (no MPN account email): the partner
   * leaves the due index, so it never holds up the others, until an operator fills the email
   * in (then it is due again at once).
   */
  incentiveInviteHeldSince?: string | null;
  createdAt: string;
  updatedAt: string;
}

export type PartnerType = 'direct-bill' | 'indirect-provider' | 'indirect-reseller' | 'both';

export function newPartner(partnerId: string, record: MasterRecord, now: Date): Partner {
  return {
    partnerId,
    ...record,
    profile: null,
    enrollment: notEnrolled(),
    incentives: noIncentives(),
    incentiveInviteDueAt: null,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/**
 * An incentives invitation held for want of an MPN account email (docs/rules.md section 10) is
 * due again, at once, as soon as the master record has one: the operator's change that fills it
 * in writes this too.
 */
export function resumeHeldInvitation(partner: Partner, now: Date): Partner {
  if (!partner.incentiveInviteHeldSince || !partner.mpnAccountEmail) return partner;
  return { ...partner, incentiveInviteDueAt: now.toISOString(), incentiveInviteHeldSince: null };
}

/** Once the agreement is accepted the partner is an indirect reseller as well (docs/rules.md section 3). */
export function partnerType(partner: Partner): PartnerType {
  const reseller = partner.enrollment.status === 'active';
  if (reseller) return partner.programs.directBill ? 'both' : 'indirect-reseller';
  if (partner.programs.indirectProvider !== undefined) return 'indirect-provider';
  return 'direct-bill';
}

/** docs/rules.md section 5: the "Indirect providers" navigation entry appears after enrollment. */
export function navigation(partner: Partner): { indirectProviders: boolean } {
  return { indirectProviders: partner.enrollment.status === 'active' };
}

/** Where a partner's emails go: its primary contact, else its MPN account address. */
export function contactEmailOf(partner: Partner | null | undefined): string | null {
  return partner?.profile?.primaryContact.email ?? partner?.mpnAccountEmail ?? null;
}

const frenchSpeakingCountries = new Set(['FR', 'BE', 'LU', 'MC']);

/** The language of the partner's emails: its choice, else French for FR, BE, LU and MC. */
export function preferredLanguage(partner: Partner): Language {
  if (partner.profile?.preferredLanguage) return partner.profile.preferredLanguage;
  const country = partner.profile?.address.country ?? partner.country;
  return frenchSpeakingCountries.has(country.toUpperCase()) ? 'fr' : 'en';
}
