import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, inject } from 'vitest';
import { DependencyUnavailable } from '../../shared/app/ports';
import { failingPartnerWrites, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartner, createPartnerWithProfile, masterRecord } from '../support/builders';
import { newCustomer } from '../support/customers';
import { ManualClock } from '../support/clock';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';
import { createProvider } from '../support/providers';
import { startWebhookReceiver } from '../support/webhook-receiver';

let proxy: CosmosProxy;
let app: TestApp;
beforeAll(async () => {
  proxy = await startCosmosProxy(inject('cosmosEndpoint'));
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    env: { COSMOS_ENDPOINT: proxy.url },
  });
});
afterAll(async () => {
  await app.close();
  await proxy.close();
});
afterEach(() => {
  proxy.faults.length = 0;
});

const attemptsOf = (kind: string) => proxy.seen.filter((request) => request.kind === kind);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work();
  return { result, ms: performance.now() - started };
}

describe('Cosmos throttling (429), retried by the SDK within its bound', () => {
  it('succeeds when reads and writes are throttled a few times', async () => {
    proxy.faults.push(
      { kind: 'write', status: 429, times: 2, retryAfterMs: 10 },
      { kind: 'read', status: 429, times: 3, retryAfterMs: 10 },
    );
    proxy.seen.length = 0;
    const { partnerId } = await createPartner(app);
    const token = await app.token({ tenant: partnerId, roles: ['SalesAgent'] });
    const me = await app.api('GET', '/api/me', { token });
    expect(me.status).toBe(200);
    expect(attemptsOf('write').filter((request) => request.status === 429)).toHaveLength(2);
    expect(attemptsOf('read').filter((request) => request.status === 429)).toHaveLength(3);
  });

  it('answers 503 unavailable in bounded time, with nothing written, when throttling persists', async () => {
    proxy.faults.push({ kind: 'write', status: 429, times: Infinity, retryAfterMs: 10 });
    proxy.seen.length = 0;
    const partnerId = randomUUID();
    const { result: response, ms } = await timed(async () =>
      app.api('PUT', `/api/operator/partners/${partnerId}`, {
        token: await app.operatorToken(),
        body: masterRecord(),
      }),
    );
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('unavailable');
    // Cosmos asked for 10 ms (x-ms-retry-after-ms): the answer rounds it up to whole seconds.
    expect(response.headers.get('retry-after')).toBe('1');
    // The same wait in the body, for clients that read only problem details.
    expect(response.body.retryAfterSeconds).toBe(1);
    // One write, tried once and retried at most maxRetryAttemptCount (5) times.
    expect(attemptsOf('write').length).toBeGreaterThan(1);
    expect(attemptsOf('write').length).toBeLessThanOrEqual(6);
    expect(ms).toBeLessThan(5000);
    proxy.faults.length = 0;
    expect(await app.documents(partnerId)).toEqual([]);
  });
});

