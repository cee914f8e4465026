import * as z from 'zod';
import { enrollmentStatuses } from '../../domain/enrollment';
import { providerServices, type Language } from '../../domain/partner';
import { countryCode, email, guid, mpnId, phone, text } from './common';

export const languages = ['en', 'fr'] as const satisfies readonly Language[];

export const partnerIdParams = z.object({ partnerId: guid });

export const indirectProviderProgram = z.strictObject({
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

export const masterRecordBody = z.strictObject({
  companyName: text(),
  mpnId: mpnId.nullable().default(null),
  mpnVerified: z.boolean().default(false),
  mpnAccountEmail: email.nullable().default(null),
  country: countryCode,
  programs: z.strictObject({
    directBill: z.boolean(),
    indirectProvider: indirectProviderProgram.optional(),
  }),
});

export const addressSchema = z.strictObject({
  line1: text(),
  city: text(100),
  postalCode: z.string().trim().min(1).max(20),
  country: countryCode,
});

export const contactSchema = z.strictObject({
  firstName: text(100),
  lastName: text(100),
  email,
  phone,
});

export const profileBody = z.strictObject({
  companyName: text(),
  mpnId,
  address: addressSchema,
  primaryContact: contactSchema,
  preferredLanguage: z.enum(languages).optional(),
});

/** As stored: the request's fields, normalised (trimmed, the country in upper case). */
export const addressView = z
  .object({
    line1: z.string(),
    city: z.string(),
    postalCode: z.string(),
    country: z.string().describe('ISO 3166-1 alpha-2'),
  })
  .meta({ id: 'Address' });

export const contactView = z
  .object({ firstName: z.string(), lastName: z.string(), email: z.string(), phone: z.string() })
  .meta({ id: 'Contact' });

export const profileView = z
  .object({
    companyName: z.string(),
    mpnId: z.string(),
    address: addressView,
    primaryContact: contactView,
    preferredLanguage: z
      .enum(languages)
      .optional()
      .describe(
        "The language of the partner's emails; unset: French for FR, BE, LU and MC, else English",
      ),
    confirmedAt: z.string(),
    confirmedBy: z.string(),
  })
  .meta({ id: 'Profile', description: 'The partner profile as a global admin last confirmed it' });

export const partnerView = z
  .object({
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
    etag: z.string().describe('Send it as If-Match to change the partner'),
  })
  .meta({ id: 'Partner' });
