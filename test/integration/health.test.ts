import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { healthCheckSeconds } from '../../shared/app/health';
import { startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';

/**
 * GET /api/health is anonymous: however many calls come, it asks Cosmos at most twice per
 * period (app/health.ts), timed by the app's clock: is it reachable, and the one query of the
 * operations partition (timers and outboxes, for `degraded`). Requests are counted at the SDK's HTTP
 * client, as the round-trip budgets count them.
 */
let proxy: CosmosProxy;
let app: TestApp;
beforeAll(async () => {
  proxy = await startCosmosProxy(inject('cosmosEndpoint'));
  app = await startTestApp({
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    countCosmosRequests: true,
    env: { COSMOS_ENDPOINT: proxy.url },
  });
});
afterAll(async () => {
  await app.close();
  await proxy.close();
});

/** `count` health calls at once: their answers, and the Cosmos requests they made. */
async function healthCalls(count: number) {
  let answers: { status: number; cosmos: string }[] = [];
  const requests = await app.cosmosRequests!.during(async () => {
    const responses = await Promise.all(
      Array.from({ length: count }, () => app.api('GET', '/api/health')),
    );
    answers = responses.map((response) => ({
      status: response.status,
      cosmos: response.body.checks.cosmos as string,
    }));
  });
  // The ping (a read of the database) and the operations query; the query plan the SDK fetches
  // alongside a query (no RU) is left out, as the round-trip budgets leave it out.
  const asked = requests.filter((request) => request.kind !== 'query-plan');
  return { answers, requests: asked.length };
}

describe('GET /api/health', () => {
  it('asks Cosmos twice for 50 calls in one period (reachable, operations), and again after it', async () => {
    app.clock.advance({ seconds: healthCheckSeconds.ok }); // whatever came before has expired
    const first = await healthCalls(50);
    expect(first.requests).toBe(2);
    expect(first.answers.every((answer) => answer.status === 200)).toBe(true);
    app.clock.advance({ seconds: healthCheckSeconds.ok - 1 });
    expect((await healthCalls(50)).requests).toBe(0);
    app.clock.advance({ seconds: 1 });
    const next = await healthCalls(50);
    expect(next.requests).toBe(2);
    expect(next.answers.every((answer) => answer.status === 200)).toBe(true);
  });

  it('shows Cosmos down within one period of an outage, and up again soon after it ends', async () => {
    app.clock.advance({ seconds: healthCheckSeconds.ok });
    expect((await healthCalls(1)).answers).toEqual([{ status: 200, cosmos: 'ok' }]);
    proxy.faults.push({ kind: 'metadata', status: 503, times: Infinity });
    try {
      app.clock.advance({ seconds: healthCheckSeconds.ok });
      const down = await healthCalls(50);
      expect(down.answers).toEqual(Array(50).fill({ status: 503, cosmos: 'down' }));
      expect((await app.api('GET', '/api/health')).body.status).toBe('down');
      // A failure is trusted for a shorter period, still not asked again within it.
      app.clock.advance({ seconds: healthCheckSeconds.failed - 1 });
      const stillDown = await healthCalls(50);
      expect(stillDown.requests).toBe(0);
      expect(stillDown.answers[0]).toEqual({ status: 503, cosmos: 'down' });
    } finally {
      proxy.faults.length = 0;
    }
    app.clock.advance({ seconds: 1 });
    expect((await healthCalls(1)).answers).toEqual([{ status: 200, cosmos: 'ok' }]);
  });
});

describe('GET /api/health, degraded', () => {
  it('says degraded, still 200, when a timer has not succeeded for three of its periods, ok once it runs', async () => {
    app.clock.advance({ minutes: 3, seconds: 1 });
    const operator = { token: await app.operatorToken() };
    const stale = await app.api('GET', '/api/health', operator);
    expect(stale.status).toBe(200);
    expect(stale.body).toMatchObject({
      status: 'degraded',
      checks: { cosmos: 'ok', email: 'ok' },
      details: {
        timers: 'stale',
        outbox: 'ok',
        degraded: ['timer deliverEmails is stale', 'timer deliverEvents is stale'],
      },
    });
    // Anyone else hears the word, not which timers.
    expect((await app.api('GET', '/api/health')).body).toEqual({
      status: 'degraded',
      checks: { cosmos: 'ok', email: 'ok' },
    });
    await app.runTimer('deliverEmails');
    await app.runTimer('deliverEvents');
    app.clock.advance({ seconds: healthCheckSeconds.ok });
    const healthy = await app.api('GET', '/api/health', operator);
    expect(healthy.status).toBe(200);
    expect(healthy.body).toMatchObject({ status: 'ok', details: { degraded: [] } });
  });
});
