import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';
import { AcsEmailSender } from '../../shared/adapters/email/acs-sender';
import type { PartnerDocument, WriteOperation } from '../../shared/app/ports';
import type { AuditEvent } from '../../shared/domain/audit';
import { override, startTestApp, type TestApp, type TokenOptions } from '../support/app';
import { createPartnerWithProfile, uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { activeReseller, submitEnrollment } from '../support/enrollment';
import { startFakeAcs, type FakeAcs } from '../support/fake-acs';
import { createProvider, tokenOf } from '../support/providers';

/**
 * A realistic run through the app, with ACS as the email service, then a search of every
 * stored document of every container and every captured log line for anything secret.
 */
let acs: FakeAcs;
let app: TestApp;
const tokensUsed: string[] = [];
const writes: { partnerId: string; operation: WriteOperation<PartnerDocument> }[] = [];
const poisonTenant = randomUUID();
const fakeAccountKey = 'QUNDT1VOVC1LRVktdGhhdC1tdXN0LW5ldmVyLWJlLWxvZ2dlZA==';

beforeAll(async () => {
  acs = await startFakeAcs();
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    emailSender: new AcsEmailSender({ connectionString: acs.connectionString }, 'a@b.example', 5),
    decorate: (services) => ({
      ...services,
      partners: override(services.partners, {
        async get(partnerId) {
          // An SDK error quoting a connection string and the caller's token.
          if (partnerId === poisonTenant) {
            throw new Error(
              `request failed: AccountEndpoint=https://x/;AccountKey=${fakeAccountKey}; Authorization: Bearer ${tokensUsed.at(-1)}`,
            );
          }
          return services.partners.get(partnerId);
        },
        async commit(partnerId, operations) {
          operations.forEach((operation) => writes.push({ partnerId, operation }));
          return services.partners.commit(partnerId, operations);
        },
      }),
    }),
  });
  // Every token the test signs is remembered, to be searched for.
  const sign = app.token;
  app.token = async (options: TokenOptions) => {
    const token = await sign(options);
    tokensUsed.push(token);
    return token;
  };
  const signOperator = app.operatorToken;
  app.operatorToken = async () => {
    const token = await signOperator();
    tokensUsed.push(token);
    return token;
  };
});
afterAll(async () => {
  await app.close();
  await acs.close();
});

const idempotencyKeys: string[] = [];
const linkSecrets = new Set<string>();
const rememberLinks = (text: string): void => {
  for (const match of text.matchAll(
    /\/api\/links\/[a-z-]+#([A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})/g,
  ))
    linkSecrets.add(match[1]!.split('.')[1]!);
};

async function realisticFlow(): Promise<void> {
  const provider = await createProvider(app);
  const reseller = await activeReseller(app, { country: 'US' });
  const key = randomUUID();
  idempotencyKeys.push(key);
  const invite = (mpnId: string) =>
    app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      body: { mpnId, email: 'admin@reseller.example' },
      headers: { 'Idempotency-Key': key },
    });
  const invited = await invite(reseller.record.mpnId!);
  expect(invited.status).toBe(201);
  expect((await invite(reseller.record.mpnId!)).headers.get('idempotent-replayed')).toBe('true');
  rememberLinks(invited.body.link);

  const revokedKey = randomUUID();
  idempotencyKeys.push(revokedKey);
  const revoked = await app.api('POST', '/api/me/reseller-invitations', {
    token: provider.adminToken,
    body: { mpnId: uniqueMpnId(), email: 'other@reseller.example' },
    headers: { 'MS-RequestId': revokedKey },
  });
  rememberLinks(revoked.body.link);
  await app.api('DELETE', `/api/me/reseller-invitations/${revoked.body.invitationId}`, {
    token: provider.adminToken,
  });

  const token = tokenOf(invited.body.link);
  expect(
    (await app.api('POST', '/api/partner-invitations/lookup', { body: { token: token } })).status,
  ).toBe(200);
  expect((await app.api('GET', '/api/links/partner-invitations')).status).toBe(200);
  const accepted = await app.api('POST', '/api/partner-invitations/accept', {
    body: { token: token },
    token: reseller.adminToken,
  });
  expect(accepted.status).toBe(200);

  // A pending enrollment an operator rejects.
  const pending = await createPartnerWithProfile(app, { mpnVerified: false });
  await submitEnrollment(app, pending);
  const decided = await app.api('POST', `/api/operator/enrollments/${pending.partnerId}/decision`, {
    token: await app.operatorToken(),
    body: { decision: 'reject', reason: 'MPN ID could not be verified' },
    headers: { 'Idempotency-Key': randomUUID() },
  });
  expect(decided.status).toBe(200);

  // ACS throttles once, then delivers; the incentives invitation follows.
  acs.script.push({ status: 429, retryAfterSeconds: 30 });
  await app.runTimer('deliverEmails');
  app.clock.advance({ minutes: 5 });
  await app.runTimer('sendIncentiveInvitations');
  await app.runTimer('deliverEmails');
  app.clock.advance({ minutes: 5 });
  await app.runTimer('deliverEmails');
  for (const email of acs.delivered.values()) rememberLinks(email.plainText);
  expect(linkSecrets.size).toBeGreaterThanOrEqual(3);

  // An unexpected error whose message quotes a key and a token.
  const poisoned = await app.api('GET', '/api/me', {
    token: await app.token({ tenant: poisonTenant, roles: ['GlobalAdmin'] }),
  });
  expect(poisoned.status).toBe(500);
}

