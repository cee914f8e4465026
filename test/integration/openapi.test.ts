import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { httpFunctions } from '../../functions/table';
import { ok } from '../../shared/http/responses';
import { defineHttp } from '../../shared/http/define';
import { problemCatalog, type ProblemCode } from '../../shared/domain/errors';
import { eventTypes } from '../../shared/domain/events';
import { operationCodes } from '../../shared/http/define';
import { buildOpenApi } from '../../shared/http/openapi';
import { eventSchemaId } from '../../shared/http/schemas/events';
import { startTestApp, type TestApp } from '../support/app';
import { namedResources } from '../support/resources';

let app: TestApp;
let document: any;

beforeAll(async () => {
  app = await startTestApp();
  document = (await app.api('GET', '/api/openapi.json')).body;
});
afterAll(async () => {
  await app?.close();
});

describe('GET /api/openapi.json, checked by an OpenAPI 3.1 validator (@readme/openapi-parser)', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await validate(structuredClone(document));
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.specification).toBe('OpenAPI');
    expect(result.warnings).toEqual([]);
  });

  it('describes every event type under webhooks, each a member of the one Event union', () => {
    expect(Object.keys(document.webhooks).sort()).toEqual([...eventTypes].sort());
    const schemas = document.components.schemas;
    for (const type of eventTypes) {
      const post = document.webhooks[type].post;
      const id = eventSchemaId(type);
      expect(post.requestBody.content['application/json'].schema).toEqual({
        $ref: `#/components/schemas/${id}`,
      });
      expect(schemas[id].properties.type).toEqual({ type: 'string', const: type });
      expect(post.parameters.map((p: { name: string }) => p.name)).toEqual([
        'webhook-id',
        'webhook-timestamp',
        'webhook-signature',
      ]);
    }
    expect(schemas['EnrollmentSubmittedEvent'].properties.data.properties.status.enum).toEqual([
      'pending-approval',
      'approved',
    ]);
    // The union the feed lists, discriminated on `type`, of exactly those members.
    const union = schemas['Event'];
    expect(union.discriminator.propertyName).toBe('type');
    const members = (union.oneOf ?? union.anyOf).map((member: { $ref: string }) => member.$ref);
    expect(members.sort()).toEqual(
      eventTypes.map((type) => `#/components/schemas/${eventSchemaId(type)}`).sort(),
    );
    expect(Object.values(union.discriminator.mapping).sort()).toEqual(members.sort());
    expect(schemas['EventFeed'].properties.items.items).toEqual({
      $ref: '#/components/schemas/Event',
    });
    expect(
      document.paths['/api/me/events'].get.responses['200'].content['application/json'].schema,
    ).toEqual({
      $ref: '#/components/schemas/EventFeed',
    });
  });

  it('names every resource and view under components/schemas, $ref-ed wherever it appears', () => {
    const names = Object.keys(document.components.schemas);
    for (const name of namedResources) expect(names).toContain(name);
    // No copy of a named schema outside components: each is only ever a $ref.
    const named = new Map(
      Object.entries(document.components.schemas).map(([name, schema]) => [
        JSON.stringify(schema),
        name,
      ]),
    );
    const copies: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${where}/${i}`));
      if (node === null || typeof node !== 'object') return;
      const name = named.get(JSON.stringify(node));
      if (name) copies.push(`${where}: a copy of ${name}`);
      for (const [key, value] of Object.entries(node)) visit(value, `${where}/${key}`);
    };
    visit(document.paths, '#/paths');
    visit(document.webhooks, '#/webhooks');
    for (const [name, schema] of Object.entries(document.components.schemas))
      for (const [key, value] of Object.entries(schema as object))
        visit(value, `#/components/schemas/${name}/${key}`);
    expect(copies).toEqual([]);
    expect(
      document.paths['/api/me/transfers/{transferId}'].get.responses['200'].content[
        'application/json'
      ].schema,
    ).toEqual({ $ref: '#/components/schemas/Transfer' });
  });

  it('types every answer: no schema a client would read as unknown', () => {
    const untyped: string[] = [];
    const typed = ['type', '$ref', 'anyOf', 'oneOf', 'allOf', 'enum', 'const'];
    const visit = (node: unknown, where: string, isSchema: boolean): void => {
      if (Array.isArray(node))
        return node.forEach((item, i) => visit(item, `${where}/${i}`, isSchema));
      if (node === null || typeof node !== 'object') return;
      const schema = node as Record<string, unknown>;
      if (isSchema && !typed.some((key) => key in schema)) untyped.push(where);
      // An object that is not closed: but an allOf member only narrows a closed one (Problem).
      if (
        isSchema &&
        schema.type === 'object' &&
        schema.additionalProperties !== false &&
        !schema.propertyNames &&
        !/\/allOf\/\d+$/.test(where)
      )
        untyped.push(`${where} (open object)`);
      for (const [key, value] of Object.entries(schema)) {
        const child = isSchema
          ? ['items', 'additionalProperties', 'not'].includes(key) ||
            ['anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(key)
          : key === 'schema';
        if (isSchema && key === 'properties') {
          for (const [name, property] of Object.entries(value as object))
            visit(property, `${where}/properties/${name}`, true);
        } else if (typeof value === 'object' && value !== null && (child || !isSchema)) {
          visit(
            value,
            `${where}/${key}`,
            child && typeof value === 'object' && !Array.isArray(value) ? true : child,
          );
        }
      }
    };
    for (const [path, item] of Object.entries(document.paths as Record<string, any>))
      for (const [method, operation] of Object.entries(item as Record<string, any>))
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>))
          visit(response.content ?? {}, `${method} ${path} ${status}`, false);
    for (const [name, schema] of Object.entries(document.components.schemas))
      visit(schema, `#/components/schemas/${name}`, true);
    expect(untyped).toEqual([]);
  });

  it("lists each operation's error codes as an enum per status: its handler's and the framework's", () => {
    for (const { spec } of httpFunctions())
      for (const method of spec.methods) {
        const operation = document.paths[`/api/${spec.route}`][method.toLowerCase()];
        const listed = Object.entries(operation.responses as Record<string, any>)
          .filter(([, response]) => response.content?.['application/problem+json'])
          .flatMap(([status, response]) => {
            const [problem, narrowed] = response.content['application/problem+json'].schema.allOf;
            expect(problem).toEqual({ $ref: '#/components/schemas/Problem' });
            return narrowed.properties.code.enum.map((code: ProblemCode) => {
              expect(String(problemCatalog[code].status)).toBe(status);
              return code;
            });
          });
        expect({ operation: operation.operationId, codes: listed.sort() }).toEqual({
          operation: operation.operationId,
          codes: operationCodes(spec, method).sort(),
        });
      }
    const accept = document.paths['/api/me/transfers/{transferId}/accept'].post.responses;
    expect(
      accept['403'].content['application/problem+json'].schema.allOf[1].properties.code.enum,
    ).toEqual(['forbidden']);
    expect(
      accept['404'].content['application/problem+json'].schema.allOf[1].properties.code.enum,
    ).toEqual(['not-found']);
    // The Problem's own code is the catalogue: a misspelt code does not type-check.
    expect(document.components.schemas.Problem.properties.code.enum.sort()).toEqual(
      Object.keys(problemCatalog).sort(),
    );
  });

  it('declares the headers: ETag, Location, Retry-After, Idempotent-Replayed, If-Match, Idempotency-Key', () => {
    const me = document.paths['/api/me'].get.responses['200'];
    expect(me.headers.ETag).toMatchObject({ required: true, schema: { type: 'string' } });
    const created = document.paths['/api/me/customers/{customerId}/transfers'].post;
    expect(created.responses['201'].headers.Location).toMatchObject({ required: true });
    expect(created.responses['201'].headers['Idempotent-Replayed']).toMatchObject({
      required: false,
      schema: { enum: ['true'] },
    });
    expect(created.responses['429'].headers['Retry-After']).toMatchObject({
      schema: { type: 'integer', minimum: 1 },
    });
    expect(created.responses['503'].headers['Retry-After']).toMatchObject({ required: true });
    expect(
      created.parameters.map((p: { name: string; in: string }) => `${p.in} ${p.name}`),
    ).toEqual(['path customerId', 'header Idempotency-Key', 'header MS-RequestId']);
    const patch =
      document.paths['/api/me/customers/{customerId}/subscriptions/{subscriptionId}'].patch;
    expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('If-Match');
    expect(patch.responses['200'].headers.ETag).toMatchObject({ required: true });
    for (const { spec } of httpFunctions())
      for (const method of spec.methods) {
        const operation = document.paths[`/api/${spec.route}`][method.toLowerCase()];
        const names = operation.parameters.map((p: { name: string }) => p.name);
        expect(names.includes('If-Match'), `${method} ${spec.route}`).toBe(spec.ifMatch === true);
        // A link lookup is anonymous and changes nothing: no key is kept for it.
        expect(names.includes('Idempotency-Key'), `${method} ${spec.route}`).toBe(
          method === 'POST' && spec.access.kind !== 'anonymous',
        );
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>))
          if (
            (status === '429' || status === '503') &&
            response.content['application/problem+json']
          )
            expect(
              response.headers?.['Retry-After'],
              `${method} ${spec.route} ${status}`,
            ).toBeDefined();
      }
  });

  it('is refused by the same validator when broken, so the check above means something', async () => {
    const broken = structuredClone(document);
    broken.paths['/api/me'].get.responses['200'] = { content: {} };
    const result = await validate(broken);
    expect(result.valid).toBe(false);
  });

  it('lists 429 rate-limited on every signed-in route and every link lookup', () => {
    for (const { route, methods, access, spec } of httpFunctions())
      for (const method of methods) {
        const limited = access.kind !== 'anonymous' || spec.rateLimit === 'link-lookup';
        const operation = document.paths[`/api/${route}`][method.toLowerCase()];
        expect(
          { route: `${method} ${route}`, listed: '429' in operation.responses },
          'the rate limits answer 429',
        ).toEqual({ route: `${method} ${route}`, listed: limited });
      }
  });

  it('has every route of the function table, each method an operation with a unique id', () => {
    const ids = new Set<string>();
    for (const { route, methods } of httpFunctions())
      for (const method of methods) {
        const operation = document.paths[`/api/${route}`]?.[method.toLowerCase()];
        expect(operation, `${method} /api/${route}`).toBeDefined();
        expect(ids.has(operation.operationId), operation.operationId).toBe(false);
        ids.add(operation.operationId);
      }
  });

  it('marks a body optional only where the route accepts none', () => {
    const optionalBody = defineHttp({
      name: 'optionalBody',
      methods: ['POST'],
      route: 'optional-body',
      summary: 'A route whose body may be left out',
      tags: ['meta'],
      access: { kind: 'anonymous' },
      body: z.object({ note: z.string().optional() }).optional(),
      responses: { 200: { description: 'OK', schema: z.object({}) } },
      errors: [],
      handle: async () => ok({}),
    });
    const built = buildOpenApi([optionalBody], 'http://127.0.0.1') as any;
    expect(built.paths['/api/optional-body'].post.requestBody.required).toBe(false);
    // The link's token travels in the body: accepting needs one.
    expect(document.paths['/api/customer-invitations/accept'].post.requestBody.required).toBe(true);
    expect(document.paths['/api/me/enrollment'].post.requestBody.required).toBe(true);
  });
});
