import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';

const portal = 'https://portal.contoso.example';
const operatorConsole = 'https://console.contoso.example';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { CORS_ORIGINS: `${portal}, ${operatorConsole}` } });
});
afterAll(() => app.close());

const preflight = (origin: string, target = '/api/me/reseller-invitations') =>
  fetch(`${app.url}${target}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, idempotency-key',
    },
  });

describe('CORS (CORS_ORIGINS, as the platform applies it on Azure)', () => {
  it('answers a preflight from a listed origin with 204 and what the browser may send', async () => {
    for (const origin of [portal, operatorConsole]) {
      const response = await preflight(origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('vary')).toBe('Origin');
      expect(response.headers.get('access-control-allow-methods')).toBe(
        'GET, POST, PUT, PATCH, DELETE',
      );
      expect(response.headers.get('access-control-allow-headers')).toBe(
        'authorization, content-type, if-match, idempotency-key, ms-requestid',
      );
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('refuses a preflight from any other origin with 403 and no CORS header', async () => {
    for (const origin of [
      'https://evil.example',
      `${portal}.evil.example`,
      'https://evil.example/https://portal.contoso.example',
      'http://portal.contoso.example',
      'null',
    ]) {
      const response = await preflight(origin);
      expect(response.status, origin).toBe(403);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(response.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
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

  it('allows no origin at all when CORS_ORIGINS is empty (the default)', async () => {
    const closed = await startTestApp();
    try {
      const response = await fetch(`${closed.url}/api/me`, {
        method: 'OPTIONS',
        headers: { origin: portal, 'access-control-request-method': 'GET' },
      });
      expect(response.status).toBe(403);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const get = await closed.api('GET', '/api/health', { headers: { origin: portal } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.close();
    }
  });

  it('still answers OPTIONS without a preflight as a method the route does not have (405)', async () => {
    const response = await fetch(`${app.url}/api/me`, { method: 'OPTIONS' });
    expect(response.status).toBe(405);
  });
});
