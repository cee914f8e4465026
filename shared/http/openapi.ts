import * as z from 'zod';
import type { HttpFunctionDefinition } from './define';
import { idempotencyKeyHeaders } from './idempotency';
import { eventDataSchemas, eventTypes } from '../domain/events';
import { problemSchema } from './schemas/common';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

/** Each property of a zod object becomes one OpenAPI parameter. */
function parameters(schema: z.ZodType | undefined, location: 'path' | 'query'): JsonSchema[] {
  if (schema === undefined) return [];
  const object = jsonSchema(schema, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    schema: property,
  }));
}

/**
 * OpenAPI 3.1 of every HTTP function, generated from the same zod schemas that validate the
 * requests (zod v4 emits JSON Schema 2020-12, OpenAPI 3.1's own dialect).
 */
export function buildOpenApi(functions: HttpFunctionDefinition[], serverUrl: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const { spec } of functions) {
    const path = `/api/${spec.route}`;
    paths[path] ??= {};
    for (const method of spec.methods) {
      const responses: Record<string, JsonSchema> = {};
      for (const [status, response] of Object.entries(spec.responses)) {
        const contentType =
          response.contentType ??
          (Number(status) >= 400 ? 'application/problem+json' : 'application/json');
        responses[status] = {
          description: response.description,
          ...(response.schema || !contentType.endsWith('json')
            ? {
                content: {
                  [contentType]: {
                    schema: response.schema
                      ? jsonSchema(response.schema, 'output')
                      : { type: 'string' },
                  },
                  ...(response.csv
                    ? {
                        'text/csv': {
                          schema: { type: 'string', description: response.csv },
                        },
                      }
                    : {}),
                },
              }
            : {}),
        };
      }
      if (method === 'POST') {
        responses['409'] ??= problemResponse(
          'idempotency-key-reused: the idempotency key was used for another request',
        );
      }
      // Every signed-in request counts against its tenant's bucket, and each anonymous link
      // lookup against its client's (shared/app/request-limits.ts): either may answer 429.
      if (spec.access.kind !== 'anonymous' || spec.rateLimit === 'link-lookup') {
        responses['429'] ??= problemResponse(
          'rate-limited: too many requests; Retry-After says when to try again',
        );
      }
      responses['500'] ??= problemResponse('Unexpected error; carries the invocation id');
      responses['503'] ??= problemResponse('A dependency is unavailable; nothing changed');
      paths[path][method.toLowerCase()] = {
        operationId:
          spec.methods.length > 1
            ? `${spec.name}${method[0]}${method.slice(1).toLowerCase()}`
            : spec.name,
        summary: spec.summary,
        tags: [...spec.tags],
        ...(spec.access.kind === 'anonymous' ? { security: [] } : {}),
        'x-access': spec.access,
        parameters: [
          ...parameters(spec.params, 'path'),
          ...parameters(spec.query, 'query'),
          ...(spec.ifMatch
            ? [{ name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } }]
            : []),
          ...(method === 'POST' ? idempotencyParameters : []),
        ],
        ...(spec.body
          ? {
              requestBody: {
                required: !spec.body.safeParse(undefined).success,
                content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } },
              },
            }
          : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Partner transition: direct bill to indirect reseller',
      version: '1.0.0',
      description:
        'Enrollment, the indirect reseller agreement, providers and their invitations, customers and incentives. Errors are RFC 9457 problem details with a stable `code`.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
    paths,
    webhooks: eventWebhooks(),
  };
}

/**
 * OpenAPI 3.1 `webhooks`: each event type, as POSTed to a subscriber's endpoint, with its `data`
 * schema from the same zod schemas that build the events (domain/events.ts).
 */
function eventWebhooks(): Record<string, JsonSchema> {
  const signatureHeaders = [
    ['webhook-id', 'The event id: the same on every retry; drop duplicates by it'],
    ['webhook-timestamp', 'Unix seconds when this attempt was signed'],
    [
      'webhook-signature',
      'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">; two, space-separated, for 24 hours after a rotation',
    ],
  ].map(([name, description]) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  }));
  return Object.fromEntries(
    eventTypes.map((type) => [
      type,
      {
        post: {
          operationId: `event.${type}`,
          summary: `The ${type} event`,
          tags: ['events'],
          parameters: signatureHeaders,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'type', 'occurredAt', 'partnerId', 'data'],
                  properties: {
                    id: { type: 'string', description: 'evt_...' },
                    type: { const: type },
                    occurredAt: { type: 'string', format: 'date-time' },
                    partnerId: { type: 'string', description: 'The partner whose change it is' },
                    data: jsonSchema(eventDataSchemas[type], 'output'),
                  },
                },
              },
            },
          },
          responses: {
            '2XX': { description: 'Received: answer within 10 seconds' },
            '410': { description: 'Gone: the endpoint is disabled and the partner emailed' },
          },
        },
      },
    ]),
  );
}

/** Every POST honours a retry key (shared/http/idempotency.ts). */
const idempotencyParameters: JsonSchema[] = idempotencyKeyHeaders.map((name) => ({
  name,
  in: 'header',
  required: false,
  description:
    name === 'Idempotency-Key'
      ? 'Makes the POST safe to retry: within 24 hours the same key gets the first answer again (marked Idempotent-Replayed: true) and changes nothing; the same key with another request is 409 idempotency-key-reused.'
      : 'As Partner Center clients send it: used as the idempotency key when Idempotency-Key is absent.',
  schema: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21-\\x7E]+$' },
}));

function problemResponse(description: string): JsonSchema {
  return {
    description,
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
}