describe('secrets', () => {
  beforeAll(realisticFlow);

  it('appear in no stored document of any container', async () => {
    const stored = JSON.stringify(await app.allDocuments());
    const secrets = [
      ...linkSecrets,
      ...tokensUsed,
      ...tokensUsed.map((token) => token.split('.')[2]!),
      ...idempotencyKeys,
      app.devKey.privateJwk.d!,
      emulatorKey,
      acs.connectionString.split('accesskey=')[1]!,
    ];
    expect(secrets.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/AccountKey=|accesskey=|Bearer /i);
  });

  it('appear in no log line, even an unexpected error quoting them', async () => {
    const lines = app.logs.map((entry) => `${entry.functionName} ${entry.message}`).join('\n');
    expect(lines).toContain('[redacted');
    expect(app.logs.some((entry) => entry.message.includes('429'))).toBe(true);
    for (const secret of [
      ...linkSecrets,
      ...tokensUsed,
      ...idempotencyKeys,
      app.devKey.privateJwk.d!,
      fakeAccountKey,
      acs.connectionString.split('accesskey=')[1]!,
    ])
      expect(lines).not.toContain(secret);
    expect(lines).not.toMatch(/AccountKey=(?!\[redacted\])|accesskey=(?!\[redacted\])/i);
  });
});

describe('audit events', () => {
  it('are only ever created: no write of the run replaced, upserted or deleted one', async () => {
    const created = writes.filter(
      ({ operation }) => operation.op === 'create' && operation.document.type === 'audit',
    );
    expect(created.length).toBeGreaterThan(10);
    const others = writes.filter(({ operation }) =>
      operation.op === 'delete'
        ? created.some(
            ({ operation: audit }) => audit.op === 'create' && audit.document.id === operation.id,
          )
        : operation.op !== 'create' &&
          'document' in operation &&
          operation.document.type === 'audit',
    );
    expect(others).toEqual([]);
    // Each is stored as it was written.
    for (const { partnerId, operation } of created) {
      if (operation.op !== 'create') continue;
      const stored = await app.documents<AuditEvent>(partnerId, 'audit');
      const found = stored.find((event) => event.id === operation.document.id);
      expect(found).toMatchObject(operation.document as object);
    }
  });

  it('cannot be replaced, upserted or deleted: the repository refuses before Cosmos', async () => {
    const { partnerId } = await createProvider(app);
    const [event] = await app.documents<AuditEvent & { _etag: string }>(partnerId, 'audit');
    const tampered = { ...event!, action: 'nothing-happened' };
    for (const operation of [
      { op: 'replace', document: tampered, etag: event!._etag },
      { op: 'upsert', document: tampered },
      { op: 'delete', id: event!.id },
    ] as WriteOperation<PartnerDocument>[]) {
      await expect(app.services.partners.commit(partnerId, [operation])).rejects.toThrow(
        'audit events are append-only',
      );
    }
    const [after] = await app.documents<AuditEvent>(partnerId, 'audit');
    expect(after).toMatchObject({ action: event!.action, id: event!.id });
  });
});
