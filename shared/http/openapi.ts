import * as z from 'zod';
import { problemCatalog, type ProblemCode } from '../domain/errors';
import { eventTypes } from '../domain/events';
import {
  idempotentOperation,
  operationCodes,
  operationIdOf,
  type DeclaredHeader,
  type HttpFunctionDefinition,
  type ResponseSpec,
} from './define';
import { idempotencyKeyHeaders, replayedHeader } from './idempotency';
import './schemas/common';
import { eventSchema, eventSchemas } from './schemas/events';

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

const componentRef = (id: string): string => `#/components/schemas/${id}`;

/**
 * Every schema named with zod's `.meta({ id })`, converted once per direction: `input` for what a
 * caller sends (params, query, body), `output` for what it receives (answers, events). Named
 * schemas become `components/schemas` and are `$ref`ed wherever they appear, so a generated
 * client has one `Transfer` type; the rest is inlined in its operation.
 */
class SchemaSet {
  private readonly pending = {
    input: new Map<z.ZodType, JsonSchema>(),
    output: new Map<z.ZodType, JsonSchema>(),
  };

  /** A schema to convert: the object returned receives its JSON Schema when `resolve` runs. */
  add(schema: z.ZodType, io: Io): JsonSchema {
    const id = z.globalRegistry.get(schema)?.id;
    if (id !== undefined) return { $ref: componentRef(id) };
    const target = this.pending[io].get(schema) ?? {};
    this.pending[io].set(schema, target);
    return target;
  }

  /** Converts everything added, and returns the named schemas (the components). */
  resolve(): Record<string, JsonSchema> {
    const named = [...z.globalRegistry._idmap.entries()];
    const converted = {} as Record<Io, Record<string, JsonSchema>>;
    for (const io of ['input', 'output'] as const) {
      const registry = z.registry<{ id: string }>();
      for (const [id, schema] of named) registry.add(schema, { id });
      const anonymous = [...this.pending[io].entries()];
      anonymous.forEach(([schema], index) => registry.add(schema, { id: `~${index}` }));
      const { schemas } = z.toJSONSchema(registry, {
        io,
        uri: componentRef,
        // An answer the generator cannot describe would reach a client as `unknown`: refuse it.
        unrepresentable: 'throw',
      }) as { schemas: Record<string, JsonSchema> };
      converted[io] = Object.fromEntries(
        Object.entries(schemas).map(([id, schema]) => [id, clean(schema)]),
      );
      anonymous.forEach(([, target], index) => Object.assign(target, converted[io][`~${index}`]));
      const inlined = JSON.stringify(anonymous.map(([, target]) => target));
      if (inlined.includes('#/components/schemas/~')) {
        throw new Error('An unnamed schema is used inside another: give it an id with .meta()');
      }
    }
    // A named schema is one component: it must read the same wherever it is used.
    const components: Record<string, JsonSchema> = {};
    for (const [id] of named) {
      const usedAs = (['input', 'output'] as const).filter((io) =>
        [...this.pending[io].values()].some((target) => refersTo(target, id, converted[io])),
      );
      const first = usedAs[0] ?? 'output';
      const schema = converted[first][id]!;
      const second = usedAs[1];
      if (second && JSON.stringify(schema) !== JSON.stringify(converted[second][id])) {
        throw new Error(
          `${id} is used in requests and in answers but reads differently in each: name them apart`,
        );
      }
      components[id] = schema;
    }
    return components;
  }
}

function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, id: _name, ...rest } = schema;
  return rest;
}

