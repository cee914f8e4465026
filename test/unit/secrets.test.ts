import { describe, expect, it } from 'vitest';
import { auditEvent, isAuditEventId } from '../../shared/domain/audit';
import { systemActor } from '../../shared/domain/principal';
import { InvocationContext } from '@azure/functions';
import { defineTimer } from '../../shared/functions';
import { ManualClock } from '../support/clock';
import { redactFields, redactSecrets } from '../../shared/redact';
import { issueLinkToken } from '../../shared/app/link-tokens';

describe('structural redaction', () => {
  it('replaces the known secret fields of log properties, whatever their value looks like', () => {
    const redacted = JSON.stringify(
      redactFields({
        emailId: 'e-1',
        token: 'anything-at-all',
        nested: [{ link: 'https://x/api/links/a#b', Authorization: 'Bearer x' }],
        'Idempotency-Key': 'retry-1',
      }),
    );
    for (const secret of ['anything-at-all', 'https://x/api/links', 'Bearer x', 'retry-1'])
      expect(redacted).not.toContain(secret);
    expect(redacted).toContain('"emailId":"e-1"');
  });

  it('finds a link token whose partition part starts with a dash (no word boundary)', () => {
    const misses = Array.from(
      { length: 400 },
      (_, index) =>
        issueLinkToken(
          `f${((index % 4) + 8).toString(16)}000000-0000-4000-8000-00000000000${index % 10}`,
        ).token,
    ).filter((token) => redactSecrets(`link ${token}.`).includes(token.split('.')[1]!));
    expect(misses).toEqual([]);
  });
});

describe('redactSecrets', () => {
  it('removes keys, tokens and link secrets from a log line, keeping the rest', () => {
    const link = issueLinkToken('11111111-2222-3333-4444-555555555555').token;
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJl';
    const line = [
      'AccountEndpoint=https://x.documents.azure.com/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30==;',
      'endpoint=https://acs.example/;accesskey=ZmFrZS1rZXk=',
      'https://blob.example/c?sv=2024&sig=abc%2Bdef&se=1',
      `Authorization: Bearer ${jwt}`,
      `token ${jwt} alone`,
      `https://app.example/api/links/partner-invitations/${link} failed`,
      '{"kty":"RSA","n":"public","e":"AQAB","d":"private-exponent","p":"prime"}',
    ].join('\n');
    const redacted = redactSecrets(line);
    for (const secret of [
      'C2y6yDjf5',
      'ZmFrZS1rZXk=',
      'abc%2Bdef',
      jwt,
      link.split('.')[1]!,
      'private-exponent',
      'prime',
    ])
      expect(redacted).not.toContain(secret);
    expect(redacted).toContain('AccountEndpoint=https://x.documents.azure.com/');
    expect(redacted).toContain('"n":"public"');
    expect(redacted).toContain('failed');
  });

  it('leaves ordinary lines alone', () => {
    const line =
      'email 6f1c (partner-invitation) attempt 2 failed; retrying in 60s {"emailId":"6f1c"}';
    expect(redactSecrets(line)).toBe(line);
  });
});

describe('audit event ids', () => {
  it('are recognisable, so a delete of one can be refused by id alone', () => {
    const event = auditEvent(
      '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      'p',
      new Date(),
      systemActor,
      'x',
    );
    expect(isAuditEventId(event.id)).toBe(true);
    for (const other of [
      '11111111-2222-3333-4444-555555555555',
      'link-abc',
      'mpn-1234567',
      'rate-invitations-2026-03-02T09',
    ])
      expect(isAuditEventId(other)).toBe(false);
  });
});

describe('a failed timer', () => {
  it('leaves with its error redacted, since the Functions host logs it as it is', async () => {
    const timer = defineTimer({
      name: 'leaky',
      schedule: '0 0 * * * *',
      description: 'fails quoting a key',
      handler: async () => {
        throw new Error('cannot reach https://x.example;AccountKey=c2VjcmV0LWtleQ==');
      },
    });
    const saved: unknown[] = [];
    const services = {
      config: { cosmos: { deadlineMs: { timer: 1_000 } } },
      clock: new ManualClock(),
      operations: { heartbeat: async () => null, save: async (doc: unknown) => saved.push(doc) },
      // The repositories an invocation gets: these same ones.
      forInvocation: (): unknown => services,
    };
    const lines: string[] = [];
    const context = new InvocationContext({
      functionName: 'leaky',
      logHandler: (_level, ...args) => lines.push(args.join(' ')),
    });
    const failure = timer.handler({} as never, context, services as never);
    await expect(failure).rejects.toThrow('AccountKey=[redacted]');
    await expect(failure).rejects.not.toThrow('c2VjcmV0LWtleQ');
    // Its log lines and its heartbeat carry the error redacted too.
    expect(lines.join('\n')).not.toContain('c2VjcmV0LWtleQ');
    expect(JSON.stringify(saved)).toContain('AccountKey=[redacted]');
    expect(JSON.stringify(saved)).not.toContain('c2VjcmV0LWtleQ');
  });
});
