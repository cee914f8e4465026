import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { launchBrowser } from '../support/browser';
import { createPartnerWithProfile } from '../support/builders';

let app: TestApp;
let browser: Browser;
let reference: Awaited<ReturnType<typeof openReference>>;

// One page, opened once as a reader would (Swagger UI takes seconds to start on two busy cores),
// then read and used by each test in turn.
beforeAll(async () => {
  app = await startTestApp();
  browser = await launchBrowser();
  reference = await openReference();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** The page, opened as a reader would, with every console message, failure and request kept. */
async function openReference(): Promise<{
  page: Page;
  problems: string[];
  requests: string[];
  loadMs: number;
  headers: Record<string, string>;
}> {
  const page = await browser.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()}`));
  page.on('request', (request) => requests.push(request.url()));
  const started = Date.now();
  const response = await page.goto(`${app.url}/api/docs`);
  await page.locator('.opblock-tag').first().waitFor();
  const loadMs = Date.now() - started;
  return { page, problems, requests, loadMs, headers: response!.headers() };
}

describe('the API reference page, GET /api/docs, in a browser', () => {
  it('loads under a strict Content-Security-Policy with no console or CSP error, from the app alone', async () => {
    const { page, problems, requests, loadMs, headers } = reference;
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(headers['content-security-policy']).not.toContain('unsafe-eval');
    expect(problems).toEqual([]);
    // Everything it asked for came from the app: no CDN, no font service, no telemetry.
    const origin = new URL(app.url).origin;
    expect(requests.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'))).toEqual(
      [],
    );
    expect(await page.title()).toBe('Partner transition API reference');
    console.log(`API reference page: ready in ${loadMs} ms, ${requests.length} requests`);
  });

  it('lists every tag of the OpenAPI document', async () => {
    const document = (await app.api('GET', '/api/openapi.json')).body;
    const tags = new Set<string>();
    for (const operations of Object.values<Record<string, { tags: string[] }>>(document.paths))
      for (const operation of Object.values(operations)) operation.tags.forEach((t) => tags.add(t));
    const { page } = reference;
    const shown = await page
      .locator('.opblock-tag')
      .evaluateAll((elements) => elements.map((element) => element.getAttribute('data-tag')));
    expect(new Set(shown)).toEqual(tags);
    expect(tags.size).toBeGreaterThanOrEqual(8);
  });

  it('"try it": with a development token, GET /api/me reaches this app and shows its answer', async () => {
    const partner = await createPartnerWithProfile(app);
    const { page, problems } = reference;
    await page.locator('.auth-wrapper').getByRole('button', { name: 'Authorize' }).click();
    const dialog = page.locator('.modal-ux');
    await dialog.getByLabel('auth-bearer-value').fill(partner.adminToken);
    await dialog.getByRole('button', { name: 'Apply credentials' }).click();
    await dialog.getByRole('button', { name: 'Close' }).click();

    const operation = page.locator('#operations-partner-getMe');
    await operation.locator('.opblock-summary').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation.getByRole('button', { name: 'Execute' }).click();
    const status = operation.locator('.live-responses-table tbody .response-col_status').first();
    await status.waitFor();
    expect((await status.innerText()).trim()).toBe('200');
    const body = await operation
      .locator('.live-responses-table tbody .microlight')
      .first()
      .innerText();
    expect(JSON.parse(body)).toMatchObject({
      partnerId: partner.partnerId,
      companyName: partner.record.companyName,
    });
    expect(problems).toEqual([]);
  });

  it('serves its files from the app, and no other file: 400 naming the ones it has', async () => {
    for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css', 'start.js']) {
      const response = await fetch(`${app.url}/api/docs/assets/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/(?:javascript|css)/);
    }
    for (const other of ['package.json', '..%2F..%2Fpackage.json', 'swagger-ui.js.map']) {
      const response = await fetch(`${app.url}/api/docs/assets/${other}`);
      expect(response.status, other).toBe(400);
      expect(((await response.json()) as any).errors).toEqual([
        {
          path: 'params.file',
          message: 'must be one of "start.js", "swagger-ui-bundle.js", "swagger-ui.css"',
        },
      ]);
    }
  });
});
