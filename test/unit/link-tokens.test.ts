import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueLinkToken, parseLinkToken, sameTokenHash } from '../../shared/app/link-tokens';
import { linkProblem, unknownLink } from '../../shared/domain/link';

const tenant = '6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11';

describe('link tokens', () => {
  it('carry 256 random bits, URL-safe, and resolve to their partition and hash', () => {
    const issued = issueLinkToken(tenant);
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(issued.token.split('.')[1]!, 'base64url')).toHaveLength(32);
    expect(encodeURIComponent(issued.token)).toBe(issued.token);
    expect(parseLinkToken(issued.token)).toEqual({
      partitionKey: tenant,
      documentId: issued.documentId,
      tokenHash: issued.tokenHash,
    });
  });

  it('store only the SHA-256 of the secret, never the secret', () => {
    const issued = issueLinkToken(tenant);
    const secret = issued.token.split('.')[1]!;
    expect(issued.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(issued.documentId).not.toContain(secret);
    expect(issued.tokenHash).not.toContain(secret);
  });

  it('are never issued twice', () => {
    const tokens = new Set(Array.from({ length: 2000 }, () => issueLinkToken(tenant).token));
    expect(tokens.size).toBe(2000);
  });

  it('treat anything else as unknown', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const parsed = parseLinkToken(text);
        if (parsed) expect(text).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
      }),
    );
    expect(parseLinkToken('../../etc/passwd')).toBeNull();
    expect(parseLinkToken(`${issueLinkToken(tenant).token}x`)).toBeNull();
  });

  it('treat a near miss of a real token as unknown: a length off by one, a foreign character, no dot', () => {
    const nearMisses = fc
      .tuple(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 200 }),
        fc.constantFrom(...'+/=~ %é'),
      )
      .map(([kind, at, foreign]) => {
        const token = issueLinkToken(tenant).token;
        const [id, secret] = token.split('.') as [string, string];
        switch (kind) {
          case 0:
            return `${id.slice(1)}.${secret}`;
          case 1:
            return `${id}.${secret.slice(1)}`;
          case 2:
            return `${id}x.${secret}`;
          case 3:
            return `${id}${secret}`;
          case 4: {
            const index = at % token.length;
            return token.slice(0, index) + foreign + token.slice(index + 1);
          }
          default:
            return `${token}.${secret}`;
        }
      });
    fc.assert(
      fc.property(nearMisses, (text) => {
        expect(parseLinkToken(text)).toBeNull();
      }),
    );
  });

  it('compare hashes in constant time and only equal ones match', () => {
    const issued = issueLinkToken(tenant);
    expect(sameTokenHash(issued.tokenHash, parseLinkToken(issued.token)!.tokenHash)).toBe(true);
    expect(sameTokenHash(issued.tokenHash, issueLinkToken(tenant).tokenHash)).toBe(false);
    expect(sameTokenHash(issued.tokenHash, '')).toBe(false);
    expect(sameTokenHash('', '')).toBe(false);
  });

  it('are issued only for a tenant id, a GUID and nothing around it', () => {
    expect(() => issueLinkToken('not-a-guid')).toThrow(/tenant id/);
    expect(() => issueLinkToken(`x${tenant}`)).toThrow(/tenant id/);
    expect(() => issueLinkToken(`${tenant}x`)).toThrow(/tenant id/);
  });
});

describe('link rules', () => {
  const now = new Date('2026-03-02T09:00:00Z');
  it('refuse used, revoked and expired links with their codes', () => {
    expect(linkProblem({ status: 'active', expiresAt: '2026-03-03T00:00:00Z' }, now)).toBeNull();
    expect(linkProblem({ status: 'active', expiresAt: '2026-03-02T09:00:00Z' }, now)?.code).toBe(
      'invitation-expired',
    );
    expect(linkProblem({ status: 'used', expiresAt: '2026-04-01T00:00:00Z' }, now)?.code).toBe(
      'invitation-used',
    );
    expect(linkProblem({ status: 'revoked', expiresAt: '2026-04-01T00:00:00Z' }, now)?.code).toBe(
      'invitation-revoked',
    );
  });

  it('tell the holder of a link why it no longer works, with 410', () => {
    expect(linkProblem({ status: 'used', expiresAt: '2026-04-01T00:00:00Z' }, now)).toMatchObject({
      status: 410,
      detail: 'This invitation has already been accepted; a link works once.',
    });
    expect(
      linkProblem({ status: 'revoked', expiresAt: '2026-04-01T00:00:00Z' }, now),
    ).toMatchObject({ status: 410, detail: 'The sender withdrew this invitation.' });
    expect(
      linkProblem({ status: 'active', expiresAt: '2026-03-02T08:59:59.999Z' }, now),
    ).toMatchObject({
      status: 410,
      detail: 'This invitation expired on 2026-03-02T08:59:59.999Z.',
    });
  });

  it('answer an unknown link with one 404, whatever the reason', () => {
    expect(unknownLink()).toMatchObject({
      code: 'not-found',
      status: 404,
      detail: 'This link is not valid: it may be incomplete, or it was never issued.',
    });
  });
});
