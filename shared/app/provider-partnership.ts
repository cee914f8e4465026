import { validationFailed } from '../domain/errors';
import {
  partnershipEnded,
  partnershipId,
  partnershipState,
  type Partnership,
} from '../domain/providers';
import type { Versioned } from './ports';
import type { Services } from './services';

export interface Pair {
  providerId: string;
  resellerId: string;
}

/** Both sides of a partnership, read at once (each in its own partner's partition). */
export async function partnershipSides(
  services: Services,
  { providerId, resellerId }: Pair,
): Promise<{
  resellerSide: Versioned<Partnership> | null;
  providerSide: Versioned<Partnership> | null;
}> {
  const [resellerSide, providerSide] = await Promise.all([
    services.partners.getDocument<Partnership>(resellerId, partnershipId(providerId)),
    services.partners.getDocument<Partnership>(providerId, partnershipId(resellerId)),
  ]);
  return { resellerSide, providerSide };
}

/**
 * The caller's side of an active partnership, checked from BOTH sides (docs/rules.md section
 * 8b): 400 under `path` when the two were never partners, 409 `partnership-ended` when either
 * side ended. Every action a provider and a reseller take together goes through it: a
 * customer invitation, a relationship extension, a transfer, a customer created for a reseller.
 */
export async function activePartnership(
  services: Services,
  pair: Pair,
  seenBy: Partnership['side'],
  path: string,
): Promise<Versioned<Partnership>> {
  return assertActive(await partnershipSides(services, pair), seenBy, path);
}

/** The same check on sides already read. */
export function assertActive(
  {
    resellerSide,
    providerSide,
  }: {
    resellerSide: Versioned<Partnership> | null;
    providerSide: Versioned<Partnership> | null;
  },
  seenBy: Partnership['side'],
  path: string,
): Versioned<Partnership> {
  const mine = seenBy === 'reseller' ? resellerSide : providerSide;
  const state = partnershipState(resellerSide?.value, providerSide?.value, seenBy);
  if (state === 'none' || !mine) {
    throw validationFailed([
      {
        path,
        message:
          seenBy === 'reseller'
            ? 'is not one of your indirect providers'
            : 'is not an indirect reseller in partnership with you',
      },
    ]);
  }
  if (state === 'ended') {
    throw partnershipEnded(
      `Your partnership with ${mine.value.counterpartyName} has ended: nothing more is done together until a new partnership invitation is accepted.`,
    );
  }
  return mine;
}
