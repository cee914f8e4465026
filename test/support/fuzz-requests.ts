import fc from 'fast-check';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import { hostileJson, hostileString, jsonSchemaOf, mutated, validArbitrary } from './arbitraries';
import { identities, type AttackFixture } from './attack';

/**
 * Generated requests for the fuzz suite (test/integration/fuzz.test.ts), built from a route's
 * definition: its path parameters, query and body schemas and its access.
 */
export interface FuzzTargets {
  fixture: AttackFixture;
  /** Partners a {partnerId} may name: writes through operator routes land on these. */
  partnerIds: string[];
}

export interface FuzzRequest {
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

function paramArbitrary(
  definition: HttpFunctionDefinition,
  name: string,
  targets: FuzzTargets,
): fc.Arbitrary<string> {
  const { fixture } = targets;
  const fixtureValue = name === 'partnerId' ? null : fixture.paramValue(definition, name);
  const valid =
    name === 'partnerId' ? fc.constantFrom(...targets.partnerIds) : fc.constant(fixtureValue!);
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

/** Requests for one route and method: mostly its own, sometimes another method on its path. */
export function requestArbitrary(
  definition: HttpFunctionDefinition,
  method: string,
  targets: FuzzTargets,
): fc.Arbitrary<FuzzRequest> {
  const { fixture } = targets;
  const names = [...definition.route.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)/g)].map(
    (match) => match[1]!,
  );
  const params = fc.tuple(...names.map((name) => paramArbitrary(definition, name, targets)));
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
