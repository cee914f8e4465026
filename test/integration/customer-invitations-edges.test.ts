import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict, type PartnerDocument } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { relationshipFor } from '../../shared/domain/customers';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { profile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { uniqueDomain } from '../support/customers';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';

/**
 * The edges of customer invitations (docs/rules.md sections 8, 8b, 13): the texts each refusal
 * answers, the audit trail the reseller reads in its activity, the email queued, an invitation
 * of before `sends` and `partnershipInvitationId` were recorded, and the answers to a write that
 * lost a race.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-05-04T08:00:00.000Z') });
});
afterAll(() => app.close());

type Pair = Awaited<ReturnType<typeof partnership>>;

async function draft(pair: Pair) {
  const response = await app.api('POST', '/api/me/customer-invitations', {
    token: pair.reseller.adminToken,
    body: { providerId: pair.provider.partnerId },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as {
    invitationId: string;
    link: string;
    draft: { subject: string; body: string };
  };
}

const send = (pair: Pair, invitationId: string, email: { subject?: string; body: string }) =>
  app.api('POST', `/api/me/customer-invitations/${invitationId}/send`, {
    token: pair.reseller.adminToken,
    body: { to: 'it@wingtiptoys.example', subject: 'Invitation', ...email },
  });

const customerAdmin = (customerId: string, host: TestApp = app) =>
  host.token({ tenant: customerId, roles: ['GlobalAdmin'], name: 'Casey Customer' });

const accept = async (link: string, customerId: string, details: Record<string, unknown> = {}) =>
  app.api('POST', '/api/customer-invitations/accept', {
    token: await customerAdmin(customerId),
    body: { token: tokenOf(link), ...details },
  });

const newTenant = () => ({
  companyName: 'Tailspin Toys',
  domain: uniqueDomain('tailspin'),
  country: 'US',
});

/** The reseller's audit events of one action, as its activity lists them. */
async function activity(pair: Pair, action: string) {
  const page = await app.api('GET', '/api/me/activity?pageSize=100', {
    token: pair.reseller.adminToken,
  });
  expect(page.status).toBe(200);
  return page.body.items.filter((item: { action: string }) => item.action === action);
}

/** The reseller's line in its provider's pipeline (GET /api/me/reseller-pipeline). */
async function pipelineOf(pair: Pair) {
  const response = await app.api('GET', '/api/me/reseller-pipeline', {
    token: pair.provider.adminToken,
  });
  expect(response.status, response.text).toBe(200);
  return response.body.resellers.find(
    (line: { resellerId: string }) => line.resellerId === pair.reseller.partnerId,
  );
}

/** A customer the reseller acquired in direct bill before it enrolled, as stored. */
async function ownDirectCustomer(pair: Pair, companyName: string): Promise<string> {
  const customerId = crypto.randomUUID();
  const customer = { customerId, companyName, domain: uniqueDomain('own'), country: 'US' };
  await app.services.customers.commit(customerId, [
    {
      op: 'create',
      document: {
        type: 'customer',
        id: customerId,
        ...customer,
        adminEmail: null,
        createdAt: app.clock.now().toISOString(),
        createdBy: pair.reseller.partnerId,
      },
    },
  ]);
  await app.services.partners.commit(pair.reseller.partnerId, [
    {
      op: 'create',
      document: relationshipFor(pair.reseller.partnerId, customer, 'direct-bill', {
        acquiredAs: 'direct-bill',
        delegatedAdmin: true,
        at: '2025-11-01T00:00:00.000Z',
        reason: 'created by the partner',
      }),
    },
  ]);
  return customerId;
}

/** The stored invitation rewritten as an older version of the app would have left it. */
async function rewriteInvitation(
  pair: Pair,
  invitationId: string,
  change: (document: Record<string, unknown>) => Record<string, unknown>,
) {
  const found = await app.services.partners.invitationById(
    pair.reseller.partnerId,
    'customer-invitation',
    invitationId,
  );
  expect(found).not.toBeNull();
  await app.services.partners.commit(pair.reseller.partnerId, [
    {
      op: 'replace',
      document: change(found!.value as never) as never,
      etag: found!.etag,
    },
  ]);
}

/**
 * A second host on which another writer rewrites the customer invitation (unchanged, a new
 * etag) right after the host's first read of it, by id or by its link.
 */
async function racedOnInvitation() {
  let armed = true;
  const bump = async (services: Services, partnerId: string, found: unknown) => {
    const read = found as { value: PartnerDocument; etag: string } | null;
    if (!armed || read?.value.type !== 'customer-invitation') return;
    armed = false;
    await services.partners.commit(partnerId, [
      { op: 'replace', document: read.value, etag: read.etag },
    ]);
  };
  return startSecondHost(
    app,
    (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        invitationById: (async (partnerId: string, type: never, invitationId: string) => {
          const found = await services.partners.invitationById(partnerId, type, invitationId);
          await bump(services, partnerId, found);
          return found;
        }) as typeof services.partners.invitationById,
        getDocument: (async (partnerId: string, id: string) => {
          const found = await services.partners.getDocument(partnerId, id);
          await bump(services, partnerId, found);
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }),
    // The links it reads are the first host's: the same public address.
    { PUBLIC_BASE_URL: app.config.links.publicBaseUrl },
  );
}

describe('drafting', () => {
  it("records who drafted it for which provider in the reseller's activity, and drafts in the reseller's language", async () => {
    const pair = await partnership(app);
    const french = await app.api('PUT', '/api/me/profile', {
      token: pair.reseller.adminToken,
      body: profile(pair.reseller.record, { preferredLanguage: 'fr' }),
    });
    expect(french.status, french.text).toBe(200);
    const invitation = await draft(pair);
    const created = await activity(pair, 'customer-invitation-created');
    expect(created).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'user', tenantId: pair.reseller.partnerId }),
        reason: `invitation ${invitation.invitationId} with provider Adatum Distribution`,
      }),
    ]);
    const lookup = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: tokenOf(invitation.link) },
    });
    expect(lookup.body).toMatchObject({
      resellerName: pair.reseller.record.companyName,
      providerName: 'Adatum Distribution',
      status: 'pending',
    });
    expect(lookup.body.page.title).toBe(
      `${pair.reseller.record.companyName} vous invite à travailler avec lui et Adatum Distribution`,
    );
  });

  it('answers 404 naming the invitation for an id the reseller does not have', async () => {
    const pair = await partnership(app);
    for (const [method, suffix] of [
      ['POST', '/done'],
      ['DELETE', ''],
    ] as const) {
      const response = await app.api(
        method,
        `/api/me/customer-invitations/${crypto.randomUUID()}${suffix}`,
        { token: pair.reseller.adminToken },
      );
      expect(response.status).toBe(404);
      expect(response.body).toMatchObject({
        code: 'not-found',
        detail: 'The invitation was not found.',
      });
    }
  });
});

