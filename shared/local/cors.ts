/**
 * CORS as the platform applies it on Flex Consumption, its one owner here. Infra sets the site's
 * CORS from CORS_ORIGINS (infra/modules/function-app.bicep siteConfig.cors); the Functions host
 * reads it as CORS_ALLOWED_ORIGINS (azure-functions-host
 * src/WebJobs.Script.WebHost/Configuration/HostCorsOptionsSetup.cs:21-34) and, on every Linux
 * consumption SKU, Flex included, always runs ASP.NET Core's CorsMiddleware before any function
 * (WebScriptHostBuilderExtension.cs:130-136, Middleware/JobHostCorsMiddleware.cs,
 * Middleware/CorsMiddlewareFactory.cs:23-30) with the policy of Configuration/CorsOptionsSetup.cs:22-39:
 * those origins, any header, any method, no credentials, no max age. So a preflight never
 * reaches the app, and the app cannot own CORS on Flex: it only names, in host.json's
 * customHeaders, what browsers may read (Access-Control-Expose-Headers) and how long they may
 * keep a preflight (Access-Control-Max-Age).
 *
 * The algorithm is dotnet/aspnetcore src/Middleware/CORS/src/Infrastructure: CorsMiddleware
 * (EvaluateAndApplyPolicy: a preflight is always answered 204, allowed or not), CorsService
 * (PopulateResult, ApplyResult) and CorsPolicyBuilder (WithOrigins lower-cases each origin).
 */
export interface CorsPolicy {
  /** The allowed origins, lower-cased as CorsPolicyBuilder.GetNormalizedOrigin stores them. */
  origins: readonly string[];
}

export function corsPolicy(origins: readonly string[]): CorsPolicy {
  return { origins: origins.map((origin) => origin.toLowerCase()) };
}

/** CorsPolicy.AllowAnyOrigin: `*` is any origin only when it is the one entry. */
const anyOrigin = (policy: CorsPolicy): boolean =>
  policy.origins.length === 1 && policy.origins[0] === '*';

/** CorsService.IsOriginAllowed: an exact, ordinal match of the Origin header. */
function allowedOrigin(policy: CorsPolicy, origin: string | undefined): string | null {
  if (!origin) return null;
  if (anyOrigin(policy)) return '*';
  return policy.origins.includes(origin) ? origin : null;
}

/** PopulateResult: `Vary: Origin` only when the answer depends on which of several origins asked. */
const varies = (policy: CorsPolicy): boolean => !anyOrigin(policy) && policy.origins.length > 1;

export type RequestHeaders = Record<string, string>;

/** A preflight: OPTIONS with Access-Control-Request-Method (CorsService.EvaluatePolicy). */
export function isPreflight(method: string, headers: RequestHeaders): boolean {
  return (
    headers.origin !== undefined &&
    method === 'OPTIONS' &&
    headers['access-control-request-method'] !== undefined
  );
}

/**
 * The answer to a preflight: 204 and no body, whatever the origin (CorsMiddleware always
 * answers a preflight once a policy exists). An allowed origin also gets the method and headers
 * it asked for, echoed (AllowAnyMethod, AllowAnyHeader); any other gets no CORS header at all,
 * so the browser refuses the request.
 */
export function preflightHeaders(
  policy: CorsPolicy,
  headers: RequestHeaders,
): Record<string, string> {
  const granted = allowedOrigin(policy, headers.origin);
  if (granted === null) return {};
  const answer: Record<string, string> = { 'Access-Control-Allow-Origin': granted };
  const requestedHeaders = (headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (requestedHeaders.length > 0)
    answer['Access-Control-Allow-Headers'] = requestedHeaders.join(',');
  const requestedMethod = headers['access-control-request-method'];
  if (requestedMethod) answer['Access-Control-Allow-Methods'] = requestedMethod;
  if (varies(policy)) answer.Vary = 'Origin';
  return answer;
}

/** What the middleware adds to any other answer to a request with an allowed Origin. */
export function responseCorsHeaders(
  policy: CorsPolicy,
  headers: RequestHeaders,
): Record<string, string> {
  const granted = allowedOrigin(policy, headers.origin);
  if (granted === null) return {};
  return varies(policy)
    ? { 'Access-Control-Allow-Origin': granted, Vary: 'Origin' }
    : { 'Access-Control-Allow-Origin': granted };
}
