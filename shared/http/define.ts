import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as z from 'zod';
import type { Services } from '../app/services';
import {
  DomainError,
  problemCatalog,
  validationFailed,
  type FieldError,
  type ProblemCode,
} from '../domain/errors';
import {
  hasAnyRole,
  isOperator,
  type OperatorRole,
  type PartnerRole,
  type Principal,
} from '../domain/principal';
import { correlationIdOf, measured } from '../adapters/invocation-log';
import type { Invocation } from '../app/invocation';
import { deliverPromptly } from '../adapters/prompt-delivery';
import { clientAddress, takeToken } from '../app/request-limits';
import { idempotent } from './idempotency';
import { plainMessage } from './messages';
import { problem, problemFromError } from './problem';
import { htmlSecurityHeaders, securityHeaders, type HttpResult } from './responses';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route, checked before any input is read:
 * - anonymous: anyone (health, documentation, links in emails);
 * - signed-in: a valid token of any tenant, holding one of `roles` when given;
 * - operator: the operator tenant holding one of `roles` (each operator route names them:
 *   a reviewer only reads the queue and decides enrollments).
 */
export type Access =
  | { kind: 'anonymous' }
  | { kind: 'signed-in'; roles?: readonly PartnerRole[] }
  | { kind: 'operator'; roles: readonly [OperatorRole, ...OperatorRole[]] };

/** The review queue and its decisions. */
export const enrollmentReviewers = {
  kind: 'operator',
  roles: ['Operator', 'EnrollmentReviewer'],
} as const satisfies Access;

/** The largest body the app reads: past it, 413 `payload-too-large`. */
export const maxBodyBytes = 64 * 1024;

/**
 * FUNCTIONS_REQUEST_BODY_SIZE_LIMIT on the Function App (infra/modules/function-app.bicep sets
 * this value; test/unit/infra-compiled.test.ts holds them equal). The host reads a body whole
 * before the app runs, and answers an empty 500 when one is over its limit; so the limit sits
 * well above the app's: every body up to 4 MiB gets the app's 413 problem+json, while the host
 * never buffers more than 4 MiB for one request (its default, 100 MB, would let a few concurrent
 * requests fill an instance's memory). The local host mirrors both (shared/local/intake.ts).
 */
export const hostBodyLimitBytes = 4 * 1024 * 1024;

type Schema = z.ZodType | undefined;
type Infer<S extends Schema> = S extends z.ZodType ? z.output<S> : undefined;
type PrincipalFor<A extends Access> = A extends { kind: 'anonymous' }
  ? Principal | null
  : Principal;

/**
 * Response headers a route may send beside its body, declared in openapi.json. `always`: every
 * answer of that status carries it; `sometimes`: some do. (Retry-After on 429 and 503, and
 * Idempotent-Replayed on a POST's answers, are declared by the framework itself.)
 */
export type DeclaredHeader = 'ETag' | 'Location' | 'Content-Language';
export type HeaderPresence = 'always' | 'sometimes';

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: 'application/json' | 'text/html' | 'text/javascript' | 'text/css';
  headers?: Partial<Record<DeclaredHeader, HeaderPresence>>;
  /** The same answer as CSV, for `Accept: text/csv`: what its lines hold. */
  csv?: string;
}

export interface HandlerInput<
  P extends Schema,
  Q extends Schema,
  B extends Schema,
  A extends Access,
> {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  principal: PrincipalFor<A>;
  services: Services;
  request: HttpRequest;
  context: InvocationContext;
  /** The If-Match header, when the caller sent one. */
  ifMatch: string | undefined;
}

export interface HttpSpec<P extends Schema, Q extends Schema, B extends Schema, A extends Access> {
  name: string;
  methods: readonly [HttpMethod, ...HttpMethod[]];
  /** Route under /api, in the Functions route syntax: `me/customers/{customerId}`. */
  route: string;
  summary: string;
  tags: readonly string[];
  access: A;
  params?: P;
  query?: Q;
  body?: B;
  /** Documents that the route honours If-Match (412 when stale). */
  ifMatch?: boolean;
  /**
   * Anonymous lookups of an invitation link: limited per client address, so links cannot be
   * guessed at scale. (Every signed-in route is limited per tenant.)
   */
  rateLimit?: 'link-lookup';
  /** The answers that are not problems (2xx, a redirect, health's own 503). */
  responses: Readonly<Record<number, ResponseSpec>>;
  /**
   * The problem codes the handler itself can answer (its use cases' refusals). The framework
   * adds those of the request's shape (`frameworkCodes`): together they are the operation's
   * error answers in openapi.json, one enum per status. Tests hold every answer to this list,
   * and every code listed to an answer some test saw (test/contract).
   */
  errors: readonly ProblemCode[];
  handle(input: HandlerInput<P, Q, B, A>): Promise<HttpResult>;
}

