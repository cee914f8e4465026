import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { problemCatalog } from '../../shared/domain/errors';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import { startTestApp, type ApiResponse, type TestApp } from '../support/app';
import {
  hostileJson,
  hostileString,
  mutated,
  validArbitrary,
  jsonSchemaOf,
} from '../support/arbitraries';
import { buildAttackFixture, identities, type AttackFixture } from '../support/attack';
import { createPartner } from '../support/builders';
import { ManualClock } from '../support/clock';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';

/**
 * Fuzzing every route of the function table (issue 9): valid-looking requests generated from
 * each route's own zod schemas, mixed with hostile ones (wrong types, huge and strange strings,
 * prototype-pollution keys, duplicate JSON keys, deep nesting, bad UTF-8, wrong content types,
 * traversal and injection in path and query, malformed headers). Every answer must be a 2xx, a
 * 302 from a link, or a 4xx problem+json with a catalogued code (link pages: HTML 404/410);
 * never a 5xx. A refused request, and any GET, must leave the database exactly as it was.
 *
 * The app reaches Cosmos through a proxy that sees every request: when a request caused no
 * write to the partner or customer containers, nothing there can have changed; when it did,
 * both containers are read again (each document's id and etag) and compared with the state
 * before it. Each route's run ends with a full read compared with that running state.
 */
const totalRuns = 10_000;
const seed = 20_261_124;

const rows = httpFunctions().flatMap((definition) =>
  definition.methods.map((method) => ({
    name: `${method} /api/${definition.route}`,
    definition,
    method,
  })),
);
const runsPerRow = Math.ceil(totalRuns / rows.length);

let proxy: CosmosProxy;
let app: TestApp;
let fixture: AttackFixture;
let sacrificialPartnerId: string;
let sent = 0;

beforeAll(async () => {
  proxy = await startCosmosProxy(inject('cosmosEndpoint'));
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    env: { COSMOS_ENDPOINT: proxy.url },
  });
  fixture = await buildAttackFixture(app);
  ({ partnerId: sacrificialPartnerId } = await createPartner(app, { companyName: 'Sacrificial' }));
  snapshot = await takeSnapshot();
});
afterAll(async () => {
  await app.close();
  await proxy.close();
});

/** What the partner and customer containers hold: every document's id and etag. */
let snapshot: Map<string, string>;

async function takeSnapshot(): Promise<Map<string, string>> {
  const [partners, customers] = await Promise.all([
    app.query('partners', 'SELECT c.id, c.partnerId AS partition, c._etag FROM c'),
    app.query('customers', 'SELECT c.id, c.customerId AS partition, c._etag FROM c'),
  ]);
  return new Map([
    ...partners.map((d): [string, string] => [`partners/${d.partition}/${d.id}`, d._etag]),
    ...customers.map((d): [string, string] => [`customers/${d.partition}/${d.id}`, d._etag]),
  ]);
}

/** Whether the last request wrote, or tried to write, a partner or customer document. */
const wroteData = (): boolean =>
  proxy.seen.some(
    (request) => request.kind === 'write' && /\/colls\/(partners|customers)\//.test(request.path),
  );

function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [key, etag] of after) if (before.get(key) !== etag) changed.push(key);
  for (const key of before.keys()) if (!after.has(key)) changed.push(`${key} (deleted)`);
  return changed;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  who: string;
}

const contentTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/problem+json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/jsonx',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      '',
    ),
  },
);

/** Header values an HTTP client can send: printable ASCII and Latin-1, nothing that breaks a line. */
const headerValue = fc
  .oneof(
    fc.uuid(),
    fc.constantFrom(
      '',
      'a b',
      'x'.repeat(201),
      'x'.repeat(4000),
      '\u00e9t\u00e9',
      '"etag"',
      '*',
      'W/"1"',
    ),
    fc.string({
      unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)),
      maxLength: 60,
    }),
  )
  // What fetch refuses to send never reaches a server either.
  .filter(
    (value) =>
      value === value.trim() &&
      ![...value].some((char) => char.charCodeAt(0) >= 0x7f && char.charCodeAt(0) <= 0x9f),
  );

const pollutedJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    /^\{/,
    '{"__proto__":{"isAdmin":true,"roles":["Operator"]},"constructor":{"prototype":{"polluted":1}},',
  );

/** The last key wins in JSON.parse: a hostile value hidden behind a valid one, and the reverse. */
const duplicateKeys = (value: unknown, hostile: unknown): string => {
  const text = JSON.stringify(value);
  const match = /^\{"([^"]+)":/.exec(text);
  if (!match) return text;
  return `{"${match[1]}":${JSON.stringify(hostile) ?? 'null'},${text.slice(1)}`.replace(
    /\}$/,
    `,"${match[1]}":${JSON.stringify(hostile) ?? 'null'}}`,
  );
};

