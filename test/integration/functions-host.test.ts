import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import { hostBodyLimitBytes } from '../../shared/http/define';
import { defineTimer } from '../../shared/functions';
import { lateLogWarning, startLocalHost, type LocalHost } from '../../shared/local/host';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, globalAdminToken, masterRecord, profile } from '../support/builders';
import { newCustomer } from '../support/customers';
import { startWebhookReceiver } from '../support/webhook-receiver';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A request as any HTTP client may send it, header by header (repeated ones too, as a flat list),
 * with no Content-Length unless given: Node then sends the body chunked, as .NET's
 * PostAsJsonAsync and any streaming client do. `agent: false`: a new connection each time.
 */
function send(
  url: string,
  method: string,
  headers: OutgoingHttpHeaders,
  body?: string | Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const request = httpRequest(url, { method, headers, agent: false }, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    // A host that answers before reading the body may close the connection under the writer.
    request.on('error', (error) => (answered ? undefined : reject(error)));
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/** Header lines written as they are, a repeated one included (Node's client would merge them). */
function sendLines(url: string, lines: string[]): Promise<{ status: number; text: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        [`GET ${pathname} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', ...lines]
          .concat('', '')
          .join('\r\n'),
      ),
    );
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('end', () =>
      resolve({
        status: Number(answer.split(' ')[1]),
        text: answer.slice(answer.indexOf('\r\n\r\n') + 4),
      }),
    );
  });
}

let app: TestApp;
let adminToken: string;
let record: ReturnType<typeof masterRecord>;

beforeAll(async () => {
  app = await startTestApp({
    env: { RATE_LIMIT_LINK_LOOKUPS_BURST: '2', RATE_LIMIT_LINK_LOOKUPS_PER_MINUTE: '1' },
  });
  const created = await createPartner(app);
  record = created.record;
  adminToken = await globalAdminToken(app, created.partnerId);
});
afterAll(() => app.close());

const problemOf = (response: RawResponse) => ({
  status: response.status,
  contentType: response.headers['content-type'],
  code: (JSON.parse(response.text) as { code: string }).code,
});

describe('request bodies, as the Functions host forwards them', () => {
  it('drops a body sent chunked (no Content-Length), and the app answers 411 length-required instead of a missing field', async () => {
    const response = await send(
      `${app.url}/api/me/profile`,
      'PUT',
      { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      JSON.stringify(profile(record)),
    );
    expect(problemOf(response)).toEqual({
      status: 411,
      contentType: 'application/problem+json; charset=utf-8',
      code: 'length-required',
    });
    expect(JSON.parse(response.text).detail).toContain('Content-Length');
    const me = await app.api('GET', '/api/me', { token: adminToken });
    expect(me.body.profile ?? null).toBeNull();
  });

  it('forwards the same body sent with its Content-Length', async () => {
    const body = JSON.stringify(profile(record));
    const response = await send(
      `${app.url}/api/me/profile`,
      'PUT',
      {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    );
    expect(response.status).toBe(200);
  });

  it("answers a body over the app's 64 KiB and under the host's limit with the app's 413 problem+json", async () => {
    const body = JSON.stringify({ ...profile(record), companyName: 'x'.repeat(1024 * 1024) });
    const response = await send(
      `${app.url}/api/me/profile`,
      'PUT',
      {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    );
    expect(problemOf(response)).toMatchObject({ status: 413, code: 'payload-too-large' });
  });

  it('answers a body over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT as the host does: an empty 500, before the app runs', async () => {
    const before = app.logs.length;
    const response = await send(
      `${app.url}/api/me/profile`,
      'PUT',
      {
        authorization: `Bearer ${adminToken}`,
        'content-type': 'application/json',
        'content-length': String(hostBodyLimitBytes + 1),
      },
      '{',
    );
    expect(response.status).toBe(500);
    expect(response.text).toBe('');
    expect(app.logs.slice(before).filter((entry) => !entry.system)).toEqual([]);
  });
});

describe('routes, as the Functions host matches them', () => {
  it('answers an unknown route with 404 problem+json, from the function tried last', async () => {
    const response = await send(`${app.url}/api/nowhere/at/all`, 'GET', {});
    expect(problemOf(response)).toMatchObject({ status: 404, code: 'not-found' });
    expect(app.logs.at(-1)?.functionName).toBe('zzUnmatchedRoute');
  });

  it('answers a known route with a method it lacks, HEAD included, with 405 and Allow', async () => {
    const del = await send(`${app.url}/api/me`, 'DELETE', {});
    expect(problemOf(del)).toMatchObject({ status: 405, code: 'method-not-allowed' });
    expect(del.headers.allow).toBe('GET');
    const head = await send(`${app.url}/api/health`, 'HEAD', {});
    expect(head.status).toBe(405);
    expect(head.headers.allow).toBe('GET');
    expect(head.text).toBe('');
  });

  it('routes /API/ as /api/: the prefix is a literal of the route, matched case-insensitively', async () => {
    const response = await send(`${app.url}/API/ME`, 'GET', {});
    expect(problemOf(response)).toMatchObject({ status: 401, code: 'unauthenticated' });
  });

  it('answers a path outside the prefix with an empty 404, and / with the host home page', async () => {
    const outside = await send(`${app.url}/nowhere`, 'GET', {});
    expect(outside.status).toBe(404);
    expect(outside.text).toBe('');
    const home = await send(`${app.url}/`, 'GET', {});
    expect(home.status).toBe(200);
    expect(home.headers['content-type']).toBe('text/html');
  });

  it('keeps an escaped slash inside a route value, as Kestrel decodes every escape but %2F', async () => {
    const response = await send(`${app.url}/api/me/customers/a%2Fb`, 'GET', {
      authorization: `Bearer ${adminToken}`,
    });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text).errors[0].path).toBe('params.customerId');
  });

  it('refuses a NUL in the path with 400, as Kestrel does', async () => {
    expect((await send(`${app.url}/api/health%00`, 'GET', {})).status).toBe(400);
  });
});

describe('query strings and headers, as the Node.js worker receives them', () => {
  it('joins a repeated query key with a comma (case-insensitively), so a repeated pageSize is 400, as on Azure', async () => {
    for (const query of ['pageSize=10&pageSize=20', 'pageSize=10&PageSize=20']) {
      const response = await app.api('GET', `/api/me/customers?${query}`, { token: adminToken });
      expect(response.status, query).toBe(400);
      expect(response.body.errors.map((error: { path: string }) => error.path)).toEqual([
        'query.pageSize',
      ]);
    }
    const once = await app.api('GET', '/api/me/customers?pageSize=10', { token: adminToken });
    expect(once.status).toBe(200);
  });

  it('joins a repeated header with a comma: two Authorization headers are one invalid one (401)', async () => {
    const once = await sendLines(`${app.url}/api/me`, [`Authorization: Bearer ${adminToken}`]);
    expect(once.status).toBe(200);
    const twice = await sendLines(`${app.url}/api/me`, [
      `Authorization: Bearer ${adminToken}`,
      `Authorization: Bearer ${adminToken}`,
    ]);
    expect(twice.status).toBe(401);
    expect(JSON.parse(twice.text)).toMatchObject({ code: 'unauthenticated' });
  });

  it('counts a client by its address, not its connection: the front end writes ip:port, and each new connection has a new port', async () => {
    const lookup = () =>
      send(
        `${app.url}/api/partner-invitations/lookup`,
        'POST',
        { 'content-type': 'application/json', 'content-length': '2' },
        '{}',
      );
    const statuses = [(await lookup()).status, (await lookup()).status, (await lookup()).status];
    expect(statuses.slice(0, 2)).not.toContain(429);
    expect(statuses[2]).toBe(429);
  });
});

describe('work after the answer', () => {
  const lateLogger: HttpFunctionDefinition = {
    kind: 'http',
    name: 'lateLogger',
    methods: ['GET'],
    route: 'late',
    access: { kind: 'anonymous' },
    spec: {} as HttpFunctionDefinition['spec'],
    handler: async (_request, context) => {
      setTimeout(() => context.log('a line after the answer'), 10);
      return { status: 204 };
    },
  };

  it('flags a log call after the invocation finished, as @azure/functions does, and drops the line, as the host does', async () => {
    const late = await startTestApp({ table: [...functionTable, lateLogger] });
    try {
      expect((await send(`${late.url}/api/late`, 'GET', {})).status).toBe(204);
      await expect
        .poll(() => late.logs.filter((entry) => entry.message.startsWith(lateLogWarning)))
        .toHaveLength(1);
      expect(late.logs.some((entry) => entry.message.includes('a line after the answer'))).toBe(
        false,
      );
    } finally {
      await late.close();
    }
  });

  it('logs nothing after the answer when prompt delivery delivers an event', async () => {
    const prompt = await startTestApp({ env: { EVENTS_PROMPT_DELIVERY: 'true' } });
    const secrets: string[] = [];
    const hook = await startWebhookReceiver({ secrets });
    try {
      const { partnerId, record: own } = await createPartner(prompt);
      const token = await globalAdminToken(prompt, partnerId);
      expect(
        (await prompt.api('PUT', '/api/me/profile', { token, body: profile(own) })).status,
      ).toBe(200);
      const webhook = await prompt.api('POST', '/api/me/webhooks', {
        token,
        body: { url: hook.url, events: ['customer.created'] },
      });
      secrets.push(webhook.body.secret);
      const created = await prompt.api('POST', '/api/me/customers', {
        token,
        body: newCustomer(),
      });
      expect(created.status).toBe(201);
      // Delivered by prompt delivery (the timer is not run), and recorded as delivered.
      await expect.poll(() => hook.received.length, { timeout: 10_000 }).toBe(1);
      await expect
        .poll(
          async () =>
            (
              await prompt.api('GET', `/api/me/webhooks/${webhook.body.webhookId}/deliveries`, {
                token,
              })
            ).body.items?.[0]?.status,
          { timeout: 10_000 },
        )
        .toBe('delivered');
      expect(prompt.logs.filter((entry) => entry.message.startsWith(lateLogWarning))).toEqual([]);
    } finally {
      await hook.close();
      await prompt.close();
    }
  });
});

describe('running a timer by hand: POST /admin/functions/{name}, as the Functions host answers it', () => {
  const runs: boolean[] = [];
  const recordRun = defineTimer({
    name: 'recordRun',
    schedule: '0 0 * * * *',
    description: 'test timer',
    handler: async (timer) => {
      runs.push(timer.isPastDue);
    },
  });
  let host: LocalHost;
  beforeAll(async () => {
    host = await startLocalHost({
      table: [recordRun],
      services: app.services,
      port: 0,
      runTimers: false,
      masterKey: 'the-master-key',
      log: () => undefined,
    });
  });
  afterAll(() => host.close());

  const post = (headers: OutgoingHttpHeaders, body?: string, query = '') =>
    send(
      `${host.url}/admin/functions/recordRun${query}`,
      'POST',
      {
        host: new URL(host.url).host,
        ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        ...headers,
      },
      body,
    );
  const json = { 'content-type': 'application/json' };

  it('asks for the master key when one is set: x-functions-key or ?code=, else 401', async () => {
    expect((await post(json, '{}')).status).toBe(401);
    expect((await post({ ...json, 'x-functions-key': 'wrong' }, '{}')).status).toBe(401);
    const before = runs.length;
    expect((await post({ ...json, 'x-functions-key': 'the-master-key' }, '{}')).status).toBe(202);
    expect((await post(json, '{}', '?code=the-master-key')).status).toBe(202);
    await expect.poll(() => runs.length).toBe(before + 2);
  });

  it("takes only a JSON object body: curl's -d '{}' alone (form-urlencoded) is 415, no body or not an object is 400", async () => {
    const key = { 'x-functions-key': 'the-master-key' };
    const form = { ...key, 'content-type': 'application/x-www-form-urlencoded' };
    expect((await post(form, '{}')).status).toBe(415);
    expect((await post(key, '{}')).status).toBe(415);
    expect((await post({ ...key, ...json })).status).toBe(400);
    expect((await post({ ...key, ...json }, '[]')).status).toBe(400);
    expect((await post({ ...key, ...json }, '{"input":"now"}')).status).toBe(202);
  });

  it('answers 404 for a function it does not know', async () => {
    const response = await send(
      `${host.url}/admin/functions/nope`,
      'POST',
      {
        'x-functions-key': 'the-master-key',
        ...json,
        'content-length': '2',
      },
      '{}',
    );
    expect(response.status).toBe(404);
  });
});

describe('timers after downtime, as the Functions host keeps their schedule (schedule monitoring)', () => {
  it('runs a timer once, past due, when the host starts after an occurrence was missed, and records the run', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'pt-timers-'));
    const runs: Timer[] = [];
    const hourly = defineTimer({
      name: 'hourlyJob',
      schedule: '0 0 * * * *',
      description: 'test timer',
      handler: async (timer) => {
        runs.push(timer);
      },
    });
    const missed = new Date(Date.now() - 2 * 3600_000);
    missed.setUTCMinutes(0, 0, 0);
    const stored = { last: new Date(missed.getTime() - 3600_000), next: missed };
    await writeFile(
      path.join(directory, 'hourlyJob.status.json'),
      JSON.stringify({ ...stored, lastUpdated: stored.last }),
    );
    const host = await startLocalHost({
      table: [hourly],
      services: app.services,
      port: 0,
      runTimers: true,
      scheduleStatusDir: directory,
      log: () => undefined,
    });
    try {
      await expect.poll(() => runs.length).toBe(1);
      expect(runs[0]).toMatchObject({
        isPastDue: true,
        scheduleStatus: { next: missed.toISOString() },
      });
      // The file holds the missed occurrence until the host records the run: wait for that.
      await expect
        .poll(
          async () =>
            (
              JSON.parse(await readFile(path.join(directory, 'hourlyJob.status.json'), 'utf8')) as {
                next: string;
              }
            ).next,
        )
        .not.toBe(missed.toISOString());
      const status = JSON.parse(
        await readFile(path.join(directory, 'hourlyJob.status.json'), 'utf8'),
      ) as { next: string };
      expect(status.next).toMatch(/T\d\d:00:00\.000Z$/);
      expect(Date.parse(status.next)).toBeGreaterThan(Date.now());
    } finally {
      await host.close();
      await rm(directory, { recursive: true, force: true });
    }
    expect(runs).toHaveLength(1);
  });
});