export type HttpHandler = (
  request: HttpRequest,
  context: InvocationContext,
  services: Services,
) => Promise<HttpResponseInit>;

/** A row of the function table for an HTTP trigger. */
export interface HttpFunctionDefinition {
  kind: 'http';
  name: string;
  methods: readonly HttpMethod[];
  route: string;
  access: Access;
  spec: HttpSpec<Schema, Schema, Schema, Access>;
  handler: HttpHandler;
}

/** Declares an HTTP function: the guard, parsing, validation and error mapping come with it. */
export function defineHttp<
  P extends Schema = undefined,
  Q extends Schema = undefined,
  B extends Schema = undefined,
  A extends Access = Access,
>(spec: HttpSpec<P, Q, B, A>): HttpFunctionDefinition {
  const handler: HttpHandler = async (request, context, services) => {
    let invocation: Invocation | undefined;
    const result = await measured(
      context,
      services,
      services.config.cosmos.deadlineMs.http,
      (scoped, running) => {
        invocation = running;
        return handle(request, context, scoped, running);
      },
      {
        correlationId: correlationIdOf(request.headers),
        statusOf: (response) => response.status ?? 200,
      },
    );
    const written = invocation?.eventsWritten;
    if (written && services.config.webhooks.promptDelivery)
      deliverPromptly(services, context, written);
    return result;
  };
  const handle = async (
    request: HttpRequest,
    context: InvocationContext,
    services: Services,
    invocation: Invocation,
  ): Promise<HttpResponseInit> => {
    const response = await run(request, context, services, invocation);
    return services.checkResponses ? holdToContract(spec, request, response, services) : response;
  };
  const run = async (
    request: HttpRequest,
    context: InvocationContext,
    services: Services,
    invocation: Invocation,
  ): Promise<HttpResponseInit> => {
    try {
      const principal = await authenticate(request, spec.access, services);
      invocation.tenantId = principal?.tenantId ?? null;
      limit(request, spec, principal, services);
      const body = spec.body ? await readJsonBody(request) : undefined;
      const input = {
        params: parse(spec.params, request.params, 'params'),
        query: parseQuery(spec, request),
        body: parse(spec.body, body, 'body'),
        principal,
        services,
        request,
        context,
        ifMatch: spec.ifMatch ? ifMatchOf(request) : undefined,
      } as HandlerInput<P, Q, B, A>;
      const respond = (): Promise<HttpResponseInit> => answer(spec, input, services, context);
      // Anonymous routes (link lookups) change nothing, so an Idempotency-Key there is read
      // and ignored: an anonymous caller never makes the app write (docs/security.md).
      if (!idempotentOperation(spec, request.method)) return await respond();
      return await idempotent(
        {
          services,
          context,
          request,
          tenantId: principal?.tenantId ?? null,
          route: spec.route,
          input: { params: input.params, query: input.query, body: input.body },
        },
        respond,
      );
    } catch (error) {
      return problemFromError(error, context);
    }
  };
  return {
    kind: 'http',
    name: spec.name,
    methods: spec.methods,
    route: spec.route,
    access: spec.access,
    spec: spec as unknown as HttpSpec<Schema, Schema, Schema, Access>,
    handler,
  };
}

/** Runs the handler: its result, or its error as problem+json (an answer the caller may replay). */
async function answer<P extends Schema, Q extends Schema, B extends Schema, A extends Access>(
  spec: HttpSpec<P, Q, B, A>,
  input: HandlerInput<P, Q, B, A>,
  services: Services,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  try {
    const result = await spec.handle(input);
    if (services.checkResponses)
      checkResponse(spec as unknown as HttpSpec<Schema, Schema, Schema, Access>, result);
    return toResponse(result);
  } catch (error) {
    return problemFromError(error, context);
  }
}