describe('Cosmos unavailable (503)', () => {
  it('retries a read (safe to repeat) and succeeds', async () => {
    const { partnerId } = await createPartner(app);
    const token = await app.token({ tenant: partnerId, roles: ['SalesAgent'] });
    proxy.faults.push({ kind: 'read', status: 503, times: 2 });
    proxy.seen.length = 0;
    expect((await app.api('GET', '/api/me', { token })).status).toBe(200);
    expect(attemptsOf('read').map((request) => request.status)).toEqual([503, 503, 200]);
  });

  it('answers 503 in bounded time when reads keep failing', async () => {
    const { partnerId } = await createPartner(app);
    const token = await app.token({ tenant: partnerId, roles: ['SalesAgent'] });
    proxy.faults.push({ kind: 'read', status: 503, times: Infinity });
    proxy.seen.length = 0;
    const { result: response, ms } = await timed(() => app.api('GET', '/api/me', { token }));
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('unavailable');
    expect(attemptsOf('read').length).toBeLessThanOrEqual(3);
    expect(ms).toBeLessThan(3000);
  });

  it('answers a failed write with 503 having written nothing; the retry creates it once', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const send = () =>
      app.api('POST', '/api/me/reseller-invitations', {
        token: provider.adminToken,
        body: { mpnId: '7654321', email: 'admin@reseller.example' },
        headers: { 'Idempotency-Key': key },
      });
    proxy.faults.push({ kind: 'write', status: 503, times: 1 });
    const failed = await send();
    expect(failed.status).toBe(503);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(0);
    const retried = await send();
    expect(retried.status).toBe(201);
    expect((await send()).headers.get('idempotent-replayed')).toBe('true');
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('answers 503 when the business batch itself keeps failing, leaves the partition as it was, and the keyed retry creates it once', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const send = () =>
      app.api('POST', '/api/me/reseller-invitations', {
        token: provider.adminToken,
        body: { mpnId: '7654323', email: 'admin@reseller.example' },
        headers: { 'Idempotency-Key': key },
      });
    const before = await app.documents(provider.partnerId);
    // The idempotency claim goes through; the faults land on the partner partition's batch.
    proxy.faults.push({ kind: 'write', status: 503, times: Infinity, path: /\/colls\/partners\// });
    proxy.seen.length = 0;
    const failed = await send();
    expect(failed.status).toBe(503);
    expect(failed.body.code).toBe('unavailable');
    const writes = attemptsOf('write');
    expect(writes.some((request) => /\/colls\/idempotency\//.test(request.path))).toBe(true);
    const batches = writes.filter((request) => /\/colls\/partners\//.test(request.path));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((request) => request.status === 503)).toBe(true);
    proxy.faults.length = 0;
    expect(await app.documents(provider.partnerId)).toEqual(before);

    const retried = await send();
    expect(retried.status).toBe(201);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
    const emails = await app.documents(provider.partnerId, 'email');
    expect(emails.filter((email) => email.kind === 'partner-invitation')).toHaveLength(1);
  });

  it('answers 503 when the business batch itself is refused with 503, and the keyed retry creates the invitation once', async () => {
    const provider = await createProvider(app);
    const key = randomUUID();
    const send = () =>
      app.api('POST', '/api/me/reseller-invitations', {
        token: provider.adminToken,
        body: { mpnId: '7654324', email: 'admin@reseller.example' },
        headers: { 'Idempotency-Key': key },
      });
    // Only the partner partition's batch fails: the idempotency claim (its own container) holds.
    proxy.faults.push({ kind: 'write', status: 503, times: 1, path: /\/colls\/partners\// });
    proxy.seen.length = 0;
    const failed = await send();
    expect(failed.status).toBe(503);
    const batches = attemptsOf('write').filter((request) =>
      /\/colls\/partners\//.test(request.path),
    );
    expect(batches.map((request) => request.status)).toEqual([503]);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(0);
    const retried = await send();
    expect(retried.status).toBe(201);
    expect((await send()).headers.get('idempotent-replayed')).toBe('true');
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(1);
  });

  it('answers 503, not 500, when the connection drops during a write, batch or single', async () => {
    const provider = await createProvider(app);
    proxy.faults.push({ kind: 'write', status: 'reset', times: Infinity });
    const batch = await app.api('PUT', `/api/operator/partners/${randomUUID()}`, {
      token: await app.operatorToken(),
      body: masterRecord(),
    });
    expect(batch.status).toBe(503);
    const single = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      body: { mpnId: '7654322', email: 'admin@reseller.example' },
      headers: { 'Idempotency-Key': randomUUID() },
    });
    expect(single.status).toBe(503);
    expect(single.body.code).toBe('unavailable');
    proxy.faults.length = 0;
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toHaveLength(0);
  });
});

describe('a query page with no documents and a continuation', () => {
  it('reads on to find the invitation to revoke, instead of answering 404', async () => {
    const provider = await createProvider(app);
    const invited = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      body: { mpnId: '7654390', email: 'admin@reseller.example' },
    });
    expect(invited.status).toBe(201);
    proxy.faults.push({ kind: 'query', status: 'empty-page', times: 1 });
    const revoked = await app.api(
      'DELETE',
      `/api/me/reseller-invitations/${invited.body.invitationId}`,
      { token: provider.adminToken },
    );
    expect(proxy.faults[0]!.times).toBe(0);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
  });
});

describe('a page with no documents and a continuation, where the page decides for good', () => {
  it('publishes an event to every active endpoint though the endpoints come back on a later page', async () => {
    const partner = await createPartnerWithProfile(app);
    const hooks = [];
    for (let index = 0; index < 2; index += 1) {
      const secrets: string[] = [];
      const hook = await startWebhookReceiver({ secrets });
      hooks.push(hook);
      const created = await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: hook.url, events: ['customer.created'] },
      });
      expect(created.status).toBe(201);
      secrets.push(created.body.secret);
    }
    try {
      proxy.faults.push({
        kind: 'query',
        status: 'empty-page',
        times: 1,
        query: /c\.type = 'webhook'/,
      });
      const customer = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(customer.status).toBe(201);
      await app.runTimer('deliverEvents');
      expect(proxy.faults[0]!.times).toBe(0);
      for (const hook of hooks) {
        expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);
      }
    } finally {
      await Promise.all(hooks.map((hook) => hook.close()));
    }
  });
});

