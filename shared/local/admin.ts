import type { HttpResponseInit } from '@azure/functions';
import { createHash, timingSafeEqual } from 'node:crypto';
import { problem } from '../http/problem';

/**
 * POST /admin/functions/{name}, which runs a timer now, answered in the Functions host's order
 * (azure-functions-host src/WebJobs.Script.WebHost/Controllers/FunctionsController.cs:100-160):
 * the master key first (`[Authorize(Policy = AdminAuthLevel)]`: `x-functions-key` or `?code=`,
 * else 401), then the body, bound `[FromBody]` as JSON (a body that is not
 * `application/json` is 415 by MVC's UnsupportedContentTypeFilter, a missing or non-object one
 * leaves the invocation null: 400), then the name (404), then 202 while the run goes on in the
 * background. Locally the key is asked only when LOCAL_MASTER_KEY is set, as Core Tools asks
 * none; only timers run here.
 */
export interface AdminRequest {
  method: string;
  name: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  body: Buffer | null;
}

export type AdminAnswer =
  { kind: 'answer'; response: HttpResponseInit } | { kind: 'run'; name: string };

const empty = (status: number): AdminAnswer => ({ kind: 'answer', response: { status } });

/** MVC's JSON input formatter: application/json, text/json, application/*+json. */
const jsonMediaType = /^(?:application\/(?:[\w.+-]+\+)?json|text\/json)\s*(?:;.*)?$/i;

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

function keyMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && timingSafeEqual(digest(expected), digest(given));
}

export function answerAdmin(
  request: AdminRequest,
  options: { masterKey: string | undefined; timerNames: ReadonlySet<string> },
): AdminAnswer {
  // No key guards it unless one is set, so nothing a web page can reach: a browser always sends
  // Origin on a cross-site POST (even no-cors), and DNS rebinding shows in Host.
  if (request.headers.origin !== undefined) {
    return {
      kind: 'answer',
      response: problem('forbidden', 'Timers are run from the command line, not from a web page.'),
    };
  }
  if (!localHostHeader(request.headers.host)) {
    return {
      kind: 'answer',
      response: problem('forbidden', 'Timers run only for Host localhost or 127.0.0.1.'),
    };
  }
  if (
    options.masterKey !== undefined &&
    !keyMatches(options.masterKey, request.headers['x-functions-key'] ?? request.query.code)
  ) {
    return empty(401);
  }
  // Only POST is served here (the host's GET answers the function's metadata).
  if (request.method !== 'POST') return empty(405);
  if (!jsonMediaType.test(request.headers['content-type'] ?? '')) return empty(415);
  if (!isJsonObject(request.body)) return empty(400);
  const name = request.name.toLowerCase();
  if (!options.timerNames.has(name)) return empty(404);
  return { kind: 'run', name };
}

function isJsonObject(body: Buffer | null): boolean {
  if (body === null || body.length === 0) return false;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** `localhost` or `127.0.0.1`, with any port: what the developer's own tools send. */
export function localHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  return /^(localhost|127\.0\.0\.1)(?::\d{1,5})?$/i.test(host.trim());
}
