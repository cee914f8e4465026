import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, remoteKeys } from '../../shared/adapters/identity/jwt-verifier';
import { globalAdminRoleTemplateId } from '../../shared/domain/principal';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner } from '../support/builders';
import { ManualClock } from '../support/clock';

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

let app: TestApp;
let partnerId: string;
/** AUTH_AUDIENCE in Entra mode: the API's client id, the aud of v2 access tokens. */
const apiClientId = '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b';

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-06-01T12:00:00.000Z') });
  ({ partnerId } = await createPartner(app));
});
afterAll(() => app.close());

const base64url = (value: unknown): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');

function claims(overrides: Record<string, unknown> = {}) {
  const now = Math.floor(app.clock.now().getTime() / 1000);
  return {
    tid: partnerId,
    oid: 'user-1',
    name: 'Gina',
    scp: 'access_as_user',
    wids: [globalAdminRoleTemplateId],
    iss: `https://login.microsoftonline.com/${partnerId}/v2.0`,
    aud: app.config.auth.audience,
    iat: now,
    nbf: now,
    exp: now + 3600,
    ...overrides,
  };
}

async function signWithDevKey(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await importJWK(app.devKey.privateJwk, 'RS256');
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'RS256', kid: app.devKey.kid, ...header })
    .sign(key);
}

async function expect401(token: string, detail?: RegExp): Promise<void> {
  const response = await app.api('GET', '/api/me', { token });
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  expect(response.headers.get('www-authenticate')).toBe('Bearer');
  expect(response.body.code).toBe('unauthenticated');
  if (detail) expect(response.body.detail).toMatch(detail);
}

describe('bearer token validation', () => {
  it('accepts a well-formed token signed by the trusted key', async () => {
    const response = await app.api('GET', '/api/me', { token: await signWithDevKey(claims()) });
    expect(response.status).toBe(200);
    expect(response.body.partnerId).toBe(partnerId);
  });

  it('refuses a request without a token', async () => {
    const response = await app.api('GET', '/api/me');
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('unauthenticated');
  });

  it('refuses an Authorization header that is not a bearer token', async () => {
    const response = await app.api('GET', '/api/me', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(response.status).toBe(401);
  });

  it('refuses a token signed by another key', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: app.devKey.kid })
      .sign(privateKey);
    await expect401(forged);
  });

  it('refuses a token whose signature was tampered with', async () => {
    const token = await signWithDevKey(claims());
    const [header, , signature] = token.split('.');
    await expect401(`${header}.${base64url(claims({ roles: ['Operator'] }))}.${signature}`);
  });

  it('refuses a token for another audience', async () => {
    await expect401(await signWithDevKey(claims({ aud: 'api://someone-else' })), /aud/);
  });

  it('refuses a token whose issuer is not its own tenant', async () => {
    await expect401(
      await signWithDevKey(
        claims({
          iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0',
        }),
      ),
    );
  });

  it('refuses a token from another issuer altogether', async () => {
    await expect401(await signWithDevKey(claims({ iss: 'https://evil.example/v2.0' })));
  });

  it('refuses an expired token', async () => {
    const now = Math.floor(app.clock.now().getTime() / 1000);
    await expect401(
      await signWithDevKey(claims({ iat: now - 7200, nbf: now - 7200, exp: now - 3600 })),
      /expired/,
    );
  });

  it('refuses a token that is not valid yet', async () => {
    const now = Math.floor(app.clock.now().getTime() / 1000);
    await expect401(await signWithDevKey(claims({ nbf: now + 3600, exp: now + 7200 })), /nbf/);
  });

  it('refuses an unsigned token (alg: none)', async () => {
    await expect401(`${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims())}.`);
  });

  it('refuses an HS256 token signed with the public key as the secret', async () => {
    const publicKey = await importJWK(app.devKey.publicJwk, 'RS256');
    const pem = await exportSPKI(publicKey as SigningKey);
    const hs = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256', kid: app.devKey.kid })
      .sign(new TextEncoder().encode(pem));
    await expect401(hs);
  });

  it('refuses a token without a tenant id', async () => {
    const { tid: _omit, ...rest } = claims();
    await expect401(await signWithDevKey(rest));
  });

  it('refuses garbage', async () => {
    await expect401('not.a.jwt');
  });
});

