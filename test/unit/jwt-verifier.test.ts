import { createHash } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  devRoleClaims,
  loadOrCreateDevKey,
  signDevToken,
  type DevKey,
  type TokenClaims,
} from '../../shared/adapters/identity/dev-keys';
import {
  devKeys,
  JwtVerifier,
  v1IssuerTemplate,
  type VerifierOptions,
} from '../../shared/adapters/identity/jwt-verifier';
import { globalAdminRoleTemplateId } from '../../shared/domain/principal';
import { ManualClock } from '../support/clock';

const audience = '3f2b7c1e-8d4a-4b6e-9c2d-1a0e5f7b9c3d';
const appIdUri = 'api://partner-transition-test';
const issuerTemplate = 'https://login.microsoftonline.com/{tenantid}/v2.0';
const tenantId = '6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';

let key: DevKey;
beforeAll(async () => {
  key = await loadOrCreateDevKey(
    path.join(await mkdtemp(path.join(os.tmpdir(), 'pt-jwt-')), 'key.json'),
  );
});

function verifierAt(clock: ManualClock): { verifier: JwtVerifier; checks: () => number } {
  let checks = 0;
  const keys = devKeys(key);
  const counting: typeof keys = (...args) => {
    checks += 1; // jose asks for the key once per signature it checks
    return keys(...args);
  };
  return {
    verifier: new JwtVerifier(counting, {
      audience,
      issuerTemplate,
      scope: 'access_as_user',
      now: () => clock.now(),
    }),
    checks: () => checks,
  };
}

const sign = (clock: ManualClock, lifetimeSeconds = 3600, signer: DevKey = key) =>
  signDevToken(
    signer,
    {
      tenantId,
      ...devRoleClaims(['GlobalAdmin']),
      userId: 'user-1',
      name: 'Gina',
      email: 'g@x.example',
    },
    { audience, issuerTemplate, now: clock.now(), lifetimeSeconds },
  );

