import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { DependencyUnavailable, type TokenVerifier } from '../../app/ports';
import { DomainError } from '../../domain/errors';
import { globalAdminRoleTemplateId, type Principal } from '../../domain/principal';
import type { DevKey } from './dev-keys';

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface VerifierOptions {
  audience: string;
  /** e.g. https://login.microsoftonline.com/{tenantid}/v2.0: multi-tenant, checked against tid. */
  issuerTemplate: string;
  now: () => Date;
}

const unauthenticated = (detail: string): DomainError => new DomainError('unauthenticated', detail);

/**
 * Entra ID access tokens, validated with jose: RS256 only (the algorithm is pinned, so an
 * HS256 token signed with the public key or an unsigned one is refused), signature from the
 * JWKS, audience, expiry and not-before, and the issuer rebuilt from the token's own tid.
 */
export class JwtVerifier implements TokenVerifier {
  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly options: VerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['RS256'],
        audience: this.options.audience,
        currentDate: this.options.now(),
        clockTolerance: 60,
        requiredClaims: ['tid', 'oid', 'iss', 'exp'],
      }));
    } catch (error) {
      throw this.describe(error);
    }
    const tenantId = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : '';
    if (!guid.test(tenantId)) throw unauthenticated('The token has no valid tenant id (tid).');
    if (payload.iss !== this.options.issuerTemplate.replace('{tenantid}', tenantId)) {
      throw unauthenticated('The token was not issued for its own tenant.');
    }
    return principalFrom(payload, tenantId);
  }

  private describe(error: unknown): Error {
    if (error instanceof joseErrors.JWTExpired) return unauthenticated('The token has expired.');
    if (error instanceof joseErrors.JWTClaimValidationFailed) {
      return unauthenticated(`The token's ${error.claim} claim is not accepted.`);
    }
    if (error instanceof joseErrors.JWKSTimeout)
      return new DependencyUnavailable('identity', { cause: error });
    if (error instanceof joseErrors.JOSEError) return unauthenticated('The token is not valid.');
    if (error instanceof TypeError || (error as { name?: string }).name === 'TypeError') {
      // fetch failed: the key set could not be reached.
      return new DependencyUnavailable('identity', { cause: error });
    }
    return unauthenticated('The token is not valid.');
  }
}

function stringClaim(payload: JWTPayload, name: string): string | null {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 ? value : null;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

function principalFrom(payload: JWTPayload, tenantId: string): Principal {
  const roles = stringList(payload.roles);
  const wids = stringList(payload.wids);
  const email =
    stringClaim(payload, 'preferred_username') ??
    stringClaim(payload, 'email') ??
    stringClaim(payload, 'upn');
  return {
    tenantId,
    userId: String(payload.oid),
    name: stringClaim(payload, 'name') ?? email ?? String(payload.oid),
    email,
    roles,
    isGlobalAdmin: wids.includes(globalAdminRoleTemplateId) || roles.includes('GlobalAdmin'),
  };
}

/** Keys from Entra's JWKS, cached; an unknown kid refetches at most once a minute. */
export function remoteKeys(jwksUri: string): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(jwksUri), {
    cooldownDuration: 60_000,
    cacheMaxAge: 24 * 3600_000,
    timeoutDuration: 5_000,
  });
}

export function devKeys(key: DevKey): JWTVerifyGetKey {
  return createLocalJWKSet({ keys: [key.publicJwk] });
}
