import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { isPage, type HttpFunctionDefinition } from '../../shared/http/define';
import { startTestApp, type TestApp } from '../support/app';
import { validSample } from '../support/arbitraries';
import { pathFor } from '../support/attack';
import { createPartner } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newTenantId } from '../support/ids';

/**
 * Closed bodies and queries, as the Azure REST API guidelines ask (rest-fail-for-unknown-fields,
 * collections-error-on-unknown-parameter): a field or a query parameter the operation does not
 * define is 400 `validation-failed` naming it, never silently dropped. Tried on every route of
 * the function table, at every depth of a valid body generated from its own schema.
 */
let app: TestApp;
const tokens = new Map<string, string>();

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  tokens.set(
    'signed-in',
    await app.token({ tenant: newTenantId(), roles: ['GlobalAdmin', 'AdminAgent', 'SalesAgent'] }),
  );
  tokens.set('operator', await app.operatorToken());
});
afterAll(() => app?.close());

/** A caller the route's guard lets through: validation comes right after it. */
const tokenFor = (definition: HttpFunctionDefinition): string | null =>
  tokens.get(definition.access.kind) ?? null;

const rows = httpFunctions().flatMap((definition) =>
  definition.methods.map((method) => ({
    name: `${method} /api/${definition.route}`,
    definition,
    method,
  })),
);

/** A valid request for the route: its path, the query it needs, and a body when it takes one. */
function validRequest(definition: HttpFunctionDefinition): {
  path: string;
  query: Record<string, string>;
  body: unknown;
} {
  const { spec } = definition;
  const params = spec.params
    ? (validSample(spec.params, `${spec.name} params`) as Record<string, string>)
    : {};
  const path = pathFor(definition, (name) => String(params[name]));
  const query = spec.query
    ? Object.fromEntries(
        Object.entries(validSample(spec.query, `${spec.name} query`) as object).map(
          ([name, value]) => [name, String(value)],
        ),
      )
    : {};
  const body = spec.body ? validSample(spec.body, `${spec.name} body`) : undefined;
  return { path, query, body };
}

/** Each object inside a JSON value, by its path: the root, nested objects, array items. */
function objectPaths(value: unknown, at: string[] = []): string[][] {
  if (Array.isArray(value))
    return value.flatMap((item, index) => objectPaths(item, [...at, String(index)]));
  if (value === null || typeof value !== 'object') return [];
  return [at, ...Object.entries(value).flatMap(([key, item]) => objectPaths(item, [...at, key]))];
}

function withField(value: unknown, at: string[], name: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const key of at) target = target[key] as Record<string, unknown>;
  target[name] = 1;
  return copy;
}

const bodyRows = rows.filter(({ definition }) => definition.spec.body !== undefined);
const jsonRows = rows.filter(({ definition }) => !isPage(definition.spec));

describe('closed bodies: an unknown field at any depth', () => {
  it.each(bodyRows)(
    '$name answers 400 naming it, at each depth of its body',
    async ({ definition, method }) => {
      const { path, query, body } = validRequest(definition);
      const search = new URLSearchParams(query).toString();
      const depths = objectPaths(body);
      expect(depths.length, 'a body has at least its root object').toBeGreaterThan(0);
      for (const at of depths) {
        const response = await app.api(method, `${path}${search ? `?${search}` : ''}`, {
          token: tokenFor(definition),
          body: withField(body, at, 'zzNotAField'),
        });
        const field = ['body', ...at, 'zzNotAField'].join('.');
        expect({ field, status: response.status, code: response.body.code }).toEqual({
          field,
          status: 400,
          code: 'validation-failed',
        });
        expect(response.body.errors).toContainEqual({
          path: field,
          message: 'is not a field here',
        });
      }
    },
  );
});

describe('closed queries: an unknown parameter', () => {
  it.each(jsonRows)('$name answers 400 naming it', async ({ definition, method }) => {
    const { path, query, body } = validRequest(definition);
    const search = new URLSearchParams({ ...query, zzNotAParameter: '1' }).toString();
    const response = await app.api(method, `${path}?${search}`, {
      token: tokenFor(definition),
      ...(body === undefined ? {} : { body }),
    });
    expect(response.status, response.text).toBe(400);
    expect(response.body.code).toBe('validation-failed');
    expect(response.body.errors).toContainEqual({
      path: 'query.zzNotAParameter',
      message: 'is not a parameter of this route',
    });
  });

  it('leaves the pages emailed links open to tracking parameters an email client adds', async () => {
    const response = await app.api('GET', '/api/links/partner-invitations?utm_source=email');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
  });

  it('is declared in openapi.json: every request body object is additionalProperties: false', async () => {
    const document = (await app.api('GET', '/api/openapi.json')).body;
    const open: string[] = [];
    const visit = (schema: unknown, where: string): void => {
      if (Array.isArray(schema)) return schema.forEach((item, i) => visit(item, `${where}/${i}`));
      if (schema === null || typeof schema !== 'object') return;
      const node = schema as Record<string, unknown>;
      if (node.type === 'object' && node.additionalProperties !== false) open.push(where);
      for (const [key, value] of Object.entries(node)) visit(value, `${where}/${key}`);
    };
    for (const [path, item] of Object.entries(document.paths as Record<string, object>))
      for (const [method, operation] of Object.entries(item as Record<string, any>))
        visit(operation.requestBody?.content?.['application/json']?.schema, `${method} ${path}`);
    expect(open).toEqual([]);
  });
});

describe('a misspelt field', () => {
  it('is refused with the field it was probably meant to be, and nothing is stored', async () => {
    const { partnerId } = await createPartner(app, { companyName: 'Contoso' });
    const admin = await app.token({ tenant: partnerId, roles: ['GlobalAdmin'] });
    const profile = {
      companyName: 'Contoso',
      mpnId: '1234567',
      address: { line1: '1 rue de la Paix', city: 'Paris', postalCode: '75002', country: 'FR' },
      primaryContact: {
        firstName: 'Pat',
        lastName: 'Lee',
        email: 'pat@contoso.example',
        phone: '+33 1 23 45 67 89',
      },
      preferedLanguage: 'en',
    };
    const response = await app.api('PUT', '/api/me/profile', { token: admin, body: profile });
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      {
        path: 'body.preferedLanguage',
        message: 'is not a field here: did you mean preferredLanguage?',
      },
    ]);
    expect((await app.api('GET', '/api/me', { token: admin })).body.profile).toBeNull();
  });
});
