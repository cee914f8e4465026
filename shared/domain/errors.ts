/**
 * The stable error codes of docs/api.md, each with its one HTTP status and title. Rules throw
 * DomainError with a code; shared/http/problem.ts turns it into problem+json in one place.
 */
export const problemCatalog = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'link-missing': { status: 400, title: 'The invitation link is missing from the email body' },
  'webhook-url-refused': { status: 400, title: 'This webhook URL is not allowed' },
  'link-not-allowed': {
    status: 400,
    title: 'The email may carry no link but the invitation link',
  },
  unauthenticated: { status: 401, title: 'Sign-in required' },
  forbidden: { status: 403, title: 'Not allowed' },
  'not-eligible': { status: 403, title: 'Not eligible for indirect reseller enrollment' },
  'profile-incomplete': { status: 403, title: 'The partner profile is incomplete or out of date' },
  'no-new-direct-customers': { status: 403, title: 'No new direct customers after enrollment' },
  'provider-creates-tenants': {
    status: 403,
    title: 'The indirect provider creates customer tenants',
  },
  'action-not-allowed': { status: 403, title: 'This action is not open for this customer' },
  'wrong-tenant': { status: 403, title: 'This link was sent to another tenant' },
  'region-mismatch': { status: 403, title: 'Provider and reseller work in different regions' },
  'relationship-required': {
    status: 403,
    title: 'The provider has no relationship with this customer yet',
  },
  'transfer-not-eligible': { status: 400, title: 'Some subscriptions cannot be transferred' },
  'transfer-in-progress': {
    status: 409,
    title: 'A subscription is already in an open transfer',
  },
  'not-found': { status: 404, title: 'Not found' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict' },
  irreversible: { status: 409, title: 'Indirect reseller enrollment cannot be undone' },
  'agreement-not-available': { status: 409, title: 'The agreement is not available yet' },
  'idempotency-key-reused': { status: 409, title: 'Idempotency key reused for another request' },
  'partnership-ended': { status: 409, title: 'The partnership this action needs has ended' },
  'invitation-expired': { status: 410, title: 'This invitation has expired' },
  'invitation-used': { status: 410, title: 'This invitation has already been used' },
  'invitation-revoked': { status: 410, title: 'This invitation was revoked' },
  'cursor-expired': { status: 410, title: 'The events after this cursor have expired' },
  'length-required': { status: 411, title: 'The body needs a Content-Length' },
  'precondition-failed': { status: 412, title: 'The resource has changed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'internal-error': { status: 500, title: 'Something went wrong on our side' },
  unavailable: { status: 503, title: 'A service we depend on is unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof problemCatalog;

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  readonly status: number;

  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'DomainError';
    this.status = problemCatalog[code].status;
  }
}

export const notFound = (what: string): DomainError =>
  new DomainError('not-found', `${what} was not found.`);

export const forbidden = (detail: string): DomainError => new DomainError('forbidden', detail);

export const conflict = (detail: string): DomainError => new DomainError('conflict', detail);

export const validationFailed = (errors: FieldError[], detail?: string): DomainError =>
  new DomainError(
    'validation-failed',
    detail ?? errors.map((error) => `${error.path}: ${error.message}`).join('; '),
    errors,
  );

/**
 * 429 `rate-limited`: what is limited and how long to wait, in the text (`1 second`, `30 seconds`)
 * and in Retry-After.
 */
export const rateLimited = (what: string, retryAfterSeconds: number): DomainError =>
  new DomainError(
    'rate-limited',
    `${what}; try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
    undefined,
    { 'Retry-After': String(retryAfterSeconds) },
  );
