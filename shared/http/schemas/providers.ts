import * as z from 'zod';
import { providerServices } from '../../domain/partner';
import { countryCode, email, guid, mpnId, pageQuery } from './common';

export const directoryQuery = pageQuery.extend({
  region: countryCode.optional(),
  service: z.enum(providerServices).optional(),
});

const providerFields = {
  partnerId: z.string(),
  companyName: z.string(),
  regions: z.array(z.string()),
  services: z.array(z.enum(providerServices)),
};

export const providerView = z
  .object(providerFields)
  .meta({ id: 'Provider', description: 'An indirect provider in the directory' });

const partnershipState = {
  since: z.string(),
  /** docs/rules.md section 8b: an ended partnership stays in both lists. */
  status: z.enum(['active', 'ended']),
  endedAt: z.string().optional(),
};

export const partnershipProviderView = z.object({ ...providerFields, ...partnershipState }).meta({
  id: 'ProviderPartnership',
  description: 'A provider this reseller is in partnership with',
});

export const partnershipResellerView = z
  .object({
    partnerId: z.string(),
    companyName: z.string(),
    mpnId: z.string().nullable(),
    country: z.string(),
    ...partnershipState,
  })
  .meta({ id: 'Reseller', description: 'A reseller in partnership with this provider' });

export const partnershipsQuery = pageQuery.extend({
  status: z.enum(['active', 'ended']).optional(),
});

export const resellerIdParams = z.object({ resellerId: guid });

export const endedPartnershipView = z
  .object({
    resellerId: z.string(),
    status: z.literal('ended'),
    endedAt: z.string(),
    cancelledTransfers: z.array(z.string()).describe('The pending transfers it cancelled'),
  })
  .meta({ id: 'EndedPartnership' });

export const resellerInvitationBody = z.strictObject({ mpnId, email });

export const invitationIdParams = z.object({ invitationId: guid });

export const resellerInvitationStatus = z.enum(['pending', 'accepted', 'revoked', 'expired']);

const invitationFields = {
  invitationId: z.string(),
  status: resellerInvitationStatus,
  mpnId: z.string(),
  email: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
};

export const resellerInvitationView = z
  .object(invitationFields)
  .meta({ id: 'Invitation', description: "A provider's partnership invitation to a reseller" });

export const createdResellerInvitationView = z
  .object({
    ...invitationFields,
    link: z.string().describe('The link the email carries: its secret is after #'),
  })
  .meta({ id: 'CreatedInvitation', description: 'A new invitation, with its link (shown once)' });

export const publicInvitationView = z.object({
  providerName: z.string(),
  status: resellerInvitationStatus,
  expiresAt: z.string(),
  language: z.enum(['en', 'fr']),
});

export const acceptedPartnershipView = z
  .object({ provider: partnershipProviderView })
  .meta({ id: 'AcceptedInvitation', description: 'The partnership the invitation started' });
