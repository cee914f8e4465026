import type { HttpResponseInit } from '@azure/functions';
import { problem } from '../http/problem';

/**
 * CORS as the Functions platform does it on Azure, where infra sets the app's CORS setting from
 * the same CORS_ORIGINS: only listed origins (exact match, or `*`) get Access-Control headers;
 * credentials are not allowed (tokens travel in Authorization, never in cookies).
 */
export const corsAllowedHeaders = [
  'authorization',
  'content-type',
  'if-match',
  'idempotency-key',
  'ms-requestid',
] as const;

export const corsAllowedMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

function allowedOrigin(origin: string | undefined, allowed: readonly string[]): string | null {
  if (origin === undefined) return null;
  if (allowed.includes(origin)) return origin;
  return allowed.includes('*') ? '*' : null;
}

/** Headers for an answer to a request from `origin`: none unless the origin is allowed. */
export function corsHeaders(
  origin: string | undefined,
  allowed: readonly string[],
): Record<string, string> {
  const granted = allowedOrigin(origin, allowed);
  return granted === null ? {} : { 'Access-Control-Allow-Origin': granted, Vary: 'Origin' };
}

/**
 * The answer to a preflight (OPTIONS with Access-Control-Request-Method): 204 with what the
 * browser may send for an allowed origin; 403 without any CORS header for any other, so the
 * browser refuses the request and a developer sees why.
 */
export function preflight(origin: string, allowed: readonly string[]): HttpResponseInit {
  const headers = corsHeaders(origin, allowed);
  if (Object.keys(headers).length === 0) {
    return problem('forbidden', 'This origin may not call the API from a browser (CORS_ORIGINS).');
  }
  return {
    status: 204,
    headers: {
      ...headers,
      'Access-Control-Allow-Methods': corsAllowedMethods.join(', '),
      'Access-Control-Allow-Headers': corsAllowedHeaders.join(', '),
      'Access-Control-Max-Age': '600',
    },
  };
}
