import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { hash } from 'node:crypto';
import { DependencyUnavailable, type TokenVerifier } from '../../app/ports';
import { DomainError } from '../../domain/errors';
import {
  globalAdminRoleTemplateId,
  personalAccountsTenantId,
  type Principal,
} from '../../domain/principal';
import type { DevKey } from './dev-keys';

const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface VerifierOptions {
  /** v2 access tokens: `aud` is the API's client id. */
  audience: string;
  /** e.g. https://login.microsoftonline.com/{tenantid}/v2.0: multi-tenant, checked against tid. */
  issuerTemplate: string;
  /** v1 access tokens, accepted only when set: `aud` is the API's application id URI. */
  appIdUri?: string;
  /** The delegated scope a user token must carry in `scp` (e.g. access_as_user). */
  scope: string;
  /** Whether the app role `GlobalAdmin` also makes a (user) global admin: off unless opted in. */
  globalAdminAppRole?: boolean;
  now: () => Date;
}

/** The issuer of v1 access tokens (`ver` 1.0). */
export const v1IssuerTemplate = 'https://sts.windows.net/{tenantid}/';

/** Seconds of clock skew allowed on exp and nbf, by jose and by the cache alike. */
const clockToleranceSeconds = 60;

/**
 * Verified tokens kept, so a portal's token is checked once, not at every request (its RS256
 * signature check was a sixth of GET /api/me's CPU). Bounded in number and age: a token is
 * trusted from the cache for at most five minutes and never past its own expiry. Kept by the
 * SHA-256 of the token, never the token itself: what stays in memory cannot be replayed.
 */
const verifiedTokenLimit = 10_000;
const verifiedTokenMaxAgeMs = 5 * 60_000;

interface VerifiedToken {
  principal: Principal;
  /** Epoch ms from which, and until which, the cached verdict holds. */
  from: number;
  until: number;
}

const unauthenticated = (detail: string): DomainError => new DomainError('unauthenticated', detail);

/**
 * Entra ID access tokens, validated with jose: RS256 only (the algorithm is pinned, so an
 * HS256 token signed with the public key or an unsigned one is refused), signature from the
 * JWKS, audience, expiry and not-before, and the issuer rebuilt from the token's own tid.
 */
export class JwtVerifier implements TokenVerifier {
  private readonly verified = new Map<string, VerifiedToken>();
  /** Checks under way: concurrent requests with one token share its one check. */
  private readonly checking = new Map<string, Promise<Principal>>();

  constructor(
    private readonly keys: JWTVerifyGetKey,
    private readonly options: VerifierOptions,
  ) {}

  async verify(token: string): Promise<Principal> {
    const now = this.options.now();
    const key = hash('sha256', token, 'base64');
    const cached = this.verified.get(key);
    if (cached) {
      if (now.getTime() >= cached.from && now.getTime() <= cached.until) return cached.principal;
      this.verified.delete(key); // expired or not yet valid: jose says which, below
    }
    const under = this.checking.get(key);
    if (under) return under;
    const check = this.check(token, key, now).finally(() => this.checking.delete(key));
    this.checking.set(key, check);
    return check;
  }

