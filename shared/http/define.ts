import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import * as z from 'zod';
import type { Services } from '../app/services';
import { DomainError, validationFailed, type FieldError } from '../domain/errors';
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

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: 'application/json' | 'text/html' | 'text/javascript' | 'text/css';
  headers?: Record<string, string>;
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
  responses: Readonly<Record<number, ResponseSpec>>;
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
    try {
      const principal = await authenticate(request, spec.access, services);
      invocation.tenantId = principal?.tenantId ?? null;
      limit(request, spec, principal, services);
      const body = spec.body ? await readJsonBody(request) : undefined;
      const input = {
        params: parse(spec.params, request.params, 'params'),
        query: spec.query
          ? parse(spec.query, Object.fromEntries(request.query.entries()), 'query')
          : undefined,
        body: parse(spec.body, body, 'body'),
        principal,
        services,
        request,
        context,
        ifMatch: request.headers.get('if-match') ?? undefined,
      } as HandlerInput<P, Q, B, A>;
      const run = (): Promise<HttpResponseInit> => answer(spec, input, services, context);
      if (request.method.toUpperCase() !== 'POST') return await run();
      return await idempotent(
        {
          services,
          context,
          request,
          tenantId: principal?.tenantId ?? null,
          route: spec.route,
          input: { params: input.params, query: input.query, body: input.body },
        },
        run,
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
  if (
    access.kind === 'operator' &&
    !isOperator(principal, services.config.auth.operatorTenantId, access.roles)
  ) {
    throw new DomainError('forbidden', `Only an ${access.roles.join(' or an ')} may do this.`);
  }
  if (access.kind === 'signed-in' && access.roles && !hasAnyRole(principal, access.roles)) {
    const names = access.roles.map((role) =>
      role === 'GlobalAdmin' ? 'a global admin' : `an ${role}`,
    );
    throw new DomainError('forbidden', `Only ${names.join(' or ')} of the tenant may do this.`);
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
  const result = schema.safeParse(value, { error: plainMessage });
  if (result.success) return result.data as Infer<S>;
  throw validationFailed(zodErrors(result.error, location));
}

export function zodErrors(error: z.ZodError, location: string): FieldError[] {
  return error.issues.map((issue) => ({
    path: [location, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
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

/** Tests hold every answer to the schema the OpenAPI document promises. */
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
}

export { problem };
