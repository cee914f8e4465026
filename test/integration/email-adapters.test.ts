import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientSendError } from '../../shared/app/ports';
import { AcsEmailSender } from '../../shared/adapters/email/acs-sender';
import { FileOutbox } from '../../shared/adapters/email/file-outbox';
import { linksIn, parseEml } from '../../shared/adapters/email/mime';
import type { EmailMessage } from '../../shared/domain/email';
import { startFakeAcs, type FakeAcs } from '../support/fake-acs';

const message: EmailMessage = {
  to: 'pat.lee@contoso.example',
  subject: 'Votre inscription est approuvée',
  text: 'Bonjour,\n\nAcceptez le contrat : http://localhost:7071/api/links/x?y=1\n\nÀ bientôt.',
  html: '<p>Bonjour,</p><p><a href="http://localhost:7071/api/links/x?y=1">Accepter</a></p>',
  links: ['http://localhost:7071/api/links/x?y=1'],
};

describe('ACS email adapter against the ACS REST contract', () => {
  let acs: FakeAcs;
  beforeEach(async () => {
    acs = await startFakeAcs();
  });
  afterEach(() => acs.close());

  const sender = () =>
    new AcsEmailSender({ connectionString: acs.connectionString }, 'DoNotReply@contoso.example', 5);

  it('sends a signed request with the operation id and waits for the operation to succeed', async () => {
    const result = await sender().send(message, '6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11');
    expect(result.messageId).toBe('6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11');
    expect(acs.badSignatures).toBe(0);
    expect(acs.delivered.get('6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11')).toEqual({
      to: 'pat.lee@contoso.example',
      subject: 'Votre inscription est approuvée',
      plainText: message.text,
      html: message.html,
    });
    expect(
      acs.requests.map((request) => `${request.method} ${request.path} ${request.status}`),
    ).toEqual([
      'POST /emails:send 202',
      'GET /emails/operations/6f1c8a52-3b0e-4c53-9d5e-2a9c3f1f0a11 200',
    ]);
  });

  it('reports a 429 as transient with its Retry-After, having delivered nothing', async () => {
    acs.script.push({ status: 429, retryAfterSeconds: 42 });
    const error = await sender()
      .send(message, 'a0000000-0000-4000-8000-000000000001')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TransientSendError);
    expect((error as TransientSendError).retryAfterSeconds).toBe(42);
    expect(acs.delivered.size).toBe(0);
  });

  it('reports a 500 as transient', async () => {
    acs.script.push({ status: 500 });
    await expect(
      sender().send(message, 'a0000000-0000-4000-8000-000000000002'),
    ).rejects.toBeInstanceOf(TransientSendError);
  });

  it('sends a repeated operation with the same Operation-Id, so ACS can deliver it once', async () => {
    const operationId = 'a0000000-0000-4000-8000-000000000003';
    await sender().send(message, operationId);
    await sender().send(message, operationId);
    // What the adapter did: two sends, each naming the same operation. Delivering it once is
    // then the provider's idempotency (the fake implements it as ACS documents it).
    const sends = acs.requests.filter(
      (request) => request.method === 'POST' && request.path === '/emails:send',
    );
    expect(sends.filter((send) => send.operationId === operationId)).toHaveLength(2);
  });

  it('is refused by the service when signed with the wrong key', async () => {
    const wrong = new AcsEmailSender(
      {
        connectionString: `endpoint=${acs.endpoint}/;accesskey=${Buffer.from('wrong').toString('base64')}`,
      },
      'DoNotReply@contoso.example',
      5,
    );
    await expect(wrong.send(message, 'a0000000-0000-4000-8000-000000000004')).rejects.toThrow();
    expect(acs.badSignatures).toBe(1);
    expect(acs.delivered.size).toBe(0);
  });
});

describe('file outbox', () => {
  it('writes one RFC 5322 file per email with both bodies, and writes it once', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'outbox-test-'));
    const announced: string[] = [];
    const outbox = new FileOutbox(
      directory,
      'DoNotReply@partner-transition.local',
      () => new Date('2026-03-02T09:00:00Z'),
      (notice) => announced.push(...notice.links),
    );
    await outbox.send(message, 'b0000000-0000-4000-8000-000000000001');
    await outbox.send(message, 'b0000000-0000-4000-8000-000000000001');
    const files = await readdir(directory);
    expect(files).toEqual(['b0000000-0000-4000-8000-000000000001.eml']);
    const raw = await readFile(path.join(directory, files[0]!), 'utf8');
    expect(raw).toMatch(/^From: DoNotReply@partner-transition\.local\r\n/);
    expect(raw).toContain('Subject: =?UTF-8?B?');
    expect(raw.split('\r\n').every((line) => line.length <= 998)).toBe(true);
    // 7-bit: quoted-printable bodies, encoded-word subject.
    expect([...raw].every((char) => char.charCodeAt(0) < 128)).toBe(true);
    const parsed = parseEml(raw);
    expect(parsed).toMatchObject({
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
    });
    expect(linksIn(parsed.text)).toEqual(message.links);
    expect(announced).toEqual(message.links);
  });

  it('still writes the next email when the mailbox directory was removed after the first (one made once, then again)', async () => {
    const directory = path.join(await mkdtemp(path.join(os.tmpdir(), 'outbox-test-')), 'mailbox');
    const outbox = new FileOutbox(
      directory,
      'DoNotReply@partner-transition.local',
      () => new Date('2026-03-02T09:00:00Z'),
    );
    await outbox.send(message, 'b0000000-0000-4000-8000-000000000002');
    expect(await readdir(directory)).toEqual(['b0000000-0000-4000-8000-000000000002.eml']);
    await rm(directory, { recursive: true });
    await outbox.send(message, 'b0000000-0000-4000-8000-000000000003');
    expect(await readdir(directory)).toEqual(['b0000000-0000-4000-8000-000000000003.eml']);
    // And the one after that, in the directory made again.
    await outbox.send(message, 'b0000000-0000-4000-8000-000000000004');
    expect((await readdir(directory)).sort()).toEqual([
      'b0000000-0000-4000-8000-000000000003.eml',
      'b0000000-0000-4000-8000-000000000004.eml',
    ]);
  });

  it('leaves the first file of a send repeated with the same operation id: one file, as first written, nothing left over', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'outbox-test-'));
    let now = new Date('2026-03-02T09:00:00Z');
    const announced: string[] = [];
    const outbox = new FileOutbox(
      directory,
      'DoNotReply@partner-transition.local',
      () => now,
      (notice) => announced.push(notice.file),
    );
    const operationId = 'b0000000-0000-4000-8000-000000000005';
    await outbox.send(message, operationId);
    now = new Date('2026-03-02T09:06:00Z'); // sent again after a crash, once the lease lapsed
    await outbox.send(message, operationId);
    expect(await readdir(directory)).toEqual([`${operationId}.eml`]);
    const raw = await readFile(path.join(directory, `${operationId}.eml`), 'utf8');
    expect(parseEml(raw).date).toBe(new Date('2026-03-02T09:00:00Z').toUTCString());
    expect(announced).toHaveLength(1);
  });
});
