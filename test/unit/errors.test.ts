import { describe, expect, it } from 'vitest';
import { notFound, rateLimited, validationFailed } from '../../shared/domain/errors';
import {
  DependencyUnavailable,
  SendThrottled,
  TransientSendError,
  WriteConflict,
} from '../../shared/app/ports';

describe('domain errors', () => {
  it('name what was not found, and read as a DomainError in logs', () => {
    const error = notFound('The customer');
    expect(error).toMatchObject({
      code: 'not-found',
      status: 404,
      detail: 'The customer was not found.',
    });
    expect(String(error)).toBe('DomainError: The customer was not found.');
  });

  it('sum up every field of a validation failure when no detail is given', () => {
    const errors = [
      { path: 'body.email', message: 'is not an email address' },
      { path: 'body.language', message: 'must be en or fr' },
    ];
    expect(validationFailed(errors)).toMatchObject({
      code: 'validation-failed',
      status: 400,
      detail: 'body.email: is not an email address; body.language: must be en or fr',
      errors,
    });
    expect(validationFailed(errors, 'The form is not valid.').detail).toBe(
      'The form is not valid.',
    );
  });

  it('say what is limited and how long to wait, one second in the singular, in the text and in Retry-After', () => {
    for (const [seconds, wait] of [
      [0, '0 seconds'],
      [1, '1 second'],
      [2, '2 seconds'],
      [60, '60 seconds'],
    ] as const) {
      expect(rateLimited('Too many requests for this tenant', seconds)).toMatchObject({
        code: 'rate-limited',
        status: 429,
        detail: `Too many requests for this tenant; try again in ${wait}.`,
        headers: { 'Retry-After': String(seconds) },
      });
    }
  });
});

describe("the ports' errors, as a log line shows them", () => {
  it('name the refused write and why, the unreachable dependency, the failed or throttled send', () => {
    expect(String(new WriteConflict('changed', 2))).toBe('WriteConflict: write 2 refused: changed');
    const cause = new Error('ECONNRESET');
    const unavailable = new DependencyUnavailable('Cosmos DB', { cause, retryAfterMs: 250 });
    expect(String(unavailable)).toBe('DependencyUnavailable: Cosmos DB is unavailable');
    expect(unavailable).toMatchObject({ dependency: 'Cosmos DB', retryAfterMs: 250, cause });
    const transient = new TransientSendError('ACS answered 503', 30);
    expect(String(transient)).toBe('TransientSendError: ACS answered 503');
    expect(transient.retryAfterSeconds).toBe(30);
    const throttled = new SendThrottled('ACS answered 429', 60);
    expect(String(throttled)).toBe('SendThrottled: ACS answered 429');
    expect(throttled).toBeInstanceOf(TransientSendError);
    expect(throttled.retryAfterSeconds).toBe(60);
  });
});
