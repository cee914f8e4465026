import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InvocationEvent } from '../../shared/adapters/invocation-log';
import type { LogEntry } from '../../shared/local/host';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, globalAdminToken } from '../support/builders';
import { ManualClock } from '../support/clock';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';

/**
 * One JSON line per event of interest, the same locally as in Application Insights (where the
 * alert rules of infra/ read them): `invocation {...}` ends every invocation, `timer run {...}`
 * every timer run, and every line a use case logs names its invocation.
 */
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

/** The JSON of the lines of one prefix, with the entry each came in. */
function events<T>(prefix: string, logs: LogEntry[] = app.logs): { entry: LogEntry; event: T }[] {
  return logs
    .filter((entry) => entry.message.startsWith(`${prefix} {`))
    .map((entry) => ({ entry, event: JSON.parse(entry.message.slice(prefix.length + 1)) as T }));
}

const lastInvocationOf = (functionName: string) =>
  events<InvocationEvent>('invocation')
    .filter(({ event }) => event.functionName === functionName)
    .at(-1)!;

describe('structured logs', () => {
  it('ends each HTTP invocation with one line: function name, invocation id, correlation id, tenant id, duration and request charge', async () => {
    const { partnerId } = await createPartner(app);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await app.api('GET', '/api/me', {
      token: await globalAdminToken(app, partnerId),
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(response.status).toBe(200);
    const { entry, event } = lastInvocationOf('getMe');
    expect(event).toEqual({
      functionName: 'getMe',
      invocationId: entry.invocationId,
      correlationId: traceId,
      tenantId: partnerId,
      durationMs: expect.any(Number),
      requestCharge: expect.any(Number),
      cosmosThrottled: 0,
      status: 200,
      outcome: 'succeeded',
    });
    expect(event.requestCharge).toBeGreaterThan(0);
    expect(
      events('invocation').filter(({ entry: line }) => line.invocationId === entry.invocationId),
    ).toHaveLength(1);
  });

  it('takes MS-CorrelationId when no traceparent is sent, and ignores one that is not an id', async () => {
    await app.api('GET', '/api/health', { headers: { 'MS-CorrelationId': 'c0ffee00-1234' } });
    expect(lastInvocationOf('health').event).toMatchObject({
      correlationId: 'c0ffee00-1234',
      tenantId: null,
    });
    await app.api('GET', '/api/health', { headers: { 'MS-CorrelationId': 'x"} forged {"a' } });
    expect(lastInvocationOf('health').event.correlationId).toBeNull();
  });

  it('ends each timer run with a timer run line and the same invocation line', async () => {
    await app.runTimer('expireTransfers');
    const { entry, event } = lastInvocationOf('expireTransfers');
    expect(event).toMatchObject({ status: null, outcome: 'succeeded', tenantId: null });
    const [run] = events<Record<string, unknown>>('timer run').filter(
      ({ entry: line }) => line.invocationId === entry.invocationId,
    );
    expect(run!.event).toMatchObject({
      timerName: 'expireTransfers',
      outcome: 'succeeded',
      periodSeconds: 3600,
      functionName: 'expireTransfers',
      invocationId: entry.invocationId,
      correlationId: null,
    });
  });

  it('counts the Cosmos calls that stayed throttled, and logs the 503 they caused', async () => {
    const { partnerId } = await createPartner(app);
    const token = await globalAdminToken(app, partnerId);
    proxy.faults.push({ kind: 'read', status: 429, times: Infinity, retryAfterMs: 1 });
    try {
      const response = await app.api('GET', '/api/me', { token });
      expect(response.status).toBe(503);
    } finally {
      proxy.faults.length = 0;
    }
    expect(lastInvocationOf('getMe').event).toMatchObject({
      status: 503,
      outcome: 'failed',
      tenantId: partnerId,
    });
    expect(lastInvocationOf('getMe').event.cosmosThrottled).toBeGreaterThan(0);
  });
});
