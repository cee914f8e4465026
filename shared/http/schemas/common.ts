import * as z from 'zod';
import { problemCatalog, type ProblemCode } from '../../domain/errors';

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

/**
 * The secret of an emailed link: the part after `#`. A whole link pasted instead (with its `#`,
 * or a URL) is refused saying so, rather than looked up and answered 404 like a wrong token.
 */
export const linkToken = z
  .string()
  .min(1)
  .max(512)
  .refine((token) => !token.includes('#') && !/^(?:[a-z][a-z0-9+.-]*:|\/)/i.test(token), {
    message: 'is a whole link: send only the part of the link after "#"',
  });

export const isoTimestamp = z.string().describe('ISO 8601 UTC timestamp');

/** Lists: `?pageSize=` and `?continuationToken=`; closed, as every query is. */
export const pageQuery = z.strictObject({
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
  continuationToken: z.string().min(1).max(4096).optional(),
});

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    continuationToken: z
      .string()
      .nullable()
      .describe('Pass it back as it came to read the next page; null on the last page'),
  });

const problemCodes = Object.keys(problemCatalog) as [ProblemCode, ...ProblemCode[]];

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().describe('For people: what went wrong and what to do'),
    code: z.enum(problemCodes).describe('Stable: program against it'),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .describe(
        'Each field at fault: body.<field>, query.<parameter>, params.<parameter>, headers.<name>',
      ),
    retryAfterSeconds: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('With 429 and 503: the Retry-After header, in seconds'),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with a stable code' });

export const actorSchema = z
  .object({
    kind: z.enum(['user', 'operator', 'system']),
    tenantId: z.string().nullable(),
    userId: z.string().nullable(),
    name: z.string(),
  })
  .meta({ id: 'Actor', description: 'Who made a change: a user, an operator, or a timer' });