async function authenticate(
  request: HttpRequest,
  access: Access,
  services: Services,
): Promise<Principal | null> {
  const header = request.headers.get('authorization');
  if (access.kind === 'anonymous' && header === null) return null;
  const match = header === null ? null : /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
  if (!match) {
    if (access.kind === 'anonymous') return null;
    throw new DomainError(
      'unauthenticated',
      'Send an access token: Authorization: Bearer <token>.',
    );
  }
  if (access.kind === 'anonymous') {
    // Anyone may call it: a token is read when good and otherwise ignored.
    return services.tokens.verify(match[1]!).catch(() => null);
  }
  const principal = await services.tokens.verify(match[1]!);
  const operatorTenant = services.config.auth.operatorTenantId;
  if (access.kind === 'operator' && !isOperator(principal, operatorTenant, access.roles)) {
    const who = `an ${access.roles.join(' or an ')}`;
    const held = access.roles.filter((role) => principal.roles.includes(role));
    // The role is right and the tenant is not: say so, rather than name a role the caller holds.
    throw new DomainError(
      'forbidden',
      held.length > 0 && principal.tenantId !== operatorTenant
        ? `Only ${who} of the operator tenant may do this. This token holds ${held.join(' and ')} in tenant ${principal.tenantId}, which is not the operator tenant: a role counts only in the tenant that gave it.`
        : `Only ${who} may do this.`,
    );
  }
  if (access.kind === 'signed-in' && access.roles && !hasAnyRole(principal, access.roles)) {
    const names = access.roles.map((role) =>
      role === 'GlobalAdmin' ? 'a global admin' : `an ${role}`,
    );
    const onlyPeople = principal.kind === 'app' && access.roles.every((r) => r === 'GlobalAdmin');
    throw new DomainError(
      'forbidden',
      `Only ${names.join(' or ')} of the tenant may do this.${
        onlyPeople
          ? ' An app-only token is never a global admin: a person signed in as global admin must do it.'
          : ''
      }`,
    );
  }
  return principal;
}

/** The request rate limits (429 `rate-limited` with Retry-After), before any input is read. */
function limit(
  request: HttpRequest,
  spec: { access: Access; rateLimit?: 'link-lookup' },
  principal: Principal | null,
  services: Services,
): void {
  if (spec.access.kind !== 'anonymous' && principal) {
    takeToken(services.limits.tenants, principal.tenantId, 'for this tenant');
  }
  if (spec.rateLimit === 'link-lookup') {
    const client = clientAddress(request.headers.get('x-forwarded-for'));
    takeToken(services.limits.linkLookups, client, 'looking up invitation links');
  }
}

const jsonContentType = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * The body as JSON: over 64 KiB is 413, not JSON is 415, unparseable is 400. A body sent without
 * Content-Length (chunked) is dropped by the Functions host before the app runs (it forwards a
 * body only when Content-Length is over 0), so an empty body that came chunked is 411: the caller
 * learns to send Content-Length instead of reading that a required field is missing.
 */
async function readJsonBody(request: HttpRequest): Promise<unknown> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBodyBytes) throw tooLarge();
  const bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBodyBytes) throw tooLarge();
  if (bytes.length === 0 && request.headers.has('transfer-encoding')) {
    throw new DomainError(
      'length-required',
      'Send the body with a Content-Length header: a body sent in chunks (Transfer-Encoding: chunked) does not reach the app. Buffer it first (in .NET, await content.LoadIntoBufferAsync() or a StringContent).',
    );
  }
  if (bytes.length === 0) return undefined;
  const contentType = request.headers.get('content-type') ?? '';
  if (!jsonContentType.test(contentType)) {
    throw new DomainError('unsupported-media-type', 'Send the body as application/json.');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validationFailed([{ path: 'body', message: 'is not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw validationFailed([{ path: 'body', message: 'is not valid JSON' }]);
  }
}

const tooLarge = (): DomainError =>
  new DomainError('payload-too-large', `The body must not exceed ${maxBodyBytes / 1024} KiB.`);

function parse<S extends Schema>(schema: S, value: unknown, location: string): Infer<S> {
  if (schema === undefined) return undefined as Infer<S>;
  // The fields an object accepts, by path, for the "did you mean" of an unknown one.
  const accepted = new Map<string, string[]>();
  const result = schema.safeParse(value, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def
          ?.shape;
        accepted.set((issue.path ?? []).map(String).join('.'), Object.keys(shape ?? {}));
      }
      return plainMessage(issue);
    },
  });
  if (result.success) return result.data as Infer<S>;
  throw validationFailed(zodErrors(result.error, location, accepted));
}

