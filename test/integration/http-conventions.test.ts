import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { CosmosPartnerRepository } from '../../shared/adapters/cosmos/partner-repository';
import { scoped } from '../../shared/adapters/cosmos/operations';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { startTestApp, freePort, type TestApp } from '../support/app';
import { createPartner, globalAdminToken, masterRecord, profile } from '../support/builders';

let app: TestApp;
let partnerId: string;
let adminToken: string;
let record: ReturnType<typeof masterRecord>;

beforeAll(async () => {
  app = await startTestApp();
  ({ partnerId, record } = await createPartner(app));
  adminToken = await globalAdminToken(app, partnerId);
});
afterAll(() => app.close());

function expectProblem(
  response: { status: number; headers: Headers; body: any },
  status: number,
  code: string,
): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
  expect(response.body).toMatchObject({
    status,
    code,
    type: expect.stringContaining(code),
    title: expect.any(String),
    detail: expect.any(String),
  });
}

describe('request bodies', () => {
  it('answers malformed JSON with 400 validation-failed', async () => {
    const response = await app.api('PUT', '/api/me/profile', {
      token: adminToken,
      rawBody: '{"companyName": ',
      headers: { 'content-type': 'application/json' },
    });
    expectProblem(response, 400, 'validation-failed');
    expect(response.body.errors).toEqual([{ path: 'body', message: 'is not valid JSON' }]);
  });

  it('answers wrong types with 400 and one error per field, with its path', async () => {
    const response = await app.api('PUT', '/api/me/profile', {
      token: adminToken,
      body: {
        ...profile(record),
        companyName: 42,
        address: { ...profile(record).address, country: 'France' },
        primaryContact: null,
      },
    });
    expectProblem(response, 400, 'validation-failed');
    const paths = response.body.errors.map((error: { path: string }) => error.path);
    expect(paths).toEqual(
      expect.arrayContaining(['body.companyName', 'body.address.country', 'body.primaryContact']),
    );
  });

  it('answers a missing body with 400', async () => {
    const response = await app.api('PUT', '/api/me/profile', { token: adminToken });
    expectProblem(response, 400, 'validation-failed');
  });

  it('answers a body over 64 KiB with 413', async () => {
    const response = await app.api('PUT', '/api/me/profile', {
      token: adminToken,
      body: { ...profile(record), companyName: 'x'.repeat(70 * 1024) },
    });
    expectProblem(response, 413, 'payload-too-large');
  });

  it('refuses a body its Content-Length declares over 64 KiB with 413, without reading it', async () => {
    // The handler as the Functions worker calls it, with a request that records any read.
    const definition = httpFunctions().find(
      (candidate) => candidate.route === 'me/profile' && candidate.methods.includes('PUT'),
    )!;
    let read = false;
    const watched = new HttpRequest({
      method: 'PUT',
      url: `${app.url}/api/me/profile`,
      headers: {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        'content-length': String(10 * 1024 * 1024),
      },
      body: { string: JSON.stringify(profile(record)) },
    });
    for (const name of ['arrayBuffer', 'blob', 'formData', 'json', 'text'] as const) {
      const original = watched[name].bind(watched);
      Object.defineProperty(watched, name, {
        value: (): Promise<unknown> => {
          read = true;
          return original();
        },
      });
    }
    const result = await definition.handler(
      watched,
      new InvocationContext({ functionName: definition.name }),
      app.services,
    );
    expect(result.status).toBe(413);
    expect(JSON.parse(String(result.body))).toMatchObject({ code: 'payload-too-large' });
    expect(read).toBe(false);
  });

  it('answers a body that is not JSON with 415', async () => {
    const response = await app.api('PUT', '/api/me/profile', {
      token: adminToken,
      rawBody: 'companyName=Contoso',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(response, 415, 'unsupported-media-type');
  });

  it('refuses prototype-pollution keys as the unknown fields they are, and merges nothing', async () => {
    const before = (await app.api('GET', '/api/me', { token: adminToken })).body;
    const response = await app.api('PUT', '/api/me/profile', {
      token: adminToken,
      rawBody: JSON.stringify(profile(record)).replace(
        '{',
        '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},',
      ),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { path: 'body.__proto__', message: 'is not a field here' },
      { path: 'body.constructor', message: 'is not a field here' },
    ]);
    expect((await app.api('GET', '/api/me', { token: adminToken })).body).toEqual(before);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('routes', () => {
  it('answers an unknown route with 404 problem+json', async () => {
    expectProblem(await app.api('GET', '/api/nowhere'), 404, 'not-found');
  });

  it('answers a known route with the wrong method with 405 and Allow', async () => {
    const response = await app.api('DELETE', '/api/me');
    expectProblem(response, 405, 'method-not-allowed');
    expect(response.headers.get('allow')).toBe('GET');
  });

  it('sends no-sniff and no-store (on every answer: checked by the fuzz test)', async () => {
    const response = await app.api('GET', '/api/me', { token: adminToken });
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('GET /api/health', () => {
  it('answers anyone with words only, no adapter or timer named', async () => {
    const response = await app.api('GET', '/api/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', checks: { cosmos: 'ok', email: 'ok' } });
    // A token of a partner changes nothing: details are an operator's.
    const partner = await app.token({ tenant: crypto.randomUUID(), roles: ['GlobalAdmin'] });
    expect((await app.api('GET', '/api/health', { token: partner })).body).toEqual(response.body);
  });

  it("gives an operator's token the details: the email adapter, timers, outboxes", async () => {
    const response = await app.api('GET', '/api/health', { token: await app.operatorToken() });
    expect(response.body).toEqual({
      status: 'ok',
      checks: { cosmos: 'ok', email: 'ok' },
      details: { emailAdapter: 'file-outbox', timers: 'ok', outbox: 'ok', degraded: [] },
    });
  });
});

describe('failures on our side', () => {
  it('answers an unexpected error with 500 carrying the invocation id and nothing internal', async () => {
    const broken = await startTestApp({
      decorate: (services) => ({
        ...services,
        partners: {
          ...services.partners,
          get: async () => {
            throw new Error('SECRET connection string AccountKey=abc123 at internal.ts:42');
          },
        },
      }),
    });
    try {
      const token = await broken.token({ tenant: partnerId, roles: ['GlobalAdmin'] });
      const response = await broken.api('GET', '/api/me', { token });
      expectProblem(response, 500, 'internal-error');
      expect(response.text).not.toMatch(/SECRET|AccountKey|internal\.ts/);
      const logged = broken.logs.find((entry) => entry.level === 'error');
      expect(logged).toBeDefined();
      expect(response.body.detail).toContain(logged!.invocationId);
    } finally {
      await broken.close();
    }
  });

  it('answers 503 unavailable when Cosmos cannot be reached, and health says so', async () => {
    const deadEndpoint = `http://127.0.0.1:${await freePort()}`;
    const client = await createCosmosClient({ endpoint: deadEndpoint, key: undefined });
    const offline = await startTestApp({
      decorate: (services) => {
        const container = client.database(services.config.cosmos.database).container('partners');
        return {
          ...services,
          partners: new CosmosPartnerRepository(scoped(container, null), {
            auditTtlSeconds: 3600,
          }),
          pingCosmos: async () => {
            try {
              await client.database(services.config.cosmos.database).read();
              return true;
            } catch {
              return false;
            }
          },
        };
      },
    });
    try {
      const token = await offline.token({ tenant: partnerId, roles: ['GlobalAdmin'] });
      const me = await offline.api('GET', '/api/me', { token });
      expectProblem(me, 503, 'unavailable');
      expect(me.headers.get('retry-after')).toBe('5');
      const health = await offline.api('GET', '/api/health');
      expect(health.status).toBe(503);
      expect(health.body).toEqual({ status: 'down', checks: { cosmos: 'down', email: 'ok' } });
    } finally {
      await offline.close();
    }
  });
});

describe('GET /api/openapi.json', () => {
  it('describes every HTTP function of the table with its methods', async () => {
    const response = await app.api('GET', '/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    for (const definition of httpFunctions()) {
      const path = response.body.paths[`/api/${definition.route}`];
      expect(path, definition.route).toBeDefined();
      for (const method of definition.methods)
        expect(path[method.toLowerCase()], `${method} ${definition.route}`).toBeDefined();
    }
  });

  it('documents request bodies from the validating schemas', async () => {
    const response = await app.api('GET', '/api/openapi.json');
    const body =
      response.body.paths['/api/me/profile'].put.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(
      expect.arrayContaining(['companyName', 'mpnId', 'address', 'primaryContact']),
    );
    expect(body.properties.mpnId.pattern).toBe('^\\d{6,7}$');
  });
});