/** Whether `schema` refers to component `id`, directly or through the components it refers to. */
function refersTo(
  schema: unknown,
  id: string,
  components: Record<string, JsonSchema>,
  seen = new Set<string>(),
): boolean {
  if (Array.isArray(schema)) return schema.some((item) => refersTo(item, id, components, seen));
  if (schema === null || typeof schema !== 'object') return false;
  const ref = (schema as { $ref?: unknown }).$ref;
  if (typeof ref === 'string' && ref.startsWith('#/components/schemas/')) {
    const target = ref.slice('#/components/schemas/'.length);
    if (target === id) return true;
    if (seen.has(target)) return false;
    seen.add(target);
    return refersTo(components[target], id, components, seen);
  }
  return Object.values(schema).some((value) => refersTo(value, id, components, seen));
}

/** Each property of a zod object (converted) becomes one OpenAPI parameter. */
function parameters(object: JsonSchema, location: 'path' | 'query'): JsonSchema[] {
  const { properties = {}, required = [] } = object as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/** The response headers the app may send, as openapi.json declares them. */
const headerObjects: Record<DeclaredHeader | 'Retry-After' | 'Idempotent-Replayed', JsonSchema> = {
  ETag: {
    description: 'The entity tag of the document: send it as If-Match to change it',
    schema: { type: 'string' },
  },
  Location: {
    description: 'The URL of the resource this answer created, or of where to go',
    schema: { type: 'string' },
  },
  'Content-Language': {
    description: "The language of the answer's plain words: the one the partner's emails are in",
    schema: { type: 'string', enum: ['en', 'fr'] },
  },
  'Retry-After': {
    description: 'Seconds to wait before trying again (also in the body as retryAfterSeconds)',
    schema: { type: 'integer', minimum: 1 },
  },
  [replayedHeader]: {
    description:
      'true: this is the stored answer of an earlier request with the same Idempotency-Key; nothing ran again',
    schema: { type: 'string', enum: ['true'] },
  },
};

function headersOf(
  declared: ResponseSpec['headers'],
  extra: ('Retry-After' | 'Idempotent-Replayed')[],
  required: ('Retry-After' | 'Idempotent-Replayed')[] = [],
): JsonSchema | undefined {
  const names = [
    ...Object.entries(declared ?? {}).map(([name, presence]) => ({
      name: name as DeclaredHeader,
      required: presence === 'always',
    })),
    ...extra.map((name) => ({ name, required: required.includes(name) })),
  ];
  if (names.length === 0) return undefined;
  return Object.fromEntries(
    names.map(({ name, required: must }) => [name, { ...headerObjects[name], required: must }]),
  );
}

/**
 * One problem answer per status, its `code` an enum of exactly the codes it can carry. A POST's
 * retry replays its stored answer: a success or one of its handler's refusals (`replayed`).
 */
function problemResponses(
  codes: ProblemCode[],
  replayed: ReadonlySet<number>,
): Record<string, JsonSchema> {
  const byStatus = new Map<number, ProblemCode[]>();
  for (const code of codes) {
    const { status } = problemCatalog[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([status, list]) => {
        const sorted = [...list].sort();
        const retry = status === 503 ? ['Retry-After' as const] : [];
        const headers = headersOf(
          undefined,
          [
            ...(status === 429 || status === 503 ? ['Retry-After' as const] : []),
            ...(replayed.has(status) ? ['Idempotent-Replayed' as const] : []),
          ],
          retry,
        );
        return [
          String(status),
          {
            description: sorted
              .map((code) => `\`${code}\`: ${problemCatalog[code].title}`)
              .join('; '),
            ...(headers ? { headers } : {}),
            content: {
              'application/problem+json': {
                schema: {
                  allOf: [
                    { $ref: componentRef('Problem') },
                    {
                      type: 'object',
                      properties: { code: { type: 'string', enum: sorted } },
                      required: ['code'],
                    },
                  ],
                },
              },
            },
          },
        ];
      }),
  );
}

/**
 * OpenAPI 3.1 of every HTTP function, generated from the same zod schemas that validate the
 * requests (zod v4 emits JSON Schema 2020-12, OpenAPI 3.1's own dialect).
 */
export function buildOpenApi(functions: HttpFunctionDefinition[], serverUrl: string): JsonSchema {
  const schemas = new SchemaSet();
  // First every schema is added to the set; once it resolves, the operations are assembled.
  const operations = functions.flatMap(({ spec }) =>
    spec.methods.map((method) => ({
      spec,
      method,
      params: spec.params ? schemas.add(spec.params, 'input') : null,
      query: spec.query ? schemas.add(spec.query, 'input') : null,
      body: spec.body ? schemas.add(spec.body, 'input') : null,
      answers: Object.fromEntries(
        Object.entries(spec.responses).map(([status, response]) => [
          status,
          response.schema ? schemas.add(response.schema, 'output') : null,
        ]),
      ),
    })),
  );
  const webhooks = eventWebhooks(schemas);
  const components = schemas.resolve();

  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const { spec, method, params, query, body, answers } of operations) {
    // A POST is kept for retries unless it is anonymous (a lookup changes nothing).
    const post = idempotentOperation(spec, method);
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      const contentType = response.contentType ?? 'application/json';
      const schema = answers[status];
      const headers = headersOf(
        response.headers,
        post && Number(status) < 300 ? ['Idempotent-Replayed'] : [],
      );
      responses[status] = {
        description: response.description,
        ...(headers ? { headers } : {}),
        ...(schema
          ? {
              content: {
                [contentType]: { schema },
                // The same answer as CSV, chosen with Accept: text/csv.
                ...(response.csv
                  ? { 'text/csv': { schema: { type: 'string', description: response.csv } } }
                  : {}),
              },
            }
          : contentType === 'application/json'
            ? {}
            : { content: { [contentType]: { schema: { type: 'string' } } } }),
      };
    }
    // What idempotency stores and replays: the handler's answers but a 429 or a 5xx.
    const replayed = new Set(
      post
        ? spec.errors.map((code) => problemCatalog[code].status).filter((s) => s < 500 && s !== 429)
        : [],
    );
    Object.assign(responses, problemResponses(operationCodes(spec, method), replayed));
    paths[`/api/${spec.route}`] ??= {};
    paths[`/api/${spec.route}`]![method.toLowerCase()] = {
      operationId: operationIdOf(spec, method),
      summary: spec.summary,
      tags: [...spec.tags],
      ...(spec.access.kind === 'anonymous' ? { security: [] } : {}),
      'x-access': spec.access,
      parameters: [
        ...(params ? parameters(params, 'path') : []),
        ...(query ? parameters(query, 'query') : []),
        ...(spec.ifMatch ? [ifMatchParameter] : []),
        ...(post ? idempotencyParameters : []),
      ],
      ...(body && spec.body
        ? {
            requestBody: {
              required: !spec.body.safeParse(undefined).success,
              content: { 'application/json': { schema: body } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Partner transition: direct bill to indirect reseller',
      version: '1.0.0',
      description:
        'Enrollment, the indirect reseller agreement, providers and their invitations, customers and incentives. Errors are RFC 9457 problem details with a stable `code`; each operation lists the codes it can answer, per status. Bodies and queries are closed: a field or parameter an operation does not define is 400 `validation-failed`.',
    },
    servers: [{ url: serverUrl }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: components,
    },
    paths,
    webhooks,
  };
}

/**
 * OpenAPI 3.1 `webhooks`: each event type, as POSTed to a subscriber's endpoint: the member of
 * the one `Event` union (also the pull feed's items) for its type.
 */
function eventWebhooks(schemas: SchemaSet): Record<string, JsonSchema> {
  // The union and each member are named: converting the union names them all.
  schemas.add(eventSchema, 'output');
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
              'application/json': { schema: schemas.add(eventSchemas[type], 'output') },
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

const ifMatchParameter: JsonSchema = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description:
    'The ETag (or etag field) the resource was read with: 412 precondition-failed when it changed since; 400 when it is not an etag',
  schema: { type: 'string' },
};

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