describe('a 449 (RetryWith) on a transactional batch', () => {
  const partnersBatch = { kind: 'write' as const, batches: true, path: /\/colls\/partners\// };

  it('retries the batch, whether the request or an operation in it was answered 449', async () => {
    proxy.faults.push({ ...partnersBatch, status: 449, times: 1 });
    proxy.faults.push({ ...partnersBatch, status: 'batch-449', times: 1 });
    proxy.seen.length = 0;
    const partnerId = randomUUID();
    const created = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
      body: masterRecord(),
    });
    expect(created.status, created.text).toBe(201);
    expect(proxy.faults.map((fault) => fault.times)).toEqual([0, 0]);
    expect((await app.documents(partnerId, 'partner')).map((partner) => partner.partnerId)).toEqual(
      [partnerId],
    );
  });

  it('answers 503, never 500, when the 449s last', async () => {
    for (const status of [449, 'batch-449'] as const) {
      proxy.faults.length = 0;
      proxy.faults.push({ ...partnersBatch, status, times: Infinity });
      const partnerId = randomUUID();
      const refused = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
        token: await app.operatorToken(),
        body: masterRecord(),
      });
      expect({ status, answer: refused.status, code: refused.body.code }).toEqual({
        status,
        answer: 503,
        code: 'unavailable',
      });
      proxy.faults.length = 0;
      expect(await app.documents(partnerId, 'partner')).toEqual([]);
    }
  });
});

describe('Cosmos faults that are not outages', () => {
  it('answers 500, not 503, when Cosmos refuses a batch for good (RBAC 403, 413, 400): retrying would not help', async () => {
    for (const fault of [
      { status: 403 as const, substatus: 5301 },
      { status: 413 as const },
      { status: 400 as const },
    ]) {
      proxy.faults.length = 0;
      proxy.faults.push({ kind: 'write', times: Infinity, ...fault });
      const partnerId = randomUUID();
      const batch = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
        token: await app.operatorToken(),
        body: masterRecord(),
      });
      expect({ fault: fault.status, status: batch.status, code: batch.body.code }).toEqual({
        fault: fault.status,
        status: 500,
        code: 'internal-error',
      });
      expect(batch.headers.get('retry-after')).toBeNull();
      proxy.faults.length = 0;
      expect(await app.documents(partnerId)).toEqual([]);
    }
  });

  it("answers Retry-After from Cosmos's own x-ms-retry-after-ms when throttling outlasts the SDK's retries", async () => {
    const throttled = await startTestApp({
      env: { COSMOS_ENDPOINT: proxy.url },
      cosmosConnectionPolicy: {
        retryOptions: {
          maxRetryAttemptCount: 1,
          fixedRetryIntervalInMilliseconds: 0,
          maxWaitTimeInSeconds: 10,
        },
      },
    });
    try {
      const { partnerId } = await createPartner(throttled);
      const token = await throttled.token({ tenant: partnerId, roles: ['SalesAgent'] });
      proxy.faults.push({ kind: 'read', status: 429, times: Infinity, retryAfterMs: 2_400 });
      const response = await throttled.api('GET', '/api/me', { token });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('3');
      expect(response.body.retryAfterSeconds).toBe(3);
    } finally {
      proxy.faults.length = 0;
      await throttled.close();
    }
  });
});

