import { validationFailed } from '../domain/errors';
import { isActivePartnership, type Partnership } from '../domain/providers';
import type { Versioned } from './ports';

/**
 * The reseller's active partnership with the provider it names, or 400 under `path`: a
 * customer invitation, a relationship extension and a transfer all go to one of the caller's
 * own indirect providers.
 */
export function assertProviderOf(
  found: Versioned<Partnership> | null,
  path = 'body.providerId',
): asserts found is Versioned<Partnership> {
  if (
    !found ||
    found.value.type !== 'partnership' ||
    found.value.side !== 'reseller' ||
    !isActivePartnership(found.value)
  ) {
    throw validationFailed([{ path, message: 'is not one of your indirect providers' }]);
  }
}