describe('sending', () => {
  it('queues the body under a separated footer, each link once, from the reseller with its provider, and records the send', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const body = `Hello,\n\n${invitation.link}\n\nOnce more: ${invitation.link}`;
    const sent = await send(pair, invitation.invitationId, { subject: 'Join us', body });
    expect(sent.status, sent.text).toBe(202);
    expect(sent.body).toEqual({
      invitationId: invitation.invitationId,
      status: 'active',
      handedOver: 'sent',
      sentTo: 'it@wingtiptoys.example',
      expiresAt: expect.any(String),
    });
    const [email] = (await app.documents(pair.reseller.partnerId, 'email')).filter(
      (queued) => queued.kind === 'customer-invitation',
    );
    const reseller = pair.reseller.record.companyName;
    expect(email).toMatchObject({
      to: 'it@wingtiptoys.example',
      subject: 'Join us',
      links: [invitation.link],
      fromName: `${reseller} (Adatum Distribution)`,
    });
    expect(email.text.startsWith(`${body}\n\n________\n`)).toBe(true);
    expect(email.text).toContain(
      `sent by ${reseller}, an indirect reseller of Adatum Distribution`,
    );
    const sends = await activity(pair, 'customer-invitation-sent');
    expect(sends.map((event: { reason: string }) => event.reason)).toEqual([
      `invitation ${invitation.invitationId}`,
    ]);
  });

  it('names what to do when the body lost the link', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const refused = await send(pair, invitation.invitationId, { body: 'Please join us.' });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'link-missing',
      detail:
        'The email body must contain the invitation link exactly as drafted; put it back and send again.',
      errors: [{ path: 'body.body', message: 'does not contain the invitation link' }],
    });
  });

  it('names every other link, in the subject and in the body, each at its own field', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const refused = await send(pair, invitation.invitationId, {
      subject: 'See contoso-billing.example',
      body: `${invitation.link}\nPay at https://phish.example/pay`,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'link-not-allowed',
      detail:
        'The email may carry no link but the invitation link: remove contoso-billing.example, https://phish.example/pay.',
      errors: [
        {
          path: 'body.subject',
          message: 'holds contoso-billing.example, which is not the invitation link',
        },
        {
          path: 'body.body',
          message: 'holds https://phish.example/pay, which is not the invitation link',
        },
      ],
    });
  });

  it("takes the partners' own names for what they are, not links, in the subject and the body", async () => {
    const provider = await createProvider(app, { companyName: 'Fabrikam.net Distribution' });
    const reseller = await activeReseller(app, { companyName: 'Contoso.io Services' });
    const invited = await inviteReseller(app, provider, reseller);
    const joined = await app.api('POST', '/api/partner-invitations/accept', {
      token: reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(joined.status, joined.text).toBe(200);
    const pair = { provider, reseller } as Pair;
    const invitation = await draft(pair);
    const sent = await send(pair, invitation.invitationId, {
      subject: 'Contoso.io Services and Fabrikam.net Distribution invite you',
      body: `${invitation.draft.body}\n\nContoso.io Services, with Fabrikam.net Distribution`,
    });
    expect(sent.status, sent.text).toBe(202);
  });

  it('says how often an invitation may be sent and what to do instead', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    for (let sendNumber = 1; sendNumber <= 3; sendNumber += 1)
      expect((await send(pair, invitation.invitationId, invitation.draft)).status).toBe(202);
    const refused = await send(pair, invitation.invitationId, invitation.draft);
    expect(refused.status).toBe(429);
    expect(refused.body.detail).toBe(
      'An invitation is sent at most 3 times; create a new invitation, or copy it and send it yourself.',
    );
  });

  it('counts an invitation recorded as sent before sends were counted as sent once, and one handed over by hand as not sent', async () => {
    const pair = await partnership(app);
    const legacySent = await draft(pair);
    const legacyByHand = await draft(pair);
    const withoutSends = ({ sends: _sends, ...rest }: Record<string, unknown>) => rest;
    await rewriteInvitation(pair, legacySent.invitationId, (document) => ({
      ...withoutSends(document),
      handedOver: 'sent',
    }));
    await rewriteInvitation(pair, legacyByHand.invitationId, (document) => ({
      ...withoutSends(document),
      handedOver: 'by-hand',
    }));
    for (let sendNumber = 2; sendNumber <= 3; sendNumber += 1)
      expect((await send(pair, legacySent.invitationId, legacySent.draft)).status).toBe(202);
    expect((await send(pair, legacySent.invitationId, legacySent.draft)).status).toBe(429);
    for (let sendNumber = 1; sendNumber <= 3; sendNumber += 1)
      expect((await send(pair, legacyByHand.invitationId, legacyByHand.draft)).status).toBe(202);
    expect((await send(pair, legacyByHand.invitationId, legacyByHand.draft)).status).toBe(429);
  });

  it('sends an invitation drafted before invitations named their partnership while the partnership holds', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    await rewriteInvitation(
      pair,
      invitation.invitationId,
      ({ partnershipInvitationId: _drafted, ...rest }) => rest,
    );
    expect((await send(pair, invitation.invitationId, invitation.draft)).status).toBe(202);
  });

  it('names the partners of the partnership that ended', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const ended = await app.api('DELETE', `/api/me/indirect-resellers/${pair.reseller.partnerId}`, {
      token: pair.provider.adminToken,
    });
    expect(ended.status).toBe(200);
    const refused = await send(pair, invitation.invitationId, invitation.draft);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'partnership-ended',
      detail: `The partnership between ${pair.reseller.record.companyName} and Adatum Distribution that this invitation names has ended: it can no longer be sent or accepted.`,
    });
  });

  it('answers 409 with what to do when the invitation changed between its read and the send, sending nothing', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const raced = await racedOnInvitation();
    try {
      const refused = await raced.api(
        'POST',
        `/api/me/customer-invitations/${invitation.invitationId}/send`,
        {
          token: pair.reseller.adminToken,
          body: { to: 'it@wingtiptoys.example', ...invitation.draft },
        },
      );
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The invitation changed meanwhile; read it again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(
      (await app.documents(pair.reseller.partnerId, 'email')).filter(
        (email) => email.kind === 'customer-invitation',
      ),
    ).toEqual([]);
  });
});

