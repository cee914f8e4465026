import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { httpFunctions } from '../../functions/table';
import { ok } from '../../shared/http/responses';
import { defineHttp } from '../../shared/http/define';
import { eventTypes } from '../../shared/domain/events';
import { buildOpenApi } from '../../shared/http/openapi';
import { startTestApp, type TestApp } from '../support/app';

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

  it('describes every event type under webhooks, with the data schema its events are built with', () => {
    expect(Object.keys(document.webhooks).sort()).toEqual([...eventTypes].sort());
    const submitted = document.webhooks['enrollment.submitted'].post;
    const payload = submitted.requestBody.content['application/json'].schema;
    expect(payload.properties.type).toEqual({ const: 'enrollment.submitted' });
    expect(payload.properties.data.properties.status.enum).toEqual([
      'pending-approval',
      'approved',
    ]);
    expect(submitted.parameters.map((p: { name: string }) => p.name)).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
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
      handle: async () => ok({}),
    });
    const built = buildOpenApi([optionalBody], 'http://127.0.0.1') as any;
    expect(built.paths['/api/optional-body'].post.requestBody.required).toBe(false);
    // The link's token travels in the body: accepting needs one.
    expect(document.paths['/api/customer-invitations/accept'].post.requestBody.required).toBe(true);
    expect(document.paths['/api/me/enrollment'].post.requestBody.required).toBe(true);
  });
});
