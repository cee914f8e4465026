import * as z from 'zod';

/** Entra tenant and object ids: GUIDs, compared in lower case. */
export const guid = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'must be a GUID',
  )
  .transform((value) => value.toLowerCase());

export const text = (max = 200) => z.string().trim().min(1).max(max);

export const countryCode = z
  .string()
  .trim()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code')
  .transform((value) => value.toUpperCase());

export const mpnId = z
  .string()
  .trim()
  .regex(/^\d{6,7}$/, 'must be an MPN ID of 6 or 7 digits');

export const email = z.string().trim().max(254).pipe(z.email());

export const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ().-]{6,24}$/, 'must be a phone number');

export const isoTimestamp = z.string().describe('ISO 8601 UTC timestamp');

export const pageQuery = z.object({
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  continuationToken: z.string().min(1).max(4096).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), continuationToken: z.string().nullable() });

export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  code: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const actorSchema = z.object({
  kind: z.enum(['user', 'operator', 'system']),
  tenantId: z.string().nullable(),
  userId: z.string().nullable(),
  name: z.string(),
});
