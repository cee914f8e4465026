import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { DependencyUnavailable, WriteConflict } from '../app/ports';
import { DomainError, problemCatalog, type FieldError, type ProblemCode } from '../domain/errors';
import { redactSecrets } from '../redact';
import { securityHeaders } from './responses';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  errors?: FieldError[];
  /** With 429 and 503: the Retry-After header's seconds, for clients that read only bodies. */
  retryAfterSeconds?: number;
  instance?: string;
}

export const problemTypeBase = 'https://partner-transition.example/problems/';

export function problem(
  code: ProblemCode,
  detail: string,
  errors?: FieldError[],
  headers: Record<string, string> = {},
): HttpResponseInit {
  const entry = problemCatalog[code];
  const retryAfter = Number(headers['Retry-After']);
  const body: ProblemDetails = {
    type: `${problemTypeBase}${code}`,
    title: entry.title,
    status: entry.status,
    detail,
    code,
    ...(errors && errors.length > 0 ? { errors } : {}),
    ...(Number.isInteger(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
  return {
    status: entry.status,
    headers: {
      ...securityHeaders,
      'Content-Type': 'application/problem+json; charset=utf-8',
      ...(entry.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

/** Whole seconds, rounded up, from the dependency's own retry-after; 5 when it gave none. */
function retryAfterSeconds(retryAfterMs: number | undefined): number {
  return retryAfterMs === undefined ? 5 : Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * The one place an error becomes an HTTP answer. A rule's error keeps its code; a dependency
 * that is down is 503 (a write to one partition is atomic, so it changed nothing; an operation
 * across partitions may have written its first, and a rerun completes it); anything else is a
 * 500 that carries only the invocation id (the error goes to the log, redacted, never to the
 * caller).
 */
export function problemFromError(error: unknown, context: InvocationContext): HttpResponseInit {
  if (error instanceof DomainError) {
    return problem(error.code, error.detail, error.errors, error.headers);
  }
  if (error instanceof DependencyUnavailable) {
    context.warn(`dependency unavailable: ${error.dependency}`);
    return problem(
      'unavailable',
      `A service we depend on (${error.dependency}) is unavailable. Try again shortly: the request either changed nothing, or repeating it completes it.`,
      undefined,
      { 'Retry-After': String(retryAfterSeconds(error.retryAfterMs)) },
    );
  }
  if (error instanceof WriteConflict) {
    return problem(
      'conflict',
      'The resource was changed by another request; read it again and retry.',
    );
  }
  context.error(
    'unhandled error',
    redactSecrets(error instanceof Error ? (error.stack ?? error.message) : String(error)),
  );
  return problem(
    'internal-error',
    `An unexpected error occurred. Quote invocation id ${context.invocationId} when reporting it.`,
  );
}
