import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { override, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { newCustomer, uniqueDomain } from '../support/customers';
import { partnership, tokenOf } from '../support/providers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

async function draft(pair: Awaited<ReturnType<typeof partnership>>) {
  const response = await app.api('POST', '/api/me/customer-invitations', {
    token: pair.reseller.adminToken,
    body: { providerId: pair.provider.partnerId },
  });
  expect(response.status).toBe(201);
  return response.body as {
    invitationId: string;
    link: string;
    expiresAt: string;
    draft: { subject: string; body: string };
  };
}

const customerAdmin = (customerId: string) =>
  app.token({ tenant: customerId, roles: ['GlobalAdmin'], name: 'Casey Customer' });

describe('the customer invitation draft', () => {
  it('contains the personalised link', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    expect(invitation.link).toMatch(
      /\/api\/links\/customer-invitations#[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/,
    );
    expect(invitation.draft.subject).toContain('Adatum Distribution');
    expect(invitation.draft.body).toContain(invitation.link);
    expect(invitation.expiresAt).toBe('2026-04-01T09:00:00.000Z');
  });

  it('is refused for a provider the reseller is not in partnership with', async () => {
    const pair = await partnership(app);
    const other = await partnership(app);
    const response = await app.api('POST', '/api/me/customer-invitations', {
      token: pair.reseller.adminToken,
      body: { providerId: other.provider.partnerId },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('body.providerId');
  });
});

describe('sending it', () => {
  it('accepts an edited subject and body that keep the exact link, and queues the email', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const response = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/send`,
      {
        token: pair.reseller.adminToken,
        body: {
          to: 'it@wingtiptoys.example',
          subject: 'Come work with us',
          body: `Hi Casey,\n\nHere it is: ${invitation.link}\n\nCheers`,
        },
      },
    );
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ handedOver: 'sent', sentTo: 'it@wingtiptoys.example' });
    const emails = await app.documents(pair.reseller.partnerId, 'email');
    const sent = emails.find((email) => email.kind === 'customer-invitation');
    expect(sent).toMatchObject({
      to: 'it@wingtiptoys.example',
      subject: 'Come work with us',
      links: [invitation.link],
    });
    expect(sent.html).toContain(`<a href="${invitation.link}">`);
  });

  it('is not a mail relay: only the invitation link becomes a link, under a fixed footer naming both partners', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const body = [
      'Urgent: verify your account <a href="#">here</a>, quoting <b>bold</b> &amp; more.',
      `Accept here: ${invitation.link}.`,
      `(${invitation.link})`,
      `<${invitation.link}>, or [${invitation.link}]!`,
    ].join('\n');
    const response = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/send`,
      {
        token: pair.reseller.adminToken,
        body: { to: 'relay-check@wingtiptoys.example', subject: 'Invitation', body },
      },
    );
    expect(response.status).toBe(202);
    await app.runTimer('deliverEmails');
    const [email] = (await app.mailbox()).filter(
      (mail) => mail.to === 'relay-check@wingtiptoys.example',
    );
    expect(email).toBeDefined();
    const anchors = [...email!.html.matchAll(/<a\b[^>]*href="([^"]*)"/g)].map((match) => match[1]);
    expect(anchors).toEqual([invitation.link, invitation.link, invitation.link, invitation.link]);
    expect(email!.html).toContain('&lt;a href=&quot;#&quot;&gt;here&lt;/a&gt;');
    const reseller = (await app.api('GET', '/api/me', { token: pair.reseller.adminToken })).body;
    for (const part of [email!.text, email!.html]) {
      expect(part).toContain(
        `sent by ${reseller.companyName}, an indirect reseller of Adatum Distribution`,
      );
    }
    expect(email!.from).toContain(reseller.companyName);
    expect(email!.from).toContain('Adatum Distribution');
    expect(email!.replyTo).toBe(reseller.profile.primaryContact.email);
  });

  it('refuses any link but the invitation link with 400 link-not-allowed naming it, and sends nothing', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const before = await app.documents(pair.reseller.partnerId);
    const send = (email: { subject: string; body: string }) =>
      app.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/send`, {
        token: pair.reseller.adminToken,
        body: { to: 'relay-check@wingtiptoys.example', ...email },
      });
    for (const [subject, body, named] of [
      [
        'Invitation',
        `Verify at https://phish.example/login?next=x then ${invitation.link}`,
        'https://phish.example/login?next=x',
      ],
      [
        'Invitation',
        `${invitation.link} or www.rnicrosoft-billing.example`,
        'www.rnicrosoft-billing.example',
      ],
      [
        'Invitation',
        `${invitation.link}\nYour payment failed: rnicrosoft-billing.example/verify.`,
        'rnicrosoft-billing.example/verify',
      ],
      ['Act now at contoso-billing.example', `${invitation.link}`, 'contoso-billing.example'],
      // The link of another invitation is another link.
      [
        'Invitation',
        `${invitation.link} ${invitation.link.slice(0, -5)}AAAAA`,
        invitation.link.slice(0, -5) + 'AAAAA',
      ],
    ] as const) {
      const refused = await send({ subject, body });
      expect(refused.status, body).toBe(400);
      expect(refused.body.code).toBe('link-not-allowed');
      expect(refused.body.detail).toContain(named);
      expect(refused.body.errors[0].path).toBe(
        subject === 'Invitation' ? 'body.body' : 'body.subject',
      );
    }
    expect(await app.documents(pair.reseller.partnerId)).toEqual(before);
    // An email address of the reseller's, and the partners' own names, are not links.
    const signed = await send({
      subject: invitation.draft.subject,
      body: `${invitation.draft.body}\nQuestions: pat.lee@contoso.example`,
    });
    expect(signed.status).toBe(202);
  });

  it('bounds the subject and the body', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const send = (subject: string, body: string) =>
      app.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/send`, {
        token: pair.reseller.adminToken,
        body: { to: 'dana@wingtiptoys.example', subject, body },
      });
    const long = await send('S'.repeat(201), invitation.draft.body);
    expect(long.status).toBe(400);
    expect(long.body.errors[0].path).toBe('body.subject');
    const longer = await send('S', `${invitation.draft.body}\n${'x'.repeat(4000)}`);
    expect(longer.status).toBe(400);
    expect(longer.body.errors[0].path).toBe('body.body');
    expect((await send('S'.repeat(200), invitation.draft.body)).status).toBe(202);
  });

  it('sends to one recipient only', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    for (const to of ['a@x.example, b@y.example', 'a@x.example;b@y.example', ['a@x.example']]) {
      const response = await app.api(
        'POST',
        `/api/me/customer-invitations/${invitation.invitationId}/send`,
        {
          token: pair.reseller.adminToken,
          body: { to, subject: 'S', body: invitation.draft.body },
        },
      );
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('validation-failed');
    }
  });

  it('sends one invitation at most three times; a refused send does not count', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const send = (body: string) =>
      app.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/send`, {
        token: pair.reseller.adminToken,
        body: { to: 'it@wingtiptoys.example', subject: 'Invitation', body },
      });
    expect((await send('no link here')).status).toBe(400);
    for (let sendNumber = 1; sendNumber <= 3; sendNumber += 1) {
      expect((await send(invitation.draft.body)).status).toBe(202);
    }
    const fourth = await send(invitation.draft.body);
    expect(fourth.status).toBe(429);
    expect(fourth.body.code).toBe('rate-limited');
    const emails = await app.documents(pair.reseller.partnerId, 'email');
    expect(emails.filter((email) => email.kind === 'customer-invitation')).toHaveLength(3);
  });

  it('refuses with link-missing a body that lost the link or altered it', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const other = await draft(pair);
    for (const body of [
      'Hi, please accept our invitation.',
      invitation.draft.body.replace(invitation.link, invitation.link.slice(0, -1)),
      invitation.draft.body.replace(invitation.link, `${invitation.link.slice(0, -1)}X`),
      invitation.draft.body.replace(invitation.link, other.link),
    ]) {
      const response = await app.api(
        'POST',
        `/api/me/customer-invitations/${invitation.invitationId}/send`,
        {
          token: pair.reseller.adminToken,
          body: { to: 'it@wingtiptoys.example', subject: 'Invitation', body },
        },
      );
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('link-missing');
    }
    const emails = await app.documents(pair.reseller.partnerId, 'email');
    expect(emails.filter((email) => email.kind === 'customer-invitation')).toHaveLength(0);
  });

  it('records that the reseller sent it by hand', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const response = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/done`,
      { token: pair.reseller.adminToken },
    );
    expect(response.status).toBe(200);
    expect(response.body.handedOver).toBe('by-hand');
  });

  it('is not reachable by another partner (404)', async () => {
    const pair = await partnership(app);
    const other = await partnership(app);
    const invitation = await draft(pair);
    const response = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/done`,
      { token: other.reseller.adminToken },
    );
    expect(response.status).toBe(404);
  });
});

