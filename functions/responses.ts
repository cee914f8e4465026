import type { ResponseSpec } from '../shared/http/define';
import { problemSchema } from '../shared/http/schemas/common';

const descriptions: Record<number, string> = {
  400: 'The request is not valid (validation-failed, or a rule code)',
  401: 'No valid access token',
  403: 'Not allowed (forbidden, or a rule code)',
  404: 'Not found, or not yours',
  409: 'Conflict with the current state (conflict, or a rule code)',
  410: 'The link is expired, used or revoked',
  412: 'If-Match does not match the current etag',
  413: 'The body is over 64 KiB',
  415: 'The body is not JSON',
  429: 'Too many requests (rate-limited): Retry-After says when to try again',
  503: 'A dependency is unavailable; nothing changed',
};

/** The problem+json answers a route may give, for its OpenAPI entry. */
export function errorResponses(...statuses: number[]): Record<number, ResponseSpec> {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? 'Error', schema: problemSchema },
    ]),
  );
}
