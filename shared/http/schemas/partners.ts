import * as z from 'zod';
import { enrollmentStatuses } from '../../domain/enrollment';
import { providerServices } from '../../domain/partner';
import { countryCode, email, guid, mpnId, phone, text } from './common';

export const partnerIdParams = z.object({ partnerId: guid });

export const indirectProviderProgram = z.object({
  regions: z
    .array(countryCode)
    .min(1)
    .max(250)
    .transform((regions) => [...new Set(regions)]),
  services: z
    .array(z.enum(providerServices))
    .max(providerServices.length)
    .transform((list) => [...new Set(list)]),
});

export const masterRecordBody = z.object({
  companyName: text(),
  mpnId: mpnId.nullable().default(null),
  mpnVerified: z.boolean().default(false),
  mpnAccountEmail: email.nullable().default(null),
  country: countryCode,
  programs: z.object({
    directBill: z.boolean(),
    indirectProvider: indirectProviderProgram.optional(),
  }),
});

export const addressSchema = z.object({
  line1: text(),
  city: text(100),
  postalCode: z.string().trim().min(1).max(20),
  country: countryCode,
});

export const contactSchema = z.object({
  firstName: text(100),
  lastName: text(100),
  email,
  phone,
});

export const profileBody = z.object({
  companyName: text(),
  mpnId,
  address: addressSchema,
  primaryContact: contactSchema,
  preferredLanguage: z.enum(['en', 'fr']).optional(),
});

export const profileView = profileBody.extend({
  confirmedAt: z.string(),
  confirmedBy: z.string(),
});

export const partnerView = z.object({
  partnerId: z.string(),
  companyName: z.string(),
  mpnId: z.string().nullable(),
  mpnVerified: z.boolean(),
  mpnAccountEmail: z.string().nullable(),
  country: z.string(),
  profile: profileView.nullable(),
  partnerType: z.enum(['direct-bill', 'indirect-provider', 'indirect-reseller', 'both']),
  programs: z.object({
    directBill: z.boolean(),
    indirectProvider: z
      .object({ regions: z.array(z.string()), services: z.array(z.enum(providerServices)) })
      .optional(),
    indirectReseller: z.object({ status: z.enum(enrollmentStatuses) }),
  }),
  navigation: z.object({ indirectProviders: z.boolean() }),
  createdAt: z.string(),
  updatedAt: z.string(),
  etag: z.string(),
});