describe('Entra mode with a remote key set', () => {
  it('validates tokens against the JWKS it fetches, and refuses dev tokens', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'entra-key-1', alg: 'RS256', use: 'sig' };
    let fetches = 0;
    const jwks = http.createServer((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const clock = new ManualClock('2026-06-01T12:00:00.000Z');
    const entra = await startTestApp({
      clock,
      env: {
        AUTH_MODE: 'entra',
        AUTH_AUDIENCE: apiClientId,
        IDEMPOTENCY_SECRET: 'entra-test-idempotency-secret-of-32-chars-or-more',
        AUTH_JWKS_URI: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`,
      },
    });
    try {
      const { partnerId: tenant } = await createPartnerAs(entra, privateKey, clock);
      const now = Math.floor(clock.now().getTime() / 1000);
      const token = await new SignJWT({
        tid: tenant,
        oid: 'u',
        name: 'Gina',
        scp: 'access_as_user',
        wids: [globalAdminRoleTemplateId],
      })
        .setProtectedHeader({ alg: 'RS256', kid: 'entra-key-1' })
        .setIssuer(`https://login.microsoftonline.com/${tenant}/v2.0`)
        .setAudience(apiClientId)
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(privateKey);
      expect((await entra.api('GET', '/api/me', { token })).status).toBe(200);
      expect((await entra.api('GET', '/api/me', { token })).status).toBe(200);
      expect(fetches).toBe(1);
      // A development token is signed by a key Entra does not publish.
      const devToken = await entra.token({ tenant, roles: ['GlobalAdmin'] });
      expect((await entra.api('GET', '/api/me', { token: devToken })).status).toBe(401);
    } finally {
      await entra.close();
      jwks.close();
    }
  });
});

describe('an unknown kid', () => {
  // jose's cooldown reads the real time (Date.now), so the test moves Date itself.
  it('refetches the key set at most once a minute, however many such tokens arrive', async () => {
    const keyPair = async (kid: string) => ({ kid, ...(await generateKeyPair('RS256')) });
    const [current, rotated, stranger] = await Promise.all([
      keyPair('current'),
      keyPair('rotated'),
      keyPair('stranger'),
    ]);
    let published = [current];
    let fetches = 0;
    const jwks = http.createServer((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      Promise.all(
        published.map(async ({ kid, publicKey }) => ({ ...(await exportJWK(publicKey)), kid })),
      ).then((keys) => response.end(JSON.stringify({ keys })));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(new Date('2026-06-01T12:00:00.000Z'));
      const tenant = '11111111-2222-3333-4444-555555555555';
      const verifier = new JwtVerifier(
        remoteKeys(`http://127.0.0.1:${(jwks.address() as AddressInfo).port}/keys`),
        {
          audience: apiClientId,
          scope: 'access_as_user',
          issuerTemplate: 'https://login.microsoftonline.com/{tenantid}/v2.0',
          now: () => new Date(),
        },
      );
      const signedBy = async (key: typeof current): Promise<string> => {
        const now = Math.floor(Date.now() / 1000);
        return new SignJWT({ tid: tenant, oid: 'u', scp: 'access_as_user' })
          .setProtectedHeader({ alg: 'RS256', kid: key.kid })
          .setIssuer(`https://login.microsoftonline.com/${tenant}/v2.0`)
          .setAudience(apiClientId)
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(key.privateKey);
      };
      const refused = async (key: typeof current): Promise<void> => {
        await expect(verifier.verify(await signedBy(key))).rejects.toMatchObject({
          code: 'unauthenticated',
        });
      };

      await verifier.verify(await signedBy(current));
      expect(fetches).toBe(1);
      // Within a minute of the last fetch, unknown kids are refused without fetching.
      vi.setSystemTime(new Date('2026-06-01T12:00:30.000Z'));
      await refused(stranger);
      await refused(stranger);
      expect(fetches).toBe(1);

      // A minute on: two unknown-kid tokens in a row cause one fetch, not two; nor do fifty at once.
      vi.setSystemTime(new Date('2026-06-01T12:01:01.000Z'));
      await refused(stranger);
      await refused(stranger);
      expect(fetches).toBe(2);
      vi.setSystemTime(new Date('2026-06-01T12:02:02.000Z'));
      const tokens = await Promise.all(Array.from({ length: 50 }, () => signedBy(stranger)));
      await Promise.all(tokens.map((token) => expect(verifier.verify(token)).rejects.toThrow()));
      expect(fetches).toBe(3);

      // A key Entra rotates in is picked up by the next fetch the cooldown allows.
      published = [current, rotated];
      vi.setSystemTime(new Date('2026-06-01T12:02:30.000Z'));
      await refused(rotated);
      expect(fetches).toBe(3);
      vi.setSystemTime(new Date('2026-06-01T12:03:03.000Z'));
      await expect(verifier.verify(await signedBy(rotated))).resolves.toMatchObject({
        tenantId: tenant,
      });
      expect(fetches).toBe(4);
      await verifier.verify(await signedBy(current));
      expect(fetches).toBe(4);
    } finally {
      vi.useRealTimers();
      jwks.close();
    }
  });
});

async function createPartnerAs(
  target: TestApp,
  privateKey: SigningKey,
  clock: ManualClock,
): Promise<{ partnerId: string }> {
  const operatorTenant = target.config.auth.operatorTenantId;
  const now = Math.floor(clock.now().getTime() / 1000);
  const token = await new SignJWT({
    tid: operatorTenant,
    oid: 'op',
    name: 'Op',
    scp: 'access_as_user',
    roles: ['Operator'],
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'entra-key-1' })
    .setIssuer(`https://login.microsoftonline.com/${operatorTenant}/v2.0`)
    .setAudience(apiClientId)
    .setIssuedAt(now)
    .setExpirationTime(now + 600)
    .sign(privateKey);
  const partnerId = crypto.randomUUID();
  const response = await target.api('PUT', `/api/operator/partners/${partnerId}`, {
    token,
    body: { companyName: 'Entra Co', country: 'US', programs: { directBill: true } },
  });
  expect(response.status).toBe(201);
  return { partnerId };
}