describe('deadlines, with endpoint discovery on as on Azure', () => {
  // On Azure, endpoint discovery turns on the SDK's timeout-failover retries (up to 120 tries
  // of 10 s each): without a deadline a stalled connection would hold a request for minutes.
  let azureLike: TestApp;
  beforeAll(async () => {
    azureLike = await startTestApp({
      env: {
        COSMOS_ENDPOINT: proxy.url,
        COSMOS_HTTP_DEADLINE_MS: '1500',
        COSMOS_TIMER_DEADLINE_MS: '2000',
      },
      cosmosConnectionPolicy: { enableEndpointDiscovery: true },
    });
  });
  afterAll(() => azureLike.close());

  it('answers 503 unavailable within the deadline when Cosmos stops answering a read', async () => {
    const { partnerId } = await createPartner(azureLike);
    const token = await azureLike.token({ tenant: partnerId, roles: ['SalesAgent'] });
    expect((await azureLike.api('GET', '/api/me', { token })).status).toBe(200);
    proxy.faults.push({ kind: 'read', status: 'stall', times: Infinity });
    const response = await azureLike.api('GET', '/api/me', { token });
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('unavailable');
  });

  it('answers 503 within the deadline when a write stalls, and a timer run ends instead of hanging', async () => {
    proxy.faults.push(
      { kind: 'write', status: 'stall', times: Infinity },
      { kind: 'query', status: 'stall', times: Infinity },
    );
    const response = await azureLike.api('PUT', `/api/operator/partners/${randomUUID()}`, {
      token: await azureLike.operatorToken(),
      body: masterRecord(),
    });
    expect(response.status).toBe(503);
    await expect(azureLike.runTimer('deliverEmails')).rejects.toThrow(/unavailable/);
  });

  it('reports Cosmos down on /api/health within the deadline when it stops answering', async () => {
    proxy.faults.push({ kind: 'metadata', status: 'stall', times: Infinity });
    const health = await azureLike.api('GET', '/api/health');
    expect(health.status).toBe(503);
    expect(health.body.checks.cosmos).not.toBe('ok');
  });
});

describe('a failure between the partitions of one operation', () => {
  // Accepting a partner invitation (provider, then reseller partition) is covered in
  // providers.test.ts; email delivery killed mid-way in email-delivery.test.ts.
  it('PUT master record: the directory write fails after the partner is written; a rerun completes it once', async () => {
    let failDirectory = 0;
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === 'directory' && failDirectory-- > 0
          ? new DependencyUnavailable('cosmos')
          : null,
      ),
    );
    try {
      const partnerId = randomUUID();
      const record = masterRecord({
        programs: { directBill: true, indirectProvider: { regions: ['US'], services: [] } },
      });
      const put = async () =>
        flaky.api('PUT', `/api/operator/partners/${partnerId}`, {
          token: await flaky.operatorToken(),
          body: record,
        });
      failDirectory = 1;
      const failed = await put();
      expect(failed.status).toBe(503);
      expect(failed.body.detail).not.toMatch(/nothing was changed/);

      const rerun = await put();
      expect(rerun.status).toBe(200);
      const again = await put();
      expect(again.status).toBe(200);
      expect(await app.documents(partnerId, 'partner')).toHaveLength(1);
      // The rerun repaired the directory, and neither rerun wrote a change that was none.
      const directory = await app.documents('directory');
      expect(directory.filter((entry) => entry.providerId === partnerId)).toHaveLength(1);
      const mpnEntry = await app.pointRead(`mpn:${record.mpnId}`, `mpn-${record.mpnId}`);
      expect(mpnEntry).toMatchObject({ ownerId: partnerId });
      const audit = await app.documents(partnerId, 'audit');
      expect(audit.map((event) => event.action)).toEqual(['partner-created']);
    } finally {
      await flaky.close({ keepDatabase: true });
    }
  });
});