/**
 * The query, closed as the Azure REST API guidelines say (collections-error-on-unknown-parameter):
 * a parameter the route does not define is 400, not ignored. Pages (HTML, scripts) ignore their
 * query: an email client may add tracking parameters to a link.
 */
function parseQuery(spec: HttpSpec<Schema, Schema, Schema, Access>, request: HttpRequest): unknown {
  const query = Object.fromEntries(request.query.entries());
  if (spec.query) return parse(spec.query, query, 'query');
  const unknown = Object.keys(query);
  if (unknown.length > 0 && !isPage(spec)) {
    throw validationFailed(
      unknown.map((name) => ({
        path: `query.${name}`,
        message: 'is not a parameter of this route',
      })),
    );
  }
  return undefined;
}

/** A route answering HTML or a script rather than JSON: a page, not an API operation. */
export function isPage(spec: { responses: Readonly<Record<number, ResponseSpec>> }): boolean {
  return Object.values(spec.responses).some(
    (response) => response.contentType !== undefined && response.contentType !== 'application/json',
  );
}

/**
 * RFC 9110 If-Match: `*`, or entity tags (`"..."`, `W/"..."`), comma-separated. The bare value
 * of a document's `etag` field is taken too. Anything else is a client's mistake, 400: not the
 * 412 of a stale one, which would send it to read the document again for nothing.
 */
const entityTag = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$|^[\w.:~-]+$/;

function ifMatchOf(request: HttpRequest): string | undefined {
  const header = request.headers.get('if-match');
  if (header === null) return undefined;
  const tags = header.split(',').map((tag) => tag.trim());
  if (header.trim() === '*' || (tags.length > 0 && tags.every((tag) => entityTag.test(tag))))
    return header.trim();
  throw validationFailed(
    [{ path: 'headers.If-Match', message: 'must be an etag as the resource gave it, or *' }],
    'If-Match is not an etag: send the ETag header (or the etag field) of the resource as it came.',
  );
}

export function zodErrors(
  error: z.ZodError,
  location: string,
  accepted: ReadonlyMap<string, string[]> = new Map(),
): FieldError[] {
  return error.issues.flatMap((issue) => {
    const at = issue.path.map(String);
    const path = [location, ...at].join('.');
    // One error per unknown field, at its own path (rest-fail-for-unknown-fields).
    if (issue.code === 'unrecognized_keys') {
      const known = accepted.get(at.join('.')) ?? [];
      return issue.keys.map((key) => ({
        path: `${path}.${key}`,
        message: unknownFieldMessage(location, key, known),
      }));
    }
    return [{ path, message: issue.message }];
  });
}

function unknownFieldMessage(location: string, key: string, known: string[]): string {
  const what = location === 'query' ? 'is not a parameter of this route' : 'is not a field here';
  const near = known.find((name) => editDistance(name.toLowerCase(), key.toLowerCase()) <= 2);
  return near ? `${what}: did you mean ${near}?` : what;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1)
      next[j] = Math.min(
        next[j - 1]! + 1,
        row[j]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length]!;
}

function toResponse(result: HttpResult): HttpResponseInit {
  if ('json' in result) {
    return {
      status: result.status,
      headers: {
        ...securityHeaders,
        'Content-Type': 'application/json; charset=utf-8',
        ...result.headers,
      },
      body: JSON.stringify(result.json),
    };
  }
  if ('html' in result) {
    return {
      status: result.status,
      headers: {
        ...htmlSecurityHeaders,
        'Content-Type': 'text/html; charset=utf-8',
        ...result.headers,
      },
      body: result.html,
    };
  }
  if ('text' in result) {
    return {
      status: result.status,
      headers: { ...securityHeaders, ...result.headers },
      body: result.text,
    };
  }
  return { status: result.status, headers: { ...securityHeaders, ...result.headers } };
}

/** Tests hold every answer to the schema and headers the OpenAPI document promises. */
function checkResponse(spec: HttpSpec<Schema, Schema, Schema, Access>, result: HttpResult): void {
  const declared = spec.responses[result.status];
  if (!declared)
    throw new Error(`${spec.name} answered ${result.status}, which it does not declare`);
  if (declared.schema && 'json' in result) {
    const checked = declared.schema.safeParse(result.json);
    if (!checked.success) {
      throw new Error(
        `${spec.name} answered a ${result.status} that breaks its schema: ${checked.error.message}`,
      );
    }
  }
  const sent = new Set(Object.keys(result.headers ?? {}));
  for (const header of declarableHeaders) {
    const presence = declared.headers?.[header];
    if (sent.has(header) && !presence)
      throw new Error(
        `${spec.name} sent ${header} on a ${result.status}, which it does not declare`,
      );
    if (presence === 'always' && !sent.has(header))
      throw new Error(`${spec.name} declares ${header} on every ${result.status} and sent none`);
  }
}

