import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadOrCreateDevKey,
  signDevToken,
  type DevKey,
} from '../../shared/adapters/identity/dev-keys';
import { devKeys, JwtVerifier } from '../../shared/adapters/identity/jwt-verifier';
import { ManualClock } from '../support/clock';

const audience = 'api://partner-transition-test';
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
    verifier: new JwtVerifier(counting, { audience, issuerTemplate, now: () => clock.now() }),
    checks: () => checks,
  };
}

const sign = (clock: ManualClock, lifetimeSeconds = 3600, signer: DevKey = key) =>
  signDevToken(
    signer,
    { tenantId, roles: ['GlobalAdmin'], userId: 'user-1', name: 'Gina', email: 'g@x.example' },
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