describe('sending while the hourly counter moves', () => {
  /** A host refusing the send's batch (the counter first) with a moved counter, `times` times. */
  async function refusingHost(pair: Pair, times: number) {
    let batches = 0;
    const host = await startSecondHost(
      app,
      (services: Services) => ({
        ...services,
        partners: override(services.partners, {
          commit: async (partnerId, operations) => {
            const sends = operations.some(
              (operation) =>
                operation.op === 'replace' && operation.document.type === 'customer-invitation',
            );
            if (partnerId === pair.reseller.partnerId && sends) {
              batches += 1;
              if (batches <= times) throw new WriteConflict('changed', 0);
            }
            return services.partners.commit(partnerId, operations);
          },
        }),
      }),
      { PUBLIC_BASE_URL: app.config.links.publicBaseUrl },
    );
    const sendOn = (invitation: Awaited<ReturnType<typeof draft>>) =>
      host.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/send`, {
        token: pair.reseller.adminToken,
        body: { to: 'it@wingtiptoys.example', ...invitation.draft },
      });
    return { host, batches: () => batches, sendOn };
  }

  it('counts again when another action moved the counter, and sends', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const { host, batches, sendOn } = await refusingHost(pair, 1);
    try {
      expect((await sendOn(invitation)).status).toBe(202);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(batches()).toBe(2);
  });

  it('gives up after 10 counts refused by a counter that keeps moving, with 409, sending nothing', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const { host, batches, sendOn } = await refusingHost(pair, Number.POSITIVE_INFINITY);
    try {
      expect((await sendOn(invitation)).status).toBe(409);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(batches()).toBe(10);
    expect(
      (await app.documents(pair.reseller.partnerId, 'email')).filter(
        (email) => email.kind === 'customer-invitation',
      ),
    ).toEqual([]);
  });
});

describe('handing it over by hand', () => {
  it('records it once, and answers the same again even after the partnership ended', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const done = () =>
      app.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/done`, {
        token: pair.reseller.adminToken,
      });
    expect((await done()).body.handedOver).toBe('by-hand');
    const ended = await app.api('DELETE', `/api/me/indirect-resellers/${pair.reseller.partnerId}`, {
      token: pair.provider.adminToken,
    });
    expect(ended.status).toBe(200);
    const again = await done();
    expect(again.status).toBe(200);
    expect(again.body.handedOver).toBe('by-hand');
    const recorded = await activity(pair, 'customer-invitation-handed-over');
    expect(recorded.map((event: { reason: string }) => event.reason)).toEqual([
      `invitation ${invitation.invitationId} sent by hand`,
    ]);
  });
});