const declarableHeaders: readonly DeclaredHeader[] = ['ETag', 'Location'];

/** The operation's id in openapi.json: the function's name, with the method when it has several. */
export function operationIdOf(
  spec: { name: string; methods: readonly HttpMethod[] },
  method: string,
): string {
  const verb = method.toUpperCase();
  return spec.methods.length > 1
    ? `${spec.name}${verb[0]}${verb.slice(1).toLowerCase()}`
    : spec.name;
}

/**
 * The problem codes the framework itself answers for a route of this shape, whatever its
 * handler does: each comes from one step of `defineHttp` (or the idempotency of a POST).
 */
export function frameworkCodes(
  spec: Pick<
    HttpSpec<Schema, Schema, Schema, Access>,
    'access' | 'params' | 'query' | 'body' | 'ifMatch' | 'rateLimit' | 'responses'
  >,
  method: string,
): ProblemCode[] {
  const codes = new Set<ProblemCode>(['internal-error']);
  const post = method.toUpperCase() === 'POST';
  const signedIn = spec.access.kind !== 'anonymous';
  // Inputs to validate: a closed query on every JSON route, and the headers of POST and If-Match.
  if (!isPage(spec) || spec.params || spec.query || spec.body || post || spec.ifMatch)
    codes.add('validation-failed');
  if (signedIn) codes.add('unauthenticated');
  if (spec.access.kind === 'operator' || (spec.access.kind === 'signed-in' && spec.access.roles))
    codes.add('forbidden');
  // The request limits, and a dependency down, on every route that reads Cosmos.
  if (signedIn || spec.rateLimit === 'link-lookup') {
    codes.add('rate-limited');
    codes.add('unavailable');
  }
  if (spec.body) {
    codes.add('length-required');
    codes.add('payload-too-large');
    codes.add('unsupported-media-type');
  }
  if (idempotentOperation(spec, method)) {
    codes.add('idempotency-key-reused');
    codes.add('conflict');
  }
  return [...codes];
}

/**
 * A POST is kept for its retries (Idempotency-Key), but an anonymous one: the link lookups
 * change nothing, and an anonymous caller never makes the app write (docs/security.md).
 */
export function idempotentOperation(
  spec: Pick<HttpSpec<Schema, Schema, Schema, Access>, 'access'>,
  method: string,
): boolean {
  return method.toUpperCase() === 'POST' && spec.access.kind !== 'anonymous';
}

/** Every code an operation may answer: its handler's and the framework's. */
export function operationCodes(
  spec: HttpSpec<Schema, Schema, Schema, Access>,
  method: string,
): ProblemCode[] {
  return [...new Set([...frameworkCodes(spec, method), ...spec.errors])];
}

/**
 * Tests only (`checkResponses`): a problem answer must carry a code its operation declares,
 * with Retry-After when it is 429 or 503; a code declared but never answered is found by
 * test/contract. A breach becomes a 500 that names it, which fails the test that caused it.
 */
function holdToContract(
  spec: HttpSpec<Schema, Schema, Schema, Access>,
  request: HttpRequest,
  response: HttpResponseInit,
  services: Services,
): HttpResponseInit {
  const headers = new Headers(response.headers as Record<string, string> | undefined);
  if (!(headers.get('content-type') ?? '').startsWith('application/problem+json')) return response;
  const { code } = JSON.parse(String(response.body)) as { code: ProblemCode };
  const operationId = operationIdOf(spec, request.method);
  services.recordProblem?.(operationId, code);
  const breach = !operationCodes(spec, request.method).includes(code)
    ? `answered ${code}, which it does not declare: add it to its errors`
    : response.status === 503 && !headers.has('retry-after')
      ? 'answered 503 without Retry-After'
      : problemCatalog[code].status !== response.status
        ? `answered ${code} with status ${response.status}`
        : null;
  if (breach === null) return response;
  return problem('internal-error', `Contract breach: ${operationId} ${breach}.`);
}

export { problem };