function bodyArbitrary(
  definition: HttpFunctionDefinition,
): fc.Arbitrary<string | Buffer | undefined> {
  const valid = definition.spec.body ? validArbitrary(definition.spec.body) : hostileJson;
  return fc.oneof(
    { weight: 6, arbitrary: valid.map((value) => JSON.stringify(value)) },
    { weight: 4, arbitrary: mutated(valid).map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 2, arbitrary: hostileJson.map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 1, arbitrary: valid.map(pollutedJson) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(valid, hostileJson)
        .map(([value, hostile]) => duplicateKeys(value, hostile)),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `{"companyName":"${'x'.repeat(70 * 1024)}"}`,
        `{"companyName":"${'é'.repeat(30 * 1024)}"}`,
        `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
        `${'{"a":'.repeat(6000)}1${'}'.repeat(6000)}`,
        '{"mpnId": 1234567, "email": ["a@b.example"]}',
        '{',
        'null',
        '[]',
        '"just a string"',
        '\u0000',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constant(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

/** A lone surrogate cannot be percent-encoded: it travels as the replacement character. */
const encode = (value: string): string =>
  encodeURIComponent(
    value.replace(/[\ud800-\udfff]/g, (char, index: number, whole: string) => {
      const code = char.charCodeAt(0);
      const pairedAfter = code < 0xdc00 && /[\udc00-\udfff]/.test(whole[index + 1] ?? '');
      const pairedBefore = code >= 0xdc00 && /[\ud800-\udbff]/.test(whole[index - 1] ?? '');
      return pairedAfter || pairedBefore ? char : '\ufffd';
    }),
  );

function paramArbitrary(definition: HttpFunctionDefinition, name: string): fc.Arbitrary<string> {
  const fixtureValue = name === 'partnerId' ? null : fixture.paramValue(definition, name);
  const valid =
    name === 'partnerId'
      ? fc.constantFrom(
          sacrificialPartnerId,
          sacrificialPartnerId,
          fixture.partnerA.partnerId,
          fixture.partnerB.partnerId,
        )
      : fc.constant(fixtureValue!);
  return fc.oneof(
    { weight: 6, arbitrary: valid.map(encode) },
    { weight: 1, arbitrary: valid.map((value) => encode(value.toUpperCase())) },
    { weight: 2, arbitrary: fc.uuid().map(encode) },
    { weight: 3, arbitrary: hostileString.map(encode) },
    // Sent as written: traversal and encodings the router itself has to survive.
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '..%2F..%2Fadmin',
        '%2e%2e',
        '%2e%2e%2f%2e%2e%2foperator%2fpartners',
        '..',
        '.',
        '%00',
        '%',
        '%zz',
        '%C0%AE%C0%AE',
        '%ED%A0%80',
        '%252e%252e',
        'a%2Fb',
        '..;',
        '*',
        "'%20OR%201=1--",
      ),
    },
  );
}

function queryArbitrary(definition: HttpFunctionDefinition): fc.Arbitrary<string> {
  const schema = definition.spec.query;
  const valid = schema
    ? validArbitrary(schema).map((value) =>
        new URLSearchParams(
          Object.entries(value as Record<string, unknown>).map(([key, item]): [string, string] => [
            key,
            String(item),
          ]),
        ).toString(),
      )
    : fc.constant('');
  const names = schema
    ? Object.keys((jsonSchemaOf(schema).properties ?? {}) as object)
    : ['pageSize', 'continuationToken'];
  const hostile = fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(...names, '__proto__', 'constructor[prototype]', '__proto__[x]'),
          fc.string(),
        ),
        fc.oneof(
          hostileString,
          fc.constantFrom(
            '0',
            '-1',
            '101',
            '1.5',
            '1e3',
            'NaN',
            'true',
            'eyJ0b2tlbiI6MX0',
            'e30',
            'bm90IGpzb24',
          ),
        ),
      ),
      { maxLength: 4 },
    )
    .map((pairs) => new URLSearchParams(pairs).toString());
  return fc
    .oneof(
      { weight: 3, arbitrary: valid },
      { weight: 2, arbitrary: hostile },
      { weight: 1, arbitrary: fc.constant('') },
    )
    .map((query) => (query ? `?${query}` : ''));
}

const otherMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

function requestArbitrary(
  definition: HttpFunctionDefinition,
  method: string,
): fc.Arbitrary<FuzzRequest> {
  const names = [...definition.route.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)/g)].map(
    (match) => match[1]!,
  );
  const params = fc.tuple(...names.map((name) => paramArbitrary(definition, name)));
  const identity = fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom<string>(...identities) },
    {
      weight: 6,
      arbitrary: fc.constant<string>(
        definition.access.kind === 'operator' ? 'Operator' : 'GlobalAdmin',
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom('garbage token', 'two tokens') },
  );
  const idempotencyKey = fc.option(
    fc.oneof(fc.constantFrom('key-1', 'key-2', 'key-3'), fc.uuid(), headerValue),
    { freq: 3 },
  );
  return fc
    .record({
      method: fc.oneof(
        { weight: 12, arbitrary: fc.constant(method) },
        { weight: 1, arbitrary: fc.constantFrom(...otherMethods) },
      ),
      params,
      query: queryArbitrary(definition),
      identity,
      body: bodyArbitrary(definition),
      contentType: contentTypes,
      idempotencyKey,
      requestIdInstead: fc.boolean(),
      ifMatch: fc.option(headerValue, { freq: 6 }),
    })
    .map((draft) => {
      let index = 0;
      const path = `/api/${definition.route.replace(/\{[^}]+\}/g, () => draft.params[index++]!)}${draft.query}`;
      const headers: Record<string, string> = {};
      const token = fixture.tokens[draft.identity as keyof AttackFixture['tokens']];
      if (token) headers.authorization = `Bearer ${token}`;
      if (draft.identity === 'garbage token')
        headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.e30.';
      if (draft.identity === 'two tokens')
        headers.authorization = `Bearer ${fixture.tokens.Operator} ${fixture.tokens.GlobalAdmin}`;
      if (draft.idempotencyKey !== null)
        headers[draft.requestIdInstead ? 'ms-requestid' : 'idempotency-key'] = draft.idempotencyKey;
      if (draft.ifMatch !== null) headers['if-match'] = draft.ifMatch;
      const hasBody = draft.method !== 'GET' && draft.body !== undefined;
      if (hasBody && draft.contentType) headers['content-type'] = draft.contentType;
      return {
        method: draft.method,
        path,
        headers,
        ...(hasBody ? { body: draft.body } : {}),
        who: draft.identity,
      };
    });
}

const isLink = (path: string): boolean => path.startsWith('/api/links/');

/** The property every answer holds; null when it does, else why not. */
function brokenBy(request: FuzzRequest, response: ApiResponse): string | null {
  const { status } = response;
  const type = response.headers.get('content-type') ?? '';
  if (status >= 500) return `answered ${status}: ${response.text.slice(0, 300)}`;
  if (response.headers.get('x-content-type-options') !== 'nosniff') return 'no nosniff';
  if (/\n\s+at /.test(response.text)) return 'a stack trace in the answer';
  if (status >= 300 && status < 400) {
    return status === 302 && isLink(request.path) ? null : `answered ${status}`;
  }
  if (type.startsWith('text/html')) {
    const csp = response.headers.get('content-security-policy') ?? '';
    if (!csp.includes("frame-ancestors 'none'") || !csp.includes("default-src 'none'"))
      return 'an HTML page without the strict CSP';
    if (status >= 400 && !(isLink(request.path) && (status === 404 || status === 410)))
      return `an HTML ${status} outside the link pages`;
    return null;
  }
  if (status < 400) return null;
  if (!type.startsWith('application/problem+json')) return `a ${status} that is not problem+json`;
  const code = response.body?.code as keyof typeof problemCatalog | undefined;
  if (!code || !(code in problemCatalog)) return `a ${status} with an uncatalogued code ${code}`;
  if (problemCatalog[code].status !== status || response.body.status !== status)
    return `code ${code} with status ${status}`;
  return null;
}

const statusesSeen = new Set<number>();

async function send(request: FuzzRequest): Promise<ApiResponse> {
  sent += 1;
  const response = await app.api(request.method, request.path, {
    headers: request.headers,
    ...(request.body === undefined ? {} : { rawBody: request.body }),
  });
  statusesSeen.add(response.status);
  return response;
}

const describeRequest = (request: FuzzRequest): string =>
  JSON.stringify({ ...request, body: String(request.body ?? '').slice(0, 300) });

describe(`fuzzing every route (${runsPerRow} requests each, seed ${seed})`, () => {
  it.each(rows)('$name', async ({ definition, method }) => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(definition, method), async (request) => {
        proxy.seen.length = 0;
        const response = await send(request);
        const broken = brokenBy(request, response);
        if (broken) throw new Error(`${broken}\nrequest: ${describeRequest(request)}`);
        if (!wroteData()) return;
        const after = await takeSnapshot();
        if (response.status >= 400 || request.method === 'GET') {
          const changed = changes(snapshot, after);
          if (changed.length > 0) {
            throw new Error(
              `a ${request.method} answered ${response.status} changed ${changed.join(', ')}\nrequest: ${describeRequest(request)}`,
            );
          }
        }
        snapshot = after;
      }),
      {
        seed: seed + rows.findIndex((row) => row.definition === definition),
        numRuns: runsPerRow,
        endOnFailure: true,
      },
    );
    // The proxy saw every write: the state kept from them is the database's.
    expect(changes(snapshot, await takeSnapshot())).toEqual([]);
  });

  it(`sent at least ${totalRuns} requests, reaching past every kind of refusal`, () => {
    expect(sent).toBeGreaterThanOrEqual(totalRuns);
    // Not vacuous: requests succeeded, and each layer refused some (auth, router, body, rules).
    for (const status of [200, 201, 400, 401, 403, 404, 405, 409, 412, 413, 415])
      expect(statusesSeen, `status ${status}`).toContain(status);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
