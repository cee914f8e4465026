import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { redactFields, redactSecrets } from '../../shared/redact';
import { newWebhookSecret, openSecret, sealSecret } from '../../shared/adapters/webhooks/secrets';

const serverKey = randomBytes(32);

describe('webhook secrets', () => {
  it('are whsec_ and 32 random bytes in base64, which Standard Webhooks signs with', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(new Webhook(secret).sign('evt_1', new Date(), '{}')).toMatch(/^v1,/);
    expect(newWebhookSecret()).not.toBe(secret);
  });

  it('are stored sealed: a JSON-safe string that does not hold the secret', () => {
    const secret = newWebhookSecret();
    const sealed = sealSecret(secret, serverKey);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(secret.slice('whsec_'.length, 20));
    expect(JSON.parse(JSON.stringify({ sealed })).sealed).toBe(sealed);
    expect(sealSecret(secret, serverKey)).not.toBe(sealed);
    expect(openSecret(sealed, serverKey)).toBe(secret);
  });

  it('open only under the server secret they were sealed with', () => {
    const sealed = sealSecret(newWebhookSecret(), serverKey);
    expect(() => openSecret(sealed, randomBytes(32))).toThrow(/could not be opened/);
  });

  it('open under the server secret before a rotation too, whichever comes first', () => {
    const [current, previous] = [randomBytes(32), randomBytes(32)];
    const secret = newWebhookSecret();
    const sealedBefore = sealSecret(secret, previous);
    expect(openSecret(sealedBefore, [current, previous])).toBe(secret);
    expect(openSecret(sealSecret(secret, current), [current, previous])).toBe(secret);
    expect(() => openSecret(sealedBefore, [current, randomBytes(32)])).toThrow(
      /could not be opened/,
    );
  });

  it('still open, each under its own server secret, after many deliveries opened secrets under other server secrets (the sealing key is derived once per server secret)', () => {
    const secret = newWebhookSecret();
    const [current, previous] = [randomBytes(32), randomBytes(32)];
    const sealedBefore = sealSecret(secret, previous);
    // Other hosts' or tests' server secrets, of the same length and the same first bytes.
    const others = Array.from({ length: 50 }, () =>
      Buffer.concat([previous.subarray(0, 16), randomBytes(16)]),
    );
    for (let delivery = 0; delivery < 1_000; delivery += 1) {
      const other = others[delivery % others.length]!;
      const another = newWebhookSecret();
      expect(openSecret(sealSecret(another, other), [current, other])).toBe(another);
      expect(() => openSecret(sealedBefore, [current, other])).toThrow(/could not be opened/);
    }
    expect(openSecret(sealedBefore, [current, previous])).toBe(secret);
    // The same server secret read again (another Buffer, the same bytes) opens it too.
    expect(openSecret(sealedBefore, [Buffer.from(current), Buffer.from(previous)])).toBe(secret);
  });

  it('refuse to open once altered', () => {
    const sealed = sealSecret(newWebhookSecret(), serverKey);
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(() => openSecret(flipped, serverKey)).toThrow(/could not be opened/);
    expect(() => openSecret('whsec_plain', serverKey)).toThrow(/Not a sealed webhook secret/);
  });

  it('say nothing of the secret when they cannot be opened', () => {
    const secret = newWebhookSecret();
    const sealed = sealSecret(secret, serverKey);
    const message = (() => {
      try {
        openSecret(sealed, randomBytes(32));
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).not.toContain(secret);
    expect(message).not.toContain(sealed);
  });
});

describe('webhook secrets in logs', () => {
  it('are redacted from a log line and from log properties', () => {
    const secret = newWebhookSecret();
    expect(redactSecrets(`signing with ${secret}, then retrying`)).toBe(
      'signing with whsec_[redacted], then retrying',
    );
    expect(JSON.stringify(redactFields({ webhookId: 'wh_1', secrets: [secret] }))).not.toContain(
      secret,
    );
  });
});
