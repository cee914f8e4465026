import * as z from 'zod';
import { providerServices } from '../../domain/partner';
import { countryCode, email, guid, mpnId, pageQuery } from './common';

export const directoryQuery = pageQuery.extend({
  region: countryCode.optional(),
  service: z.enum(providerServices).optional(),
});

export const providerView = z.object({
  partnerId: z.string(),
  companyName: z.string(),
  regions: z.array(z.string()),
  services: z.array(z.enum(providerServices)),
});

const partnershipState = {
  since: z.string(),
  /** docs/rules.md section 8b: an ended partnership stays in both lists. */
  status: z.enum(['active', 'ended']),
  endedAt: z.string().optional(),
};

export const partnershipProviderView = providerView.extend(partnershipState);

export const partnershipResellerView = z.object({
  partnerId: z.string(),
  companyName: z.string(),
  mpnId: z.string().nullable(),
  country: z.string(),
  ...partnershipState,
});

export const partnershipsQuery = pageQuery.extend({
  status: z.enum(['active', 'ended']).optional(),
});

export const resellerIdParams = z.object({ resellerId: guid });

export const endedPartnershipView = z.object({
  resellerId: z.string(),
  status: z.literal('ended'),
  endedAt: z.string(),
  cancelledTransfers: z.array(z.string()),
});

export const resellerInvitationBody = z.object({ mpnId, email });

export const invitationIdParams = z.object({ invitationId: guid });

export const tokenParams = z.object({ token: z.string().max(512) });

export const resellerInvitationStatus = z.enum(['pending', 'accepted', 'revoked', 'expired']);

export const resellerInvitationView = z.object({
  invitationId: z.string(),
  status: resellerInvitationStatus,
  mpnId: z.string(),
  email: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
});

export const createdResellerInvitationView = resellerInvitationView.extend({ link: z.string() });

export const publicInvitationView = z.object({
  providerName: z.string(),
  status: resellerInvitationStatus,
  expiresAt: z.string(),
  language: z.enum(['en', 'fr']),
});

export const acceptedPartnershipView = z.object({ provider: partnershipProviderView });
