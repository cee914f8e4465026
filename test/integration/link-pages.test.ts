import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { launchBrowser } from '../support/browser';
import { ManualClock } from '../support/clock';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';

let app: TestApp;
let browser: Browser;

beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function visit(
  url: string,
): Promise<{ page: Page; status: number; dialogs: string[]; headers: Record<string, string> }> {
  const page = await browser.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const response = await page.goto(url);
  return { page, status: response!.status(), dialogs, headers: response!.headers() };
}

describe('the partner invitation link, followed in a browser', () => {
  it('lands on a page naming the provider, what accepting does, the expiry and how to accept', async () => {
    const provider = await createProvider(app, { companyName: 'Adatum Distribution' });
    const reseller = await activeReseller(app);
    await inviteReseller(app, provider, reseller, 'reseller-admin@fourthcoffee.example');
    await app.runTimer('deliverEmails');
    const email = (await app.mailbox()).find(
      (candidate) => candidate.to === 'reseller-admin@fourthcoffee.example',
    )!;
    expect(email.subject).toBe('Adatum Distribution invites you to become its indirect reseller');
    expect(email.links).toHaveLength(1);

    const { page, status, headers } = await visit(email.links[0]!);
    try {
      expect(status).toBe(200);
      expect(await page.title()).toBe(
        'Adatum Distribution invites you to become its indirect reseller',
      );
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(
        'Adatum Distribution invites you to become its indirect reseller',
      );
      const main = await page.getByRole('main').innerText();
      expect(main).toContain('Accepting makes it one of your indirect providers');
      expect(main).toContain('2026-04-01T09:00:00.000Z');
      expect(main).toContain('select Accept');
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      expect(headers['content-security-policy']).toContain("default-src 'none'");
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['x-content-type-options']).toBe('nosniff');
    } finally {
      await page.close();
    }
  });

  it('shows a provider named <script> as text and runs nothing', async () => {
    const provider = await createProvider(app, {
      companyName: '<script>alert("owned")</script><img src=x onerror=alert(2)>',
    });
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const { page, status, dialogs } = await visit(invited.body.link);
    try {
      expect(status).toBe(200);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain(
        '<script>alert("owned")</script>',
      );
      expect(await page.locator('script').count()).toBe(0);
      expect(await page.locator('img').count()).toBe(0);
      await page.waitForTimeout(100);
      expect(dialogs).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says plainly when the link is unknown (404)', async () => {
    const { page, status } = await visit(
      `${app.url}/api/links/partner-invitations/not-a-real-token`,
    );
    try {
      expect(status).toBe(404);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(
        'This link is not valid',
      );
      expect(await page.getByRole('main').innerText()).toContain(
        'ask the person who invited you to send a new invitation',
      );
    } finally {
      await page.close();
    }
  });

  it('says plainly when the link was used, revoked or has expired (410)', async () => {
    const provider = await createProvider(app);
    const usedBy = await activeReseller(app);
    const used = await inviteReseller(app, provider, usedBy);
    await app.api('POST', `/api/partner-invitations/${tokenOf(used.body.link)}/accept`, {
      token: usedBy.adminToken,
    });

    const revokedFor = await activeReseller(app);
    const revoked = await inviteReseller(app, provider, revokedFor);
    await app.api('DELETE', `/api/me/reseller-invitations/${revoked.body.invitationId}`, {
      token: provider.adminToken,
    });

    const expiredFor = await activeReseller(app);
    const expired = await inviteReseller(app, provider, expiredFor);

    for (const [link, heading] of [
      [used.body.link, 'This invitation has already been used'],
      [revoked.body.link, 'This invitation was withdrawn'],
    ] as const) {
      const { page, status } = await visit(link);
      expect(status).toBe(410);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(heading);
      await page.close();
    }

    app.clock.advance({ days: 31 });
    try {
      const { page, status } = await visit(expired.body.link);
      expect(status).toBe(410);
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe(
        'This invitation has expired',
      );
      await page.close();
    } finally {
      app.clock.set('2026-03-02T09:00:00.000Z');
    }
  });
});

describe('with a portal', () => {
  it('redirects the link to the portal page for the same token', async () => {
    const portal = await startTestApp({
      env: { PORTAL_BASE_URL: 'https://partners.contoso.example/' },
    });
    try {
      const provider = await createProvider(portal);
      const reseller = await activeReseller(portal);
      const invited = await inviteReseller(portal, provider, reseller);
      const token = tokenOf(invited.body.link);
      const response = await portal.api('GET', `/api/links/partner-invitations/${token}`);
      expect(response.status).toBe(302);
      expect(response.headers.get('location')).toBe(
        `https://partners.contoso.example/partner-invitations/${token}`,
      );
    } finally {
      await portal.close();
    }
  });
});
