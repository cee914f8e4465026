import * as z from 'zod';
import type { HttpFunctionDefinition, HttpMethod } from '../../shared/http/define';

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

export interface PlannedRequest {
  method: HttpMethod;
  path: string;
  body?: unknown;
}

export interface RequestSamples {
  /** Values for path parameters, by parameter name; a function picks by route. */
  params: Record<string, string | ((route: string) => string)>;
  /** Bodies by function name; others are generated from the body schema. */
  bodies: Record<string, unknown>;
}

const sampleGuid = '8a3f5b8e-3c1d-4f2a-9b7e-2d4c6e8f0a1b';

function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

function sampleString(schema: JsonSchema): string {
  if (schema.format === 'email') return 'someone@example.com';
  if (schema.format === 'uuid' || schema.format === 'guid') return sampleGuid;
  if (schema.format === 'date-time') return new Date().toISOString();
  if (schema.format === 'date') return '2026-01-01';
  if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
  if (schema.pattern !== undefined) {
    // The patterns our schemas use: digits (MPN IDs), country codes, GUIDs.
    if (/\\d\{(\d+)/.test(schema.pattern)) {
      const digits = Number(/\\d\{(\d+)/.exec(schema.pattern)![1]);
      return '1234567'.slice(0, Math.max(digits, 1)).padEnd(digits, '7');
    }
    if (/\[A-Z\]\{2\}/.test(schema.pattern)) return 'US';
    if (/\[0-9a-f\]\{8\}/i.test(schema.pattern)) return sampleGuid;
  }
  return 'sample'.padEnd(schema.minLength ?? 0, 'x');
}

/** A plausible value for a JSON schema: enough to get past validation in most cases. */
export function sampleOf(schema: JsonSchema): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum !== undefined) return schema.enum[0];
  const choice = schema.anyOf ?? schema.oneOf;
  if (choice !== undefined && choice.length > 0) return sampleOf(choice[0]!);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return sampleString(schema);
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () =>
        sampleOf(schema.items ?? {}),
      );
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([name, property]) => [
          name,
          sampleOf(property),
        ]),
      );
    default:
      return null;
  }
}

function queryString(schema: z.ZodType | undefined): string {
  if (schema === undefined) return '';
  const object = toJsonSchema(schema);
  const required = new Set(object.required ?? []);
  const pairs = Object.entries(object.properties ?? {})
    .filter(([name, property]) => required.has(name) || property.enum !== undefined)
    .map(([name, property]): [string, string] => [name, String(sampleOf(property))]);
  return pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`;
}

/**
 * One plausible request per method of an HTTP function, generated from its own spec: path
 * parameters from `samples.params`, the query from its schema, the body from `samples.bodies`
 * or its schema. A route added to the table is covered without a line written for it.
 */
export function plausibleRequests(
  definition: HttpFunctionDefinition,
  samples: RequestSamples,
): PlannedRequest[] {
  const { spec } = definition;
  const path = spec.route.replace(/\{([A-Za-z][A-Za-z0-9_]*)(?::[^}?]+)?\??\}/g, (_, name) => {
    const sample = samples.params[name as string];
    const value = typeof sample === 'function' ? sample(spec.route) : (sample ?? sampleGuid);
    return encodeURIComponent(value);
  });
  const body =
    spec.body === undefined
      ? undefined
      : (samples.bodies[spec.name] ?? sampleOf(toJsonSchema(spec.body)));
  return spec.methods.map((method) => ({
    method,
    path: `/api/${path}${queryString(spec.query)}`,
    ...(body === undefined ? {} : { body }),
  }));
}
