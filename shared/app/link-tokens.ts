import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Link tokens: `<partition>.<secret>`. The secret is 256 bits from the CSPRNG, URL-safe; only
 * its SHA-256 is stored, as the id of the invitation document. The partition part (the
 * inviting partner's tenant id, not a secret) lets the link be resolved with one point read
 * and lets the invitation, its email and its audit event be written in one batch.
 */
export interface IssuedLinkToken {
  token: string;
  /** The id of the document the token resolves to. */
  documentId: string;
  tokenHash: string;
}

export interface ParsedLinkToken {
  partitionKey: string;
  documentId: string;
  tokenHash: string;
}

const guid = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;

function hashOf(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export const linkDocumentId = (tokenHash: string): string => `link-${tokenHash}`;

export function issueLinkToken(partitionKey: string): IssuedLinkToken {
  if (!guid.test(partitionKey)) throw new Error('link tokens are issued for a tenant id');
  const partition = Buffer.from(partitionKey.replace(/-/g, ''), 'hex').toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const tokenHash = hashOf(secret);
  return { token: `${partition}.${secret}`, documentId: linkDocumentId(tokenHash), tokenHash };
}

/** Null for anything that is not a token we could have issued (answered as unknown, 404). */
export function parseLinkToken(token: string): ParsedLinkToken | null {
  const match = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  // 22 base64url characters always decode to 16 bytes (132 bits, the last 4 dropped): 32 hex digits.
  const hex = Buffer.from(match[1]!, 'base64url').toString('hex');
  const partitionKey = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const tokenHash = hashOf(match[2]!);
  return { partitionKey, documentId: linkDocumentId(tokenHash), tokenHash };
}

/** Compares the stored hash with the presented one in constant time. */
export function sameTokenHash(stored: string, presented: string): boolean {
  const a = Buffer.from(stored, 'hex');
  const b = Buffer.from(presented, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}