describe('revoking it', () => {
  const revoke = (invitationId: string, token: string) =>
    app.api('DELETE', `/api/me/customer-invitations/${invitationId}`, { token });

  it('revokes it for the reseller: its link then reads revoked and accepting it answers 410', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const agent = await app.token({ tenant: pair.reseller.partnerId, roles: ['AdminAgent'] });
    const revoked = await revoke(invitation.invitationId, agent);
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({
      invitationId: invitation.invitationId,
      status: 'revoked',
    });
    const token = tokenOf(invitation.link);
    const lookup = await app.api('POST', '/api/customer-invitations/lookup', { body: { token } });
    expect(lookup.body.status).toBe('revoked');
    const customerId = crypto.randomUUID();
    const accepted = await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(customerId),
      body: { token, companyName: 'Tailspin Toys', domain: uniqueDomain('t'), country: 'US' },
    });
    expect(accepted.status).toBe(410);
    expect(accepted.body.code).toBe('invitation-revoked');
    expect(
      await app.query('customers', `SELECT * FROM c WHERE c.customerId = '${customerId}'`),
    ).toEqual([]);
    // Revoking again answers the same and writes nothing more.
    const audits = (await app.documents(pair.reseller.partnerId, 'audit')).length;
    expect((await revoke(invitation.invitationId, pair.reseller.adminToken)).body.status).toBe(
      'revoked',
    );
    expect(await app.documents(pair.reseller.partnerId, 'audit')).toHaveLength(audits);
  });

  it('leaves nothing to send: sending a revoked invitation answers 410 invitation-revoked and queues no email', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    expect((await revoke(invitation.invitationId, pair.reseller.adminToken)).status).toBe(200);
    const before = await app.documents(pair.reseller.partnerId);
    const sent = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/send`,
      {
        token: pair.reseller.adminToken,
        body: { to: 'it@wingtiptoys.example', ...invitation.draft },
      },
    );
    expect(sent.status).toBe(410);
    expect(sent.body.code).toBe('invitation-revoked');
    expect(await app.documents(pair.reseller.partnerId)).toEqual(before);
    expect(
      (await app.documents(pair.reseller.partnerId, 'email')).filter(
        (email) => email.kind === 'customer-invitation',
      ),
    ).toEqual([]);
  });

  it('refuses a used invitation with 409, a SalesAgent with 403, and another partner with 404', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const sales = await app.token({ tenant: pair.reseller.partnerId, roles: ['SalesAgent'] });
    expect((await revoke(invitation.invitationId, sales)).status).toBe(403);
    const other = await partnership(app);
    expect((await revoke(invitation.invitationId, other.reseller.adminToken)).status).toBe(404);
    expect((await revoke(invitation.invitationId, pair.provider.adminToken)).status).toBe(404);
    await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(crypto.randomUUID()),
      body: {
        token: tokenOf(invitation.link),
        companyName: 'Tailspin Toys',
        domain: uniqueDomain('t'),
        country: 'US',
      },
    });
    const used = await revoke(invitation.invitationId, pair.reseller.adminToken);
    expect(used.status).toBe(409);
  });
});

describe('a customer accepting', () => {
  it('refuses a company name carrying a web address (it would reach both partners in platform emails), as a partner creating a customer is refused', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    for (const companyName of [
      'Pay at https://rnicrosoft-billing.example',
      'www.contoso-pay.example Ltd',
    ]) {
      const accepted = await app.api('POST', '/api/customer-invitations/accept', {
        token: await customerAdmin(crypto.randomUUID()),
        body: {
          token: tokenOf(invitation.link),
          companyName,
          domain: uniqueDomain('t'),
          country: 'US',
        },
      });
      expect(accepted.status).toBe(400);
      expect(accepted.body.errors[0].path).toBe('body.companyName');
      const created = await app.api('POST', '/api/me/customers', {
        token: pair.provider.adminToken,
        body: newCustomer({ companyName, indirectResellerId: pair.reseller.partnerId }),
      });
      expect(created.status).toBe(400);
    }
    const named = await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(crypto.randomUUID()),
      body: {
        token: tokenOf(invitation.link),
        companyName: 'Amazon.com, Inc.',
        domain: uniqueDomain('a'),
        country: 'US',
      },
    });
    expect(named.status).toBe(200);
  });

  it('makes both partners resellers of record of a new customer, which both then see', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const token = tokenOf(invitation.link);
    const customerId = crypto.randomUUID();

    const info = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: token },
    });
    expect(info.body).toMatchObject({ providerName: 'Adatum Distribution', status: 'pending' });

    const missing = await app.api('POST', '/api/customer-invitations/accept', {
      body: { token: token },
      token: await customerAdmin(customerId),
    });
    expect(missing.status).toBe(400);

    const domain = uniqueDomain('tailspin');
    const accepted = await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(customerId),
      body: { token: token, companyName: 'Tailspin Toys', domain, country: 'US' },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({
      customerId,
      companyName: 'Tailspin Toys',
      resellersOfRecord: [
        { partnerId: pair.reseller.partnerId, relationship: 'indirect-reseller' },
        { partnerId: pair.provider.partnerId, relationship: 'indirect-provider' },
      ],
    });
    const seenByReseller = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.reseller.adminToken,
    });
    expect(seenByReseller.body).toMatchObject({
      relationship: 'indirect-reseller',
      acquiredAs: 'indirect-provider',
      delegatedAdmin: true,
      domain,
    });
    const seenByProvider = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.provider.adminToken,
    });
    expect(seenByProvider.body).toMatchObject({
      relationship: 'indirect-provider',
      allowedActions: ['place-orders', 'view-order-history', 'bill-customer'],
    });
    expect(
      (await app.api('POST', '/api/customer-invitations/lookup', { body: { token: token } })).body
        .status,
    ).toBe('accepted');
  });

  it('refuses a non-admin of the customer, a partner tenant, and a second customer', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const token = tokenOf(invitation.link);
    const body = { companyName: 'Fabrikam', domain: uniqueDomain('fabrikam'), country: 'US' };
    const user = await app.token({ tenant: crypto.randomUUID(), roles: ['SalesAgent'] });
    expect(
      (
        await app.api('POST', '/api/customer-invitations/accept', {
          token: user,
          body: { token: token, ...body },
        })
      ).status,
    ).toBe(403);
    const partnerTenant = await app.api('POST', '/api/customer-invitations/accept', {
      token: pair.provider.adminToken,
      body: { token: token, ...body },
    });
    expect(partnerTenant.status).toBe(403);
    expect(partnerTenant.body.code).toBe('wrong-tenant');
    expect(
      (
        await app.api('POST', '/api/customer-invitations/accept', {
          token: await customerAdmin(crypto.randomUUID()),
          body: { token: token, ...body },
        })
      ).status,
    ).toBe(200);
    const second = await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(crypto.randomUUID()),
      body: { token: token, ...body, domain: uniqueDomain('other') },
    });
    expect(second.status).toBe(410);
    expect(second.body.code).toBe('invitation-used');
  });

  it('is accepted by exactly one of ten customers accepting one link at once; the rest get 410 invitation-used', async () => {
    const pair = await partnership(app);
    const token = tokenOf((await draft(pair)).link);
    const customers = Array.from({ length: 10 }, () => crypto.randomUUID());
    const answers = await Promise.all(
      customers.map(async (customerId, index) =>
        app.api('POST', '/api/customer-invitations/accept', {
          token: await customerAdmin(customerId),
          body: {
            token,
            companyName: `Racer ${index}`,
            domain: uniqueDomain('racer'),
            country: 'US',
          },
        }),
      ),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 410)).toHaveLength(9);
    for (const answer of answers.filter((answer) => answer.status === 410))
      expect(answer.body.code).toBe('invitation-used');
    const winner = answers.find((answer) => answer.status === 200)!.body.customerId;
    const resellerSide = await app.documents(pair.reseller.partnerId, 'customer-relationship');
    const providerSide = await app.documents(pair.provider.partnerId, 'customer-relationship');
    expect(resellerSide.map((relationship) => relationship.customerId)).toEqual([winner]);
    expect(providerSide.map((relationship) => relationship.customerId)).toEqual([winner]);
  });

  it('moves an existing direct customer of the reseller towards the provider, keeping its history', async () => {
    const pair = await partnership(app);
    // The reseller's own direct customer, from before it enrolled, accepts an invitation.
    const customerId = crypto.randomUUID();
    const now = app.clock.now().toISOString();
    const { relationshipFor } = await import('../../shared/domain/customers');
    await app.services.customers.commit(customerId, [
      {
        op: 'create',
        document: {
          type: 'customer',
          id: customerId,
          customerId,
          companyName: 'Long Time Customer',
          domain: uniqueDomain('longtime'),
          country: 'US',
          adminEmail: null,
          createdAt: now,
          createdBy: pair.reseller.partnerId,
        },
      },
    ]);
    await app.services.partners.commit(pair.reseller.partnerId, [
      {
        op: 'create',
        document: relationshipFor(
          pair.reseller.partnerId,
          {
            customerId,
            companyName: 'Long Time Customer',
            domain: 'longtime.example',
            country: 'US',
          },
          'direct-bill',
          {
            acquiredAs: 'direct-bill',
            delegatedAdmin: true,
            at: '2025-01-01T00:00:00.000Z',
            reason: 'created by the partner',
          },
        ),
      },
    ]);
    const invitation = await draft(pair);
    app.clock.advance({ days: 1 });
    const accepted = await app.api('POST', '/api/customer-invitations/accept', {
      body: { token: tokenOf(invitation.link) },
      token: await customerAdmin(customerId),
    });
    expect(accepted.status).toBe(200);
    const view = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.reseller.adminToken,
    });
    expect(view.body).toMatchObject({
      relationship: 'indirect-reseller',
      acquiredAs: 'direct-bill',
      indirectProvider: { partnerId: pair.provider.partnerId },
      since: '2025-01-01T00:00:00.000Z',
    });
    const [stored] = await app.documents(pair.reseller.partnerId, 'customer-relationship');
    expect(stored.history.map((change: { to: string }) => change.to)).toEqual([
      'direct-bill',
      'indirect-reseller',
    ]);
    const providerView = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.provider.adminToken,
    });
    expect(providerView.body.relationship).toBe('indirect-provider');
  });

  it('completes without duplicates when retried after a crash between the two partitions', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const token = tokenOf(invitation.link);
    const customerId = crypto.randomUUID();
    const body = { companyName: 'Crashy Corp', domain: uniqueDomain('crashy'), country: 'US' };
    const crashing = await startTestApp({
      clock: app.clock,
      env: { COSMOS_DATABASE: app.config.cosmos.database },
      decorate: (services) => ({
        ...services,
        partners: override(services.partners, {
          commit: async (partnerId, operations) => {
            if (partnerId === pair.provider.partnerId) throw new Error('process killed');
            return services.partners.commit(partnerId, operations);
          },
        }),
      }),
    });
    try {
      const first = await crashing.api('POST', '/api/customer-invitations/accept', {
        token: await crashing.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
        body: { token: token, ...body },
      });
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect(await app.documents(pair.reseller.partnerId, 'customer-relationship')).toHaveLength(1);
    expect(await app.documents(pair.provider.partnerId, 'customer-relationship')).toHaveLength(0);

    for (let attempt = 0; attempt < 2; attempt += 1) {
      const retry = await app.api('POST', '/api/customer-invitations/accept', {
        token: await customerAdmin(customerId),
        body: { token: token, ...body },
      });
      expect(retry.status).toBe(200);
    }
    expect(await app.documents(pair.reseller.partnerId, 'customer-relationship')).toHaveLength(1);
    expect(await app.documents(pair.provider.partnerId, 'customer-relationship')).toHaveLength(1);
    const providerList = await app.api('GET', '/api/me/customers', {
      token: pair.provider.adminToken,
    });
    expect(providerList.body.items.map((item: { customerId: string }) => item.customerId)).toEqual([
      customerId,
    ]);
  });

  it('lands on a page naming the reseller and the provider', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    // The server sees the page without its token; the page's script looks the token up.
    const response = await fetch(invitation.link);
    expect(response.status).toBe(200);
    expect(response.url).not.toContain('#');
    const lookup = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: tokenOf(invitation.link) },
    });
    expect(lookup.body).toMatchObject({ providerName: 'Adatum Distribution', status: 'pending' });
    expect(lookup.body.page.paragraphs.join(' ')).toContain('resellers of record');
    const unknown = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: 'nope' },
    });
    expect(unknown.status).toBe(404);
    // A customer's link is unknown to the partner invitations' page, as any other unknown link.
    const otherKind = await app.api('POST', '/api/partner-invitations/lookup', {
      body: { token: tokenOf(invitation.link) },
    });
    const unknownThere = await app.api('POST', '/api/partner-invitations/lookup', {
      body: { token: 'nope' },
    });
    expect({ status: otherKind.status, body: otherKind.body }).toEqual({
      status: 404,
      body: unknownThere.body,
    });
  });

  it('customer creation body is validated like any other', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const response = await app.api('POST', '/api/customer-invitations/accept', {
      token: await customerAdmin(crypto.randomUUID()),
      body: { token: tokenOf(invitation.link), ...newCustomer(), domain: 'not a domain' },
    });
    expect(response.status).toBe(400);
    expect(response.body.errors[0].path).toBe('body.domain');
  });
});
