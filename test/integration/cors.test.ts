import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

const portal = 'https://portal.contoso.example';
const operatorConsole = 'https://console.contoso.example';
const hostJson = JSON.parse(readFileSync(path.resolve(__dirname, '../../host.json'), 'utf8')) as {
  extensions: { http: { customHeaders: Record<string, string> } };
};

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { CORS_ORIGINS: `${portal}, ${operatorConsole}` } });
});
afterAll(() => app.close());

const preflight = (origin: string, target = '/api/me/reseller-invitations', on = app) =>
  fetch(`${on.url}${target}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key, traceparent',
    },
  });

describe('CORS on Flex Consumption: the platform answers, as ASP.NET Core CorsMiddleware with the host policy', () => {
  it('answers a preflight from a listed origin with 204, echoing the method and headers it asked for', async () => {
    for (const origin of [portal, operatorConsole]) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(await response.text()).toBe('');
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      // Two origins: the answer varies with the one that asked.
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-methods')).toBe('POST');
      expect(response.headers.get('access-control-allow-headers')).toBe(
        'authorization,content-type,idempotency-key,traceparent',
      );
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('access-control-max-age')).toBe('600');
    }
  });

  it('answers a preflight from a refused origin with 204 and no Access-Control-Allow-Origin, so the browser blocks the call', async () => {
    for (const origin of [
      'https://evil.example',
      `${portal}.evil.example`,
      'https://evil.example/https://portal.contoso.example',
      'http://portal.contoso.example',
      'null',
    ]) {
      const response = await preflight(origin);
      expect(response.status, origin).toBe(204);
      expect(await response.text()).toBe('');
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(response.headers.get('access-control-allow-methods'), origin).toBeNull();
      expect(response.headers.get('access-control-allow-headers'), origin).toBeNull();
    }
  });

  it('answers a preflight before any route: an unknown path gets the same 204', async () => {
    const response = await preflight(portal, '/api/nowhere');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(portal);
  });

  it('lets a listed origin read answers, errors included, and no other origin', async () => {
    const allowed = await app.api('GET', '/api/me', { headers: { origin: portal } });
    expect(allowed.status).toBe(401);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(portal);
    expect(allowed.headers.get('vary')).toBe('Origin');
    const health = await app.api('GET', '/api/health', { headers: { origin: operatorConsole } });
    expect(health.headers.get('access-control-allow-origin')).toBe(operatorConsole);

    const other = await app.api('GET', '/api/health', {
      headers: { origin: 'https://evil.example' },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const none = await app.api('GET', '/api/health');
    expect(none.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('lets a browser read ETag, Location, Retry-After and Idempotent-Replayed (host.json customHeaders, on every answer)', async () => {
    const expose = hostJson.extensions.http.customHeaders['Access-Control-Expose-Headers']!;
    expect(expose.split(',').map((name) => name.trim())).toEqual([
      'ETag',
      'Location',
      'Retry-After',
      'Idempotent-Replayed',
    ]);
    const answer = await app.api('GET', '/api/me', { headers: { origin: portal } });
    expect(answer.headers.get('access-control-expose-headers')).toBe(expose);
    const refusedPreflight = await preflight('https://evil.example');
    expect(refusedPreflight.headers.get('access-control-expose-headers')).toBe(expose);
  });

  it('allows no origin at all when CORS_ORIGINS is empty (the default): preflights still 204, without any grant', async () => {
    const closed = await startTestApp();
    try {
      const response = await preflight(portal, '/api/me', closed);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const get = await closed.api('GET', '/api/health', { headers: { origin: portal } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.close();
    }
  });

  it('grants one listed origin without Vary, and `*` as the only entry to any origin as `*`', async () => {
    for (const [origins, origin, granted, vary] of [
      [portal, portal, portal, null],
      ['*', 'https://anyone.example', '*', null],
    ] as const) {
      const single = await startTestApp({ env: { CORS_ORIGINS: origins } });
      try {
        const response = await preflight(origin, '/api/me', single);
        expect(response.headers.get('access-control-allow-origin')).toBe(granted);
        expect(response.headers.get('vary')).toBe(vary);
      } finally {
        await single.close();
      }
    }
  });

  it('passes an OPTIONS that is not a preflight to the routes: 405 with Allow, as any method a route lacks', async () => {
    const response = await fetch(`${app.url}/api/me`, { method: 'OPTIONS' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET');
  });
});
