import { describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { operationIdOf } from '../../shared/http/define';
import { observationsDirVariable, readObservations } from '../support/contract-observations';

/**
 * Each operation lists the problem codes its handler can answer (`errors` in its row of the
 * function table; openapi.json says them as an enum per status). The other half of the proof
 * runs in every test: a test app turns a code an operation does not list into a 500 that names
 * it (shared/http/define.ts, holdToContract), so every request of the suite (the fuzz's 10,000,
 * the authorization matrix's, each feature's) shows that what is answered is listed. This file
 * runs after all the others and shows the converse: each listed code was answered by its
 * operation somewhere in the suite, so none is listed that it cannot answer. The framework's
 * own codes (401, 429, 503 ...) come from the route's shape and are proven by its own tests.
 */
describe('the error codes each operation declares', () => {
  it('were each answered by that operation somewhere in the suite', () => {
    const dir = process.env[observationsDirVariable];
    if (!dir) {
      throw new Error(
        'This check reads what the whole suite saw: run it with the other tests (npm test, or npx vitest run).',
      );
    }
    const answered = readObservations(dir);
    const neverAnswered = httpFunctions().flatMap(({ spec }) =>
      spec.methods.flatMap((method) => {
        const operationId = operationIdOf(spec, method);
        return spec.errors
          .filter((code) => !answered.get(operationId)?.has(code))
          .map((code) => `${operationId} (${method} /api/${spec.route}): ${code}`);
      }),
    );
    expect(neverAnswered).toEqual([]);
  });
});