describe('revoking', () => {
  it('records the revocation, and says why an accepted invitation cannot be revoked', async () => {
    const pair = await partnership(app);
    const revokedOne = await draft(pair);
    const revoked = await app.api(
      'DELETE',
      `/api/me/customer-invitations/${revokedOne.invitationId}`,
      { token: pair.reseller.adminToken },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({
      invitationId: revokedOne.invitationId,
      status: 'revoked',
      handedOver: 'not-yet',
      sentTo: null,
      expiresAt: expect.any(String),
    });
    const recorded = await activity(pair, 'customer-invitation-revoked');
    const again = await app.api(
      'DELETE',
      `/api/me/customer-invitations/${revokedOne.invitationId}`,
      { token: pair.reseller.adminToken },
    );
    expect(again.body).toEqual(revoked.body);
    expect(recorded.map((event: { reason: string }) => event.reason)).toEqual([
      `invitation ${revokedOne.invitationId}`,
    ]);
    expect(await activity(pair, 'customer-invitation-revoked')).toEqual(recorded);

    const acceptedOne = await draft(pair);
    expect((await accept(acceptedOne.link, crypto.randomUUID(), newTenant())).status).toBe(200);
    const refused = await app.api(
      'DELETE',
      `/api/me/customer-invitations/${acceptedOne.invitationId}`,
      { token: pair.reseller.adminToken },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      'The invitation has been accepted already; it can no longer be revoked.',
    );
  });

  it('revokes an invitation that changed between its read and the revocation, reading it again', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const raced = await racedOnInvitation();
    try {
      const revoked = await raced.api(
        'DELETE',
        `/api/me/customer-invitations/${invitation.invitationId}`,
        { token: pair.reseller.adminToken },
      );
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.body.status).toBe('revoked');
    } finally {
      await raced.close({ keepDatabase: true });
    }
    const lookup = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: tokenOf(invitation.link) },
    });
    expect(lookup.body.status).toBe('revoked');
  });
});