describe('verified tokens', () => {
  it('checks a token once, then answers the same principal from the cache', async () => {
    const clock = new ManualClock();
    const { verifier, checks } = verifierAt(clock);
    const token = await sign(clock);
    const first = await verifier.verify(token);
    clock.advance({ minutes: 4 });
    expect(await verifier.verify(token)).toBe(first);
    expect(checks()).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('keeps the SHA-256 of a verified token, never the token itself', async () => {
    const clock = new ManualClock();
    const { verifier } = verifierAt(clock);
    const token = await sign(clock);
    await verifier.verify(token);
    const kept = (verifier as unknown as { verified: Map<string, unknown> }).verified;
    expect([...kept.keys()]).toEqual([createHash('sha256').update(token).digest('base64')]);
  });

  it('checks a token once when many requests bring it at the same time', async () => {
    const clock = new ManualClock();
    const { verifier, checks } = verifierAt(clock);
    const token = await sign(clock);
    const principals = await Promise.all(Array.from({ length: 32 }, () => verifier.verify(token)));
    expect(new Set(principals).size).toBe(1);
    expect(checks()).toBe(1);
  });

  it('checks the signature again after five minutes', async () => {
    const clock = new ManualClock();
    const { verifier, checks } = verifierAt(clock);
    const token = await sign(clock);
    await verifier.verify(token);
    clock.advance({ minutes: 6 });
    await verifier.verify(token);
    expect(checks()).toBe(2);
  });

  it('refuses a cached token once it has expired', async () => {
    const clock = new ManualClock();
    const { verifier } = verifierAt(clock);
    const token = await sign(clock, 120);
    await verifier.verify(token);
    clock.advance({ minutes: 3, seconds: 1 }); // past exp and its 60 s of tolerance
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses a cached token when the clock is before its not-before', async () => {
    const clock = new ManualClock();
    const { verifier } = verifierAt(clock);
    const token = await sign(clock);
    await verifier.verify(token);
    clock.advance({ minutes: -2 });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('never caches a token it refused', async () => {
    const clock = new ManualClock();
    const { verifier } = verifierAt(clock);
    const other = await loadOrCreateDevKey(
      path.join(await mkdtemp(path.join(os.tmpdir(), 'pt-jwt-')), 'other.json'),
    );
    const forged = await sign(clock, 3600, { ...other, kid: key.kid });
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'unauthenticated' });
  });
});

describe('only access tokens for this API, as Entra issues them (docs/api.md, Identity)', () => {
  const clock = new ManualClock('2026-06-01T12:00:00.000Z');
  const verifier = (options: Partial<VerifierOptions> = {}): JwtVerifier =>
    new JwtVerifier(devKeys(key), {
      audience,
      issuerTemplate,
      scope: 'access_as_user',
      now: () => clock.now(),
      ...options,
    });
  const token = (
    claims: Partial<TokenClaims> = {},
    options: { audience?: string; issuerTemplate?: string } = {},
  ) =>
    signDevToken(
      key,
      { tenantId, roles: [], userId: 'user-1', name: 'Gina', email: 'g@x.example', ...claims },
      {
        audience: options.audience ?? audience,
        issuerTemplate: options.issuerTemplate ?? issuerTemplate,
        now: clock.now(),
      },
    );
  const refused = async (
    jwt: Promise<string>,
    detail: RegExp,
    with_: JwtVerifier = verifier(),
  ): Promise<void> => {
    await expect(with_.verify(await jwt)).rejects.toMatchObject({
      code: 'unauthenticated',
      message: expect.stringMatching(detail),
    });
  };
  const ga = [globalAdminRoleTemplateId];

  it('makes a global admin of the Global Administrator directory role in wids', async () => {
    const principal = await verifier().verify(await token({ wids: ga }));
    expect(principal).toMatchObject({ kind: 'user', isGlobalAdmin: true, roles: [] });
  });

  it('does not make a global admin of the GlobalAdmin app role unless the deployment opts in', async () => {
    const selfAssigned = await token({ roles: ['GlobalAdmin'] });
    expect(await verifier().verify(selfAssigned)).toMatchObject({ isGlobalAdmin: false });
    const optedIn = verifier({ globalAdminAppRole: true });
    expect(await optedIn.verify(selfAssigned)).toMatchObject({ isGlobalAdmin: true });
  });

  it('refuses an ID token (a nonce, no scope) even when it carries roles and wids', async () => {
    await refused(
      token({ scopes: [], roles: ['AdminAgent'], wids: ga, extra: { nonce: 'abc' } }),
      /ID tokens/,
    );
    await refused(token({ extra: { at_hash: 'x' } }), /ID tokens/);
  });

  it('refuses a personal Microsoft account', async () => {
    await refused(
      token({ tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad', wids: ga }),
      /Personal Microsoft accounts/,
    );
  });

  it('refuses a token with neither a scope nor a role', async () => {
    await refused(token({ scopes: [] }), /neither a scope/);
  });

  it("refuses a user token without this API's delegated scope", async () => {
    await refused(token({ scopes: ['User.Read'], wids: ga }), /scope access_as_user/);
    await refused(token({ scopes: [], roles: ['AdminAgent'] }), /scope access_as_user/);
  });

  it('lets an app-only token act through its roles only, never as a global admin', async () => {
    const principal = await verifier({ globalAdminAppRole: true }).verify(
      await token({ app: true, roles: ['AdminAgent', 'GlobalAdmin'], wids: ga }),
    );
    expect(principal).toMatchObject({
      kind: 'app',
      isGlobalAdmin: false,
      roles: ['AdminAgent', 'GlobalAdmin'],
      email: null,
    });
    await refused(token({ app: true }), /neither a scope/);
    await refused(
      token({ app: true, roles: ['AdminAgent'], extra: { scp: 'access_as_user' } }),
      /app-only/,
    );
  });

  it('accepts v2 tokens for the client id and refuses the application id URI as a v2 aud', async () => {
    await expect(verifier({ appIdUri }).verify(await token({ wids: ga }))).resolves.toMatchObject({
      tenantId,
    });
    await refused(token({ wids: ga }, { audience: appIdUri }), /aud/, verifier({ appIdUri }));
  });

  it('accepts v1 tokens (application id URI, sts.windows.net issuer) only when configured', async () => {
    const v1 = token(
      { wids: ga, extra: { ver: '1.0' } },
      { audience: appIdUri, issuerTemplate: v1IssuerTemplate },
    );
    await expect(verifier({ appIdUri }).verify(await v1)).resolves.toMatchObject({
      tenantId,
      isGlobalAdmin: true,
    });
    await refused(v1, /aud|version/);
    await refused(
      token({ wids: ga, extra: { ver: '1.0' } }, { audience: appIdUri }),
      /own tenant/,
      verifier({ appIdUri }),
    );
  });
});
