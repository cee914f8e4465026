import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchBrowser, systemChromium } from '../support/browser';

describe('the browser the tests drive', () => {
  it('is the machine’s Chromium when one is on PATH, or the one CHROMIUM_PATH names', () => {
    const bin = mkdtempSync(join(tmpdir(), 'browser-test-'));
    try {
      writeFileSync(join(bin, 'chromium'), '#!/bin/sh\n');
      chmodSync(join(bin, 'chromium'), 0o755);
      expect(systemChromium({ PATH: `/nonexistent:${bin}` })).toBe(join(bin, 'chromium'));
      expect(systemChromium({ PATH: bin, CHROMIUM_PATH: '/opt/chrome/chrome' })).toBe(
        '/opt/chrome/chrome',
      );
      expect(systemChromium({ PATH: '/nonexistent' })).toBeUndefined();
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it('comes from npm (@sparticuz/chromium) on a machine without one, and renders a page', async () => {
    const browser = await launchBrowser({ PATH: '/nonexistent' });
    try {
      expect(browser.version()).toMatch(/^\d+\./);
      // Two pages, one closed before the other: the browser outlives its pages.
      const first = await browser.newPage();
      await first.setContent('<title>first</title>');
      await first.close();
      const page = await browser.newPage();
      await page.setContent('<main><h1>Hello</h1></main>');
      const heading = page.getByRole('heading', { level: 1 });
      expect(await heading.innerText()).toBe('Hello');
      // Its fonts come with it: the text has glyphs, so a width.
      expect((await heading.evaluate((h) => h.getBoundingClientRect().width)) > 10).toBe(true);
      await page.close();
    } finally {
      await browser.close();
    }
  });
});
