import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { launchBrowser } from '../support/browser';
import { ManualClock } from '../support/clock';
import { activeReseller, approvedPartner } from '../support/enrollment';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';

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

interface Visit {
  page: Page;
  status: number;
  dialogs: string[];
  headers: Record<string, string>;
  /** Every request the browser sent: URL, Referer, and body. */
  sent: { url: string; referer: string | undefined; body: string | null }[];
}

/** Opens a link as a person would, and waits until its script has shown the invitation. */
async function visit(url: string): Promise<Visit> {
  const page = await browser.newPage();
  const dialogs: string[] = [];
  const sent: Visit['sent'] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('request', (request: Request) => {
    sent.push({
      url: request.url(),
      referer: request.headers()['referer'],
      body: request.postData(),
    });
  });
  const response = await page.goto(url);
  await page.waitForSelector('main[data-ready="true"]', { timeout: 10_000 });
  return { page, status: response!.status(), dialogs, headers: response!.headers(), sent };
}

const heading = (page: Page): Promise<string> =>
  page.getByRole('heading', { level: 1 }).innerText();

/** The secret is nowhere the server, its logs or its database could keep it. */
async function expectSecretNowhere(secret: string, visited: Visit): Promise<void> {
  for (const request of visited.sent) {
    expect(request.url).not.toContain(secret);
    expect(request.referer ?? '').not.toContain(secret);
  }
  expect(app.logs.map((entry) => JSON.stringify(entry)).join('\n')).not.toContain(secret);
  expect(JSON.stringify(await app.allDocuments())).not.toContain(secret);
}

async function deliveredLink(to: string): Promise<string> {
  await app.runTimer('deliverEmails');
  const email = (await app.mailbox()).find((candidate) => candidate.to === to)!;
  expect(email.links).toHaveLength(1);
  return email.links[0]!;
}

