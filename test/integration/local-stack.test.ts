import { request as httpRequest } from 'node:http';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOutbox } from '../../shared/adapters/email/file-outbox';
import { defineTimer } from '../../shared/functions';
import { functionTable } from '../../functions/table';
import { startLocalHost } from '../../shared/local/host';
import { freePort, startTestApp, type TestApp } from '../support/app';
import { profile } from '../support/builders';
import { enrollmentForm } from '../support/enrollment';
import { newTenantId } from '../support/ids';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

describe('npm start (the local stack)', () => {
  it('answers health with cosmos ok, GET /api/me for a partner an operator created, and prints the links of each email it sends', async () => {
    const workdir = await mkdtemp(path.join(os.tmpdir(), 'pt-start-'));
    const port = await freePort();
    const env = {
      ...process.env,
      PORT: String(port),
      COSMOS_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
      DEV_KEY_FILE: path.join(workdir, 'key.json'),
      EMAIL_OUTBOX_DIR: path.join(workdir, 'outbox'),
    };
    const child = spawn(process.execPath, [path.join(root, 'dist/local/start.js')], {
      cwd: workdir,
      env,
      stdio: 'pipe',
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const base = `http://127.0.0.1:${port}`;
      let health: Response | undefined;
      for (let waited = 0; waited < 60_000 && health?.status !== 200; waited += 250) {
        health = await fetch(`${base}/api/health`).catch(() => undefined);
        if (health?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(health?.status, output).toBe(200);
      expect(await health!.json()).toMatchObject({ status: 'ok', checks: { cosmos: 'ok' } });
      expect(output).toContain('embedded emulator');

      const token = async (...args: string[]): Promise<string> =>
        (
          await run(process.execPath, [path.join(root, 'dist/local/token.js'), ...args], {
            cwd: workdir,
            env,
          })
        ).stdout.trim();
      const partnerId = newTenantId();
      const operator = await token(
        '--tenant',
        '00000000-0000-0000-0000-0000000000ff',
        '--roles',
        'Operator',
      );
      const put = await fetch(`${base}/api/operator/partners/${partnerId}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          companyName: 'Contoso',
          mpnId: '1234567',
          country: 'US',
          mpnVerified: true,
          programs: { directBill: true },
        }),
      });
      expect(put.status).toBe(201);
      const admin = await token('--tenant', partnerId, '--roles', 'GlobalAdmin');
      const claims = (jwt: string): Record<string, unknown> =>
        JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
      // GlobalAdmin is the directory role, as Entra issues it; not an app role.
      expect(claims(admin)).toMatchObject({
        wids: ['62e90394-69f5-4237-9190-012177145e10'],
        scp: 'access_as_user',
      });
      expect(claims(admin).roles).toBeUndefined();
      const automation = await token('--tenant', partnerId, '--roles', 'AdminAgent', '--app');
      expect(claims(automation)).toMatchObject({ idtyp: 'app', roles: ['AdminAgent'] });
      expect(claims(automation).scp).toBeUndefined();
      const asApp = await fetch(`${base}/api/me/enrollment`, {
        method: 'POST',
        headers: { authorization: `Bearer ${automation}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(asApp.status).toBe(403);
      const me = await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${admin}` } });
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({
        partnerId,
        companyName: 'Contoso',
        partnerType: 'direct-bill',
      });

      // An enrollment approved at once queues an email; the deliverEmails timer, run now, sends
      // it to the .eml outbox and prints its links.
      const send = (method: string, route: string, body: unknown) =>
        fetch(`${base}/api/${route}`, {
          method,
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const record = { companyName: 'Contoso', mpnId: '1234567' };
      expect((await send('PUT', 'me/profile', profile(record))).status).toBe(200);
      expect((await send('POST', 'me/enrollment', enrollmentForm(record))).status).toBe(201);
      const timer = await fetch(`${base}/admin/functions/deliverEmails`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(timer.status).toBe(202);
      const printed = /^ {2}link: (http:\/\/\S+)$/m;
      for (let waited = 0; waited < 30_000 && !printed.test(output); waited += 250)
        await new Promise((resolve) => setTimeout(resolve, 250));
      expect(output).toMatch(/email to pat\.lee@contoso\.example: /);
      expect(printed.exec(output)?.[1]).toContain(`http://localhost:7071/api/links/`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(workdir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('npm run outbox (the local mailbox)', () => {
  it('lists the .eml files newest first, with recipient, subject and links', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'pt-mailbox-'));
    try {
      let now = new Date('2026-03-02T09:00:00Z');
      const outbox = new FileOutbox(directory, 'DoNotReply@partner-transition.local', () => now);
      const message = (to: string, subject: string, link: string) => ({
        to,
        subject,
        text: `Hello,\n\nFollow ${link}\n`,
        html: `<a href="${link}">link</a>`,
        links: [link],
      });
      await outbox.send(
        message('first@example.com', 'First', 'http://localhost:7071/api/links/a/1'),
        'c0000000-0000-4000-8000-000000000001',
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      now = new Date('2026-03-02T10:00:00Z');
      await outbox.send(
        message('second@example.com', 'Second', 'http://localhost:7071/api/links/b/2'),
        'c0000000-0000-4000-8000-000000000002',
      );
      const { stdout } = await run(process.execPath, [path.join(root, 'dist/local/outbox.js')], {
        env: { ...process.env, EMAIL_OUTBOX_DIR: directory },
      });
      const second = stdout.indexOf('to second@example.com');
      const first = stdout.indexOf('to first@example.com');
      expect(second).toBeGreaterThanOrEqual(0);
      expect(first).toBeGreaterThan(second);
      expect(stdout).toContain('subject: Second');
      expect(stdout).toContain('link: http://localhost:7071/api/links/b/2');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});

describe('the local host', () => {
  const runs: string[] = [];
  let app: TestApp;
  const table = [
    ...functionTable,
    defineTimer({
      name: 'recordRun',
      schedule: '0 */5 * * * *',
      description: 'test timer',
      handler: async (timer) => {
        runs.push(String(timer.isPastDue));
      },
    }),
  ];
  beforeAll(async () => {
    app = await startTestApp({ table });
  });
  afterAll(() => app.close());

  it('runs a timer on POST /admin/functions/{name}, answering 202 like the Functions host', async () => {
    const response = await fetch(`${app.url}/admin/functions/recordRun`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(202);
    await expect.poll(() => runs.length).toBe(1);
  });

  it('runs timers on their six-field NCRONTAB schedule (seconds first)', async () => {
    const ticks: string[] = [];
    const host = await startLocalHost({
      table: [
        defineTimer({
          name: 'everySecond',
          schedule: '*/1 * * * * *',
          description: 'test timer',
          handler: async () => {
            ticks.push(new Date().toISOString());
          },
        }),
      ],
      services: app.services,
      port: 0,
      runTimers: true,
      log: () => undefined,
    });
    try {
      await expect.poll(() => ticks.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      // Seconds-first: two runs are about a second apart, not a minute.
      expect(Date.parse(ticks[1]!) - Date.parse(ticks[0]!)).toBeLessThan(5_000);
    } finally {
      await host.close();
    }
  });

  it('refuses /admin/functions/* to a web page (any Origin) and to a Host other than localhost', async () => {
    const post = (headers: Record<string, string>, name = 'recordRun') =>
      new Promise<number>((resolve, reject) => {
        const request = httpRequest(
          `${app.url}/admin/functions/${name}`,
          { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
          (response) => {
            response.resume();
            resolve(response.statusCode!);
          },
        );
        request.on('error', reject);
        request.end('{}');
      });
    const before = runs.length;
    const port = new URL(app.url).port;
    expect(await post({ origin: 'https://evil.example' })).toBe(403);
    expect(await post({ origin: 'null' })).toBe(403);
    expect(await post({ origin: app.url })).toBe(403);
    expect(await post({ host: `rebound.evil.example:${port}` })).toBe(403);
    expect(await post({ host: `localhost.evil.example` })).toBe(403);
    expect(await post({ host: `localhost:${port}` }, '%E0%A4%A')).toBe(404);
    expect(await post({ host: `localhost:${port}` })).toBe(202);
    expect(await post({ host: `127.0.0.1:${port}` })).toBe(202);
    await expect.poll(() => runs.length).toBe(before + 2);
  });

  it('answers an unknown function name with 404', async () => {
    const response = await fetch(`${app.url}/admin/functions/nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(404);
  });
});
