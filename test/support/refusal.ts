import { DomainError } from '../../shared/domain/errors';

/** The DomainError `run` throws; a test fails if it throws nothing or something else. */
export function refusal(run: () => void): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal, got none');
}