describe('the partner invitation link, followed in a browser', () => {
  it('shows the invitation from the token after #, which no request, log line or document holds', async () => {
    const provider = await createProvider(app, { companyName: 'Adatum Distribution' });
    const reseller = await activeReseller(app);
    await inviteReseller(app, provider, reseller, 'reseller-admin@fourthcoffee.example');
    const link = await deliveredLink('reseller-admin@fourthcoffee.example');
    expect(link).toMatch(/\/api\/links\/partner-invitations#[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const secret = tokenOf(link).split('.')[1]!;

    const visited = await visit(link);
    const { page, status, headers } = visited;
    try {
      expect(status).toBe(200);
      expect(await page.title()).toBe(
        'Adatum Distribution invites you to become its indirect reseller',
      );
      expect(await heading(page)).toBe(
        'Adatum Distribution invites you to become its indirect reseller',
      );
      const main = await page.getByRole('main').innerText();
      expect(main).toContain('Accepting makes it one of your indirect providers');
      expect(main).toContain('1 April 2026, 09:00 UTC');
      expect(main).toContain('select Accept');
      expect(main).toContain('No portal is configured');
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      // The token left the address bar once read.
      expect(page.url()).not.toContain('#');
      expect(headers['content-security-policy']).toContain("default-src 'none'");
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-content-type-options']).toBe('nosniff');
      // The token travelled once, in the body of the lookup.
      const lookups = visited.sent.filter((request) => request.url.endsWith('/lookup'));
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.body).toContain(secret);
      await expectSecretNowhere(secret, visited);
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
    const { page, dialogs } = await visit(invited.body.link);
    try {
      expect(await heading(page)).toContain('<script>alert("owned")</script>');
      expect(await page.locator('main script').count()).toBe(0);
      expect(await page.locator('img').count()).toBe(0);
      await page.waitForTimeout(100);
      expect(dialogs).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('says plainly when the link is unknown or cut short', async () => {
    for (const link of [
      `${app.url}/api/links/partner-invitations#not-a-real-token`,
      `${app.url}/api/links/partner-invitations`,
    ]) {
      const { page } = await visit(link);
      expect(await heading(page)).toBe('This link is not valid');
      expect(await page.getByRole('main').innerText()).toContain(
        'ask the person who invited you to send a new invitation',
      );
      await page.close();
    }
  });

  it('reads a link pasted into the tab that shows it: no reload, and the secret leaves the address bar', async () => {
    const provider = await createProvider(app, { companyName: 'Pasted Link Distribution' });
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const link = invited.body.link as string;
    const { page } = await visit(`${app.url}/api/links/partner-invitations`);
    let loads = 0;
    page.on('load', () => (loads += 1));
    try {
      expect(await heading(page)).toBe('This link is not valid');
      // The whole link pasted into the address bar: the same document, only its fragment changes.
      await page.goto(link);
      await expect
        .poll(() => heading(page))
        .toBe('Pasted Link Distribution invites you to become its indirect reseller');
      expect(page.url()).toBe(`${app.url}/api/links/partner-invitations`);
      // Another one pasted after it: the page follows again.
      await page.goto(`${app.url}/api/links/partner-invitations#not-a-real-token`);
      await expect.poll(() => heading(page)).toBe('This link is not valid');
      expect(page.url()).not.toContain('#');
      expect(loads).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('drops the secret from the address bar on every path: unknown, cut short, not decodable, empty', async () => {
    for (const fragment of ['not-a-real-token', 'abc.def', '%E0%A4%A', '%', '']) {
      const { page } = await visit(`${app.url}/api/links/partner-invitations#${fragment}`);
      try {
        expect({ fragment, heading: await heading(page) }).toEqual({
          fragment,
          heading: 'This link is not valid',
        });
        expect(page.url()).toBe(`${app.url}/api/links/partner-invitations`);
      } finally {
        await page.close();
      }
    }
  });

  it('says plainly when the link was used, revoked or has expired', async () => {
    const provider = await createProvider(app);
    const usedBy = await activeReseller(app);
    const used = await inviteReseller(app, provider, usedBy);
    await app.api('POST', '/api/partner-invitations/accept', {
      token: usedBy.adminToken,
      body: { token: tokenOf(used.body.link) },
    });
    const revokedFor = await activeReseller(app);
    const revoked = await inviteReseller(app, provider, revokedFor);
    await app.api('DELETE', `/api/me/reseller-invitations/${revoked.body.invitationId}`, {
      token: provider.adminToken,
    });
    const expiredFor = await activeReseller(app);
    const expired = await inviteReseller(app, provider, expiredFor);

    for (const [link, title] of [
      [used.body.link, 'This invitation has already been used'],
      [revoked.body.link, 'This invitation was withdrawn'],
    ] as const) {
      const { page } = await visit(link);
      expect(await heading(page)).toBe(title);
      await page.close();
    }
    app.clock.advance({ days: 31 });
    try {
      const { page } = await visit(expired.body.link);
      expect(await heading(page)).toBe('This invitation has expired');
      await page.close();
    } finally {
      app.clock.set('2026-03-02T09:00:00.000Z');
    }
  });

  it('speaks French to a French reseller, with dates as people read them', async () => {
    const provider = await createProvider(app, {
      companyName: 'Distribution Lumière',
      regions: ['FR'],
    });
    const reseller = await activeReseller(app, { country: 'FR' });
    await inviteReseller(app, provider, reseller, 'admin@revendeur.example');
    const link = await deliveredLink('admin@revendeur.example');
    const visited = await visit(link);
    try {
      expect(await visited.page.getAttribute('html', 'lang')).toBe('fr');
      expect(await heading(visited.page)).toBe(
        'Distribution Lumière vous invite à devenir son revendeur indirect',
      );
      const main = await visited.page.getByRole('main').innerText();
      expect(main).toContain('1 avril 2026, 09:00 UTC');
      expect(main).toContain("Aucun portail n'est configuré");
      await expectSecretNowhere(tokenOf(link).split('.')[1]!, visited);
    } finally {
      await visited.page.close();
    }
  });
});

describe('the customer and incentives invitation links, followed in a browser', () => {
  it('shows a customer invitation without the secret reaching the server', async () => {
    const pair = await partnership(app);
    const drafted = await app.api('POST', '/api/me/customer-invitations', {
      token: pair.reseller.adminToken,
      body: { providerId: pair.provider.partnerId },
    });
    const link = drafted.body.link as string;
    expect(link).toContain('/api/links/customer-invitations#');
    const visited = await visit(link);
    try {
      expect(await heading(visited.page)).toContain('Adatum Distribution');
      expect(await visited.page.getByRole('main').innerText()).toContain('resellers of record');
      // The draft's answer is kept for Idempotency-Key replays: sealed, so not in clear.
      await expectSecretNowhere(tokenOf(link).split('.')[1]!, visited);
    } finally {
      await visited.page.close();
    }
  });

  it('shows an incentives invitation without the secret reaching the server', async () => {
    app.clock.set('2026-03-02T09:00:00.000Z');
    const partner = await approvedPartner(app, { companyName: 'Tailspin Browser Test' });
    await app.runTimer('sendIncentiveInvitations');
    await app.runTimer('deliverEmails');
    const email = (await app.mailbox()).find(
      (candidate) =>
        candidate.subject.includes('Tailspin Browser Test') &&
        candidate.subject.includes('incentives'),
    )!;
    const link = email.links.find((candidate) => candidate.includes('incentive-invitations#'))!;
    expect(partner.partnerId).toBeTruthy();
    const visited = await visit(link);
    try {
      expect(await heading(visited.page)).toBe(
        'Your invitation to the indirect reseller incentives',
      );
      expect(await visited.page.getByRole('main').innerText()).toContain('Tailspin Browser Test');
      await expectSecretNowhere(tokenOf(link).split('.')[1]!, visited);
    } finally {
      await visited.page.close();
    }
  });
});

describe('with a portal', () => {
  it('forwards to the portal with the token still after #', async () => {
    const portal = await startTestApp({
      env: { PORTAL_BASE_URL: 'https://partners.contoso.example/' },
    });
    const page = await browser.newPage();
    try {
      const provider = await createProvider(portal);
      const reseller = await activeReseller(portal);
      const invited = await inviteReseller(portal, provider, reseller);
      const token = tokenOf(invited.body.link);
      let forwarded = '';
      await page.route('https://partners.contoso.example/**', async (route) => {
        forwarded = route.request().url();
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>portal</p>' });
      });
      await page.goto(invited.body.link);
      await page.waitForURL(/partners\.contoso\.example/);
      expect(page.url()).toBe(`https://partners.contoso.example/partner-invitations#${token}`);
      // The part after # is not sent: the portal's server sees the path only.
      expect(forwarded).toBe('https://partners.contoso.example/partner-invitations');
    } finally {
      await page.close();
      await portal.close();
    }
  });
});
