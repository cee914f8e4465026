import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets. A partner sees its secret once (docs/api.md, Events); the database
 * keeps it sealed with AES-256-GCM under a key derived from the server secret (IDEMPOTENCY_SECRET,
 * in Key Vault), so a reader of the database cannot sign events. The HKDF label differs from the
 * idempotency store's, so the two keys differ.
 */

const secretPrefix = 'whsec_';
const sealedPrefix = 'v1.';
const ivBytes = 12;
const tagBytes = 16;

/** A new signing secret: `whsec_` and the base64 of 32 random bytes, as Standard Webhooks has it. */
export function newWebhookSecret(): string {
  return `${secretPrefix}${randomBytes(32).toString('base64')}`;
}

/** Each server key's sealing key, derived once (HKDF at every delivery was a CPU cost of its own). */
const sealingKeys = new WeakMap<Buffer, Buffer>();

function sealingKey(serverKey: Buffer): Buffer {
  if (serverKey.length < 32) throw new Error('The server secret is shorter than 32 bytes.');
  let key = sealingKeys.get(serverKey);
  if (key === undefined) {
    key = Buffer.from(
      hkdfSync('sha256', serverKey, 'partner-transition/webhook-secrets', 'webhook-secrets', 32),
    );
    sealingKeys.set(serverKey, key);
  }
  return key;
}

/** The secret sealed for storage: `v1.` and base64url of IV, tag and ciphertext (JSON-safe). */
export function sealSecret(secret: string, serverKey: Buffer): string {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(serverKey), iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${sealedPrefix}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')}`;
}

function opened(bytes: Buffer, serverKey: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealingKey(serverKey),
      bytes.subarray(0, ivBytes),
    );
    decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
    return Buffer.concat([
      decipher.update(bytes.subarray(ivBytes + tagBytes)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}

/**
 * The secret again, under the first server key that opens it: the current server secret, then
 * the one before its last rotation (IDEMPOTENCY_SECRET_PREVIOUS), so a rotation leaves every
 * stored secret readable. Throws (saying nothing of the content) when altered or under no key.
 */
export function openSecret(sealed: string, serverKeys: Buffer | readonly Buffer[]): string {
  const bytes = sealed.startsWith(sealedPrefix)
    ? Buffer.from(sealed.slice(sealedPrefix.length), 'base64url')
    : Buffer.alloc(0);
  if (bytes.length <= ivBytes + tagBytes) throw new Error('Not a sealed webhook secret.');
  for (const serverKey of Buffer.isBuffer(serverKeys) ? [serverKeys] : serverKeys) {
    const secret = opened(bytes, serverKey);
    if (secret !== undefined) return secret;
  }
  throw new Error(
    'A sealed webhook secret could not be opened: it was altered, or sealed under another server secret.',
  );
}
