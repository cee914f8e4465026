import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { devScope } from '../../config';
import { globalAdminRoleTemplateId } from '../../domain/principal';

/**
 * The development signing key (AUTH_MODE=dev): created once per checkout in .local/ (never
 * committed), used by `npm run token` to sign and by the app in dev mode to verify.
 */
export interface DevKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export async function loadOrCreateDevKey(file: string): Promise<DevKey> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const key: DevKey = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
  await mkdir(path.dirname(file), { recursive: true });
  try {
    // 'wx': when two processes race to create it, the second reads the first one's key.
    await writeFile(file, JSON.stringify(key, null, 2), { flag: 'wx', mode: 0o600 });
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return JSON.parse(await readFile(file, 'utf8')) as DevKey;
  }
}

export interface TokenClaims {
  tenantId: string;
  /** App roles, as Entra puts them in `roles`. */
  roles: string[];
  userId: string;
  name: string;
  email: string;
  /** Directory role template ids (the `wids` claim). */
  wids?: string[];
  /** An app-only token (`idtyp: app`, no user, no scope) instead of a user's. */
  app?: boolean;
  /** The delegated scopes of a user token (`scp`); the API's default scope when absent. */
  scopes?: string[];
  /** Claims over the ones above (tests: an ID token's nonce, a v1 token's ver). */
  extra?: Record<string, unknown>;
}

/**
 * The dev token command's roles as Entra issues them (docs/api.md, Identity): `GlobalAdmin` is the
 * Global Administrator directory role in `wids`, every other name an app role in `roles`.
 */
export function devRoleClaims(names: readonly string[]): { roles: string[]; wids: string[] } {
  return {
    roles: names.filter((name) => name !== 'GlobalAdmin'),
    wids: names.includes('GlobalAdmin') ? [globalAdminRoleTemplateId] : [],
  };
}

export interface SignOptions {
  audience: string;
  issuerTemplate: string;
  now: Date;
  lifetimeSeconds?: number;
  notBefore?: Date;
}

/** Signs an Entra-shaped (v2) access token for this API with the development key. */
export async function signDevToken(
  key: DevKey,
  claims: TokenClaims,
  options: SignOptions,
): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'RS256');
  const issuedAt = Math.floor(options.now.getTime() / 1000);
  const identity = claims.app
    ? { idtyp: 'app', azp: claims.userId }
    : {
        name: claims.name,
        preferred_username: claims.email,
        scp: (claims.scopes ?? [devScope]).join(' '),
      };
  return new SignJWT({
    tid: claims.tenantId,
    oid: claims.userId,
    ...identity,
    ...(claims.roles.length > 0 ? { roles: claims.roles } : {}),
    ...(claims.wids && claims.wids.length > 0 ? { wids: claims.wids } : {}),
    ver: '2.0',
    ...claims.extra,
  })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.kid })
    .setIssuer(options.issuerTemplate.replace('{tenantid}', claims.tenantId))
    .setAudience(options.audience)
    .setSubject(claims.userId)
    .setIssuedAt(issuedAt)
    .setNotBefore(Math.floor((options.notBefore ?? options.now).getTime() / 1000))
    .setExpirationTime(issuedAt + (options.lifetimeSeconds ?? 3600))
    .sign(privateKey);
}

/**
 * The server secret idempotent answers are sealed with, when no IDEMPOTENCY_SECRET is set (dev
 * mode only): generated once per checkout in .local/ (never committed), like the signing key.
 */
export async function loadOrCreateSecret(file: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const secret = randomBytes(32);
  try {
    await writeFile(file, secret.toString('base64url'), { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
  }
}
