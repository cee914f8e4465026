import type { z } from 'zod';
import type { Versioned } from '../app/ports';
import { navigation, partnerType, type Partner } from '../domain/partner';
import type { partnerView } from './schemas/partners';

/** A partner as the API shows it (api.md GET /api/me). */
export function toPartnerView({
  value: partner,
  etag,
}: Versioned<Partner>): z.input<typeof partnerView> {
  return {
    partnerId: partner.partnerId,
    companyName: partner.companyName,
    mpnId: partner.mpnId,
    mpnVerified: partner.mpnVerified,
    mpnAccountEmail: partner.mpnAccountEmail,
    country: partner.country,
    profile: partner.profile,
    partnerType: partnerType(partner),
    programs: {
      directBill: partner.programs.directBill,
      ...(partner.programs.indirectProvider
        ? { indirectProvider: partner.programs.indirectProvider }
        : {}),
      indirectReseller: { status: partner.enrollment.status },
    },
    navigation: navigation(partner),
    createdAt: partner.createdAt,
    updatedAt: partner.updatedAt,
    etag,
  };
}