  private async check(token: string, key: string, now: Date): Promise<Principal> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['RS256'],
        audience: this.options.appIdUri
          ? [this.options.audience, this.options.appIdUri]
          : this.options.audience,
        currentDate: now,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ['tid', 'oid', 'iss', 'exp'],
      }));
    } catch (error) {
      throw this.describe(error);
    }
    const tenantId = typeof payload.tid === 'string' ? payload.tid.toLowerCase() : '';
    if (!guid.test(tenantId)) throw unauthenticated('The token has no valid tenant id (tid).');
    if (tenantId === personalAccountsTenantId) {
      throw unauthenticated(
        'Personal Microsoft accounts cannot use this API: sign in with a work account.',
      );
    }
    this.checkVersion(payload, tenantId);
    const principal = principalFrom(payload, tenantId, this.options);
    this.remember(key, principal, payload, now.getTime());
    return principal;
  }

  /**
   * v2 tokens carry the client id as `aud` and the v2 issuer; v1 tokens (only when an
   * application id URI is configured) carry that URI and the sts.windows.net issuer.
   */
  private checkVersion(payload: JWTPayload, tenantId: string): void {
    const version = payload.ver ?? '2.0';
    const audience = Array.isArray(payload.aud) ? null : payload.aud;
    const expected =
      version === '2.0'
        ? { audience: this.options.audience, issuer: this.options.issuerTemplate }
        : version === '1.0' && this.options.appIdUri
          ? { audience: this.options.appIdUri, issuer: v1IssuerTemplate }
          : null;
    if (!expected)
      throw unauthenticated(`Access tokens of version ${String(version)} are not accepted.`);
    if (audience !== expected.audience)
      throw unauthenticated("The token's aud claim is not accepted.");
    if (payload.iss !== expected.issuer.replace('{tenantid}', tenantId)) {
      throw unauthenticated('The token was not issued for its own tenant.');
    }
  }

  /** Only good tokens are kept; the oldest goes first when the cache is full. */
  private remember(key: string, principal: Principal, payload: JWTPayload, now: number): void {
    const tolerance = clockToleranceSeconds * 1000;
    if (this.verified.size >= verifiedTokenLimit) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(key, {
      principal,
      from: payload.nbf === undefined ? -Infinity : payload.nbf * 1000 - tolerance,
      until: Math.min(payload.exp! * 1000 + tolerance, now + verifiedTokenMaxAgeMs),
    });
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

/**
 * Who the token speaks for (docs/api.md, Identity). Only access tokens for this API: an ID token
 * (it carries a nonce or hashes of a code or token, never a scope) is refused, and so is a
 * token with neither `scp` nor `roles`. A user token needs the API's delegated scope; an
 * app-only token (`idtyp: app`) acts only through its `roles`, never as a global admin.
 */
function principalFrom(
  payload: JWTPayload,
  tenantId: string,
  options: Pick<VerifierOptions, 'scope' | 'globalAdminAppRole'>,
): Principal {
  if (
    payload.nonce !== undefined ||
    payload.at_hash !== undefined ||
    payload.c_hash !== undefined
  ) {
    throw unauthenticated('ID tokens are not accepted: send an access token for this API.');
  }
  const roles = stringList(payload.roles);
  const scopes = (stringClaim(payload, 'scp') ?? '').split(' ').filter(Boolean);
  if (scopes.length === 0 && roles.length === 0) {
    throw unauthenticated(
      'The token carries neither a scope (scp) nor a role: it is not an access token for this API.',
    );
  }
  const app = payload.idtyp === 'app';
  if (app && scopes.length > 0) throw unauthenticated('An app-only token cannot carry a scope.');
  if (!app && !scopes.includes(options.scope)) {
    throw unauthenticated(`A user token must carry the scope ${options.scope} of this API.`);
  }
  const wids = stringList(payload.wids);
  const email = app
    ? null
    : (stringClaim(payload, 'preferred_username') ??
      stringClaim(payload, 'email') ??
      stringClaim(payload, 'upn'));
  const appName = stringClaim(payload, 'azp') ?? stringClaim(payload, 'appid');
  // Frozen: the same principal answers every request that presents the token.
  return Object.freeze({
    kind: app ? 'app' : 'user',
    tenantId,
    userId: String(payload.oid),
    name: app
      ? `application ${appName ?? String(payload.oid)}`
      : (stringClaim(payload, 'name') ?? email ?? String(payload.oid)),
    email,
    roles: Object.freeze(roles) as string[],
    isGlobalAdmin:
      !app &&
      (wids.includes(globalAdminRoleTemplateId) ||
        (options.globalAdminAppRole === true && roles.includes('GlobalAdmin'))),
  });
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