describe('accepting', () => {
  it('says a partner tenant cannot accept it', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const refused = await app.api('POST', '/api/customer-invitations/accept', {
      token: pair.provider.adminToken,
      body: { token: tokenOf(invitation.link), ...newTenant() },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'wrong-tenant',
      detail: 'This invitation is for a customer tenant; a partner tenant cannot accept it.',
    });
  });

  it('asks a tenant that is not a customer yet for each detail it left out', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    const full = newTenant();
    const message = 'is required for a tenant that is not a customer yet';
    const detail =
      'This tenant is not a customer yet: tell us the organisation (companyName, domain and country).';
    const all = await accept(invitation.link, customerId, {});
    expect(all.status).toBe(400);
    expect(all.body).toMatchObject({
      code: 'validation-failed',
      detail,
      errors: [
        { path: 'body.companyName', message },
        { path: 'body.domain', message },
        { path: 'body.country', message },
      ],
    });
    for (const left of ['companyName', 'domain', 'country'] as const) {
      const { [left]: _left, ...given } = full;
      const refused = await accept(invitation.link, customerId, given);
      expect(refused.status, left).toBe(400);
      expect(refused.body.errors, left).toEqual([{ path: `body.${left}`, message }]);
    }
    expect(
      await app.query('customers', `SELECT * FROM c WHERE c.customerId = '${customerId}'`),
    ).toEqual([]);
  });

  it("records the new customer with who created it, both relationships' reasons, and the acceptance in the reseller's activity", async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    const details = newTenant();
    const accepted = await accept(invitation.link, customerId, details);
    expect(accepted.status, accepted.text).toBe(200);
    const [customer] = await app.query(
      'customers',
      `SELECT * FROM c WHERE c.customerId = '${customerId}' AND c.type = 'customer'`,
    );
    expect(customer).toMatchObject({
      ...details,
      adminEmail: null,
      createdBy: pair.reseller.partnerId,
      createdAt: app.clock.now().toISOString(),
    });
    const reseller = pair.reseller.record.companyName;
    // A customer new to the reseller was never its own: not one it extended to the provider.
    expect(await pipelineOf(pair)).toMatchObject({ customersExtended: 0 });
    const [resellerSide] = await app.documents(pair.reseller.partnerId, 'customer-relationship');
    expect(resellerSide.history.at(-1).reason).toBe(
      'accepted an invitation with Adatum Distribution',
    );
    const [providerSide] = await app.documents(pair.provider.partnerId, 'customer-relationship');
    expect(providerSide.history.at(-1).reason).toBe(`customer accepted ${reseller}'s invitation`);
    const seenByProvider = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.provider.adminToken,
    });
    expect(seenByProvider.body).toMatchObject({
      relationship: 'indirect-provider',
      acquiredAs: 'indirect-provider',
      indirectReseller: { partnerId: pair.reseller.partnerId, companyName: reseller },
      delegatedAdmin: false,
      since: app.clock.now().toISOString(),
    });
    expect(await activity(pair, 'customer-accepted-invitation')).toEqual([
      expect.objectContaining({
        from: null,
        to: 'indirect-reseller',
        reason: `customer ${customerId} (Tailspin Toys) with provider Adatum Distribution`,
      }),
    ]);
  });

  it("records a direct customer of the reseller's moving towards the provider as from direct bill", async () => {
    const pair = await partnership(app);
    const customerId = await ownDirectCustomer(pair, 'Own Customer');
    const invitation = await draft(pair);
    expect((await accept(invitation.link, customerId)).status).toBe(200);
    expect(await pipelineOf(pair)).toMatchObject({ customersExtended: 1 });
    expect(await activity(pair, 'customer-accepted-invitation')).toEqual([
      expect.objectContaining({
        from: 'direct-bill',
        to: 'indirect-reseller',
        reason: `customer ${customerId} (Own Customer) with provider Adatum Distribution`,
      }),
    ]);
  });

  it("keeps the time the reseller's first own customer moved towards a provider when a second one moves", async () => {
    const pair = await partnership(app);
    const first = await ownDirectCustomer(pair, 'First Mover');
    const second = await ownDirectCustomer(pair, 'Second Mover');
    const firstMovedAt = app.clock.now().toISOString();
    expect((await accept((await draft(pair)).link, first)).status).toBe(200);
    app.clock.advance({ days: 1 });
    expect((await accept((await draft(pair)).link, second)).status).toBe(200);
    const transition = await app.api('GET', '/api/me/transition', {
      token: pair.reseller.adminToken,
    });
    expect(transition.status, transition.text).toBe(200);
    expect(
      transition.body.steps.find((step: { step: string }) => step.step === 'customers'),
    ).toMatchObject({ status: 'done', at: firstMovedAt });
  });

  it('keeps the time of the acceptance when a retry completes it after a crash between the partitions', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    const details = newTenant();
    const acceptedAt = app.clock.now().toISOString();
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === pair.provider.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await crashing.api('POST', '/api/customer-invitations/accept', {
        token: await customerAdmin(customerId, crashing),
        body: { token: tokenOf(invitation.link), ...details },
      });
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    app.clock.advance({ hours: 2 });
    const retried = await accept(invitation.link, customerId, details);
    expect(retried.status, retried.text).toBe(200);
    for (const side of [pair.reseller, pair.provider]) {
      const seen = await app.api('GET', `/api/me/customers/${customerId}`, {
        token: side.adminToken,
      });
      expect(seen.body.since, side.partnerId).toBe(acceptedAt);
    }
  });

  it('answers 409 with what to do when the invitation changed, still open, between its read and the acceptance', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    const raced = await racedOnInvitation();
    try {
      const refused = await raced.api('POST', '/api/customer-invitations/accept', {
        token: await customerAdmin(customerId, raced),
        body: { token: tokenOf(invitation.link), ...newTenant() },
      });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The invitation changed meanwhile; try again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(await app.documents(pair.provider.partnerId, 'customer-relationship')).toEqual([]);
    const lookup = await app.api('POST', '/api/customer-invitations/lookup', {
      body: { token: tokenOf(invitation.link) },
    });
    expect(lookup.body.status).toBe('pending');
  });
});
