import fc from 'fast-check';
import * as z from 'zod';

/** The JSON Schema subset zod emits for this app's schemas. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/**
 * zod v4's input JSON Schema loses the format of a piped string (`email` below), so a property
 * named like an email (or an email recipient `to`, a user principal name) gets addresses.
 */
const emailAddress = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9.]{0,15}[a-z0-9]$/),
    fc.constantFrom('contoso.example', 'fabrikam.example', 'xn--bcher-kva.example'),
  )
  .map(([local, domain]) => `${local.replace(/\.\.+/g, '.')}@${domain}`);

const webUrl = fc.webUrl({ validSchemes: ['https'], withQueryParameters: true });

const calendarDay = fc
  .date({
    min: new Date('2025-01-01T00:00:00.000Z'),
    max: new Date('2026-12-31T00:00:00.000Z'),
    noInvalidDate: true,
  })
  .map((date) => date.toISOString().slice(0, 10));

function stringArbitrary(schema: JsonSchema, name: string): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 60, 60);
  // A calendar date (a report's period, whose end is named `to`): days of two recent years, so
  // that pairs of them are as often valid periods as not.
  if (schema.format === 'date') return calendarDay;
  // A pattern the schema states wins over a name (`emailId` is no address).
  if (schema.format === 'email' || (!schema.pattern && /email|^to$|principalname/i.test(name)))
    return emailAddress;
  // Likewise a piped URL (a webhook's): random text is almost never one.
  if (schema.format === 'uri' || /^url$/i.test(name)) return webUrl;
  if (schema.pattern) {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((value) => value.length >= minLength && value.length <= (schema.maxLength ?? 1e9));
  }
  return fc.string({ minLength: Math.max(minLength, 1), maxLength, unit: 'grapheme' });
}

/** Values a JSON Schema describes, valid-looking: the shape and bounds it states. */
export function arbitraryFor(schema: JsonSchema, name = ''): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((member) => arbitraryFor(member, name)));
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'object': {
      const properties = Object.entries(schema.properties ?? {});
      const record = Object.fromEntries(
        properties.map(([property, value]) => [property, arbitraryFor(value, property)]),
      );
      return fc.record(record, { requiredKeys: schema.required ?? [] });
    }
    case 'array':
      return fc.array(arbitraryFor(schema.items ?? {}, name), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 4),
      });
    case 'string':
      return stringArbitrary(schema, name);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue();
  }
}

/** Values the zod schema accepts, generated from its own JSON Schema. */
export function validArbitrary(schema: z.ZodType): fc.Arbitrary<unknown> {
  return arbitraryFor(jsonSchemaOf(schema)).filter((value) => schema.safeParse(value).success);
}

/** One valid value, the same on every run (seeded); fails loudly when none can be found. */
export function validSample(schema: z.ZodType, what: string, seed = 9): unknown {
  const [value] = fc.sample(validArbitrary(schema), { seed, numRuns: 1 });
  if (value === undefined) throw new Error(`no valid value could be generated for ${what}`);
  return value;
}

/** Strings that have broken parsers, queries and file systems elsewhere. */
export const hostileStrings: readonly string[] = [
  '',
  ' ',
  '..',
  '../../../../etc/passwd',
  '..%2F..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '%00',
  'a\u0000b',
  "' OR '1'='1",
  '" OR 1=1 --',
  '1; DROP TABLE partners',
  '{"$ne":null}',
  '{"$gt":""}',
  'SELECT * FROM c',
  '__proto__',
  'constructor',
  'prototype',
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '\u202eRTL override',
  'ｆｕｌｌｗｉｄｔｈ',
  '👩‍👩‍👧‍👦🏳️‍🌈',
  '\ud800',
  'null',
  'undefined',
  'NaN',
  '-1',
  '1e309',
  '0x7fffffff',
  '00000000-0000-0000-0000-000000000000',
  '00000000-0000-0000-0000-0000000000ff',
  'AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
];

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...hostileStrings) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => 'x'.repeat(n * 1000)) },
);

/** Any JSON value, with hostile strings, extreme numbers and pollution keys among them. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 1, 0.1, true, false, null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', '$where'), fc.string()),
      tie('value'),
      { maxKeys: 3 },
    ),
  ),
})).value;

/** A valid value with one field, somewhere inside, replaced by something of another kind. */
export function mutated(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.tuple(valid, hostileJson, fc.nat()).map(([value, replacement, pick]) => {
    const paths: (string | number)[][] = [];
    const walk = (node: unknown, path: (string | number)[]): void => {
      if (node !== null && typeof node === 'object') {
        for (const [key, child] of Object.entries(node)) {
          const next = [...path, Array.isArray(node) ? Number(key) : key];
          paths.push(next);
          walk(child, next);
        }
      }
    };
    walk(value, []);
    if (paths.length === 0) return replacement;
    const copy = structuredClone(value) as Record<string | number, unknown>;
    const path = paths[pick % paths.length]!;
    let target = copy;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
    target[path.at(-1)!] = replacement;
    return copy;
  });
}
