import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../shared/app/ports';
import { directoryPartition } from '../../shared/domain/providers';
import {
  failingPartnerWrites,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type ApiResponse,
  type TestApp,
} from '../support/app';
import {
  createPartner,
  createPartnerWithProfile,
  globalAdminToken,
  masterRecord,
  uniqueMpnId,
} from '../support/builders';
import { ManualClock } from '../support/clock';
import { activeReseller, approvedPartner, submitEnrollment } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

describe('the provider directory', () => {
  it('is closed to partners that are not enrolled', async () => {
    const pending = await createPartnerWithProfile(app, { mpnVerified: false });
    await submitEnrollment(app, pending);
    const response = await app.api('GET', '/api/indirect-providers', { token: pending.adminToken });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
  });

  it('lists providers sorted by name, filtered by region and service, paged', async () => {
    const directory = await startTestApp();
    try {
      await createProvider(directory, {
        companyName: 'zeta Supply',
        regions: ['FR', 'BE'],
        services: ['marketing'],
      });
      await createProvider(directory, {
        companyName: 'Alpha Distribution',
        regions: ['US'],
        services: ['credit-financing'],
      });
      await createProvider(directory, {
        companyName: 'Mu Partners',
        regions: ['FR', 'US'],
        services: ['marketing', 'training-support'],
      });
      const reseller = await approvedPartner(directory);
      const token = reseller.adminToken;

      const all = await directory.api('GET', '/api/indirect-providers', { token });
      expect(all.status).toBe(200);
      expect(all.body.items.map((item: { companyName: string }) => item.companyName)).toEqual([
        'Alpha Distribution',
        'Mu Partners',
        'zeta Supply',
      ]);
      expect(all.body.items[0]).toEqual({
        partnerId: expect.any(String),
        companyName: 'Alpha Distribution',
        regions: ['US'],
        services: ['credit-financing'],
      });

      const french = await directory.api('GET', '/api/indirect-providers?region=fr', { token });
      expect(french.body.items.map((item: { companyName: string }) => item.companyName)).toEqual([
        'Mu Partners',
        'zeta Supply',
      ]);
      const marketingInUs = await directory.api(
        'GET',
        '/api/indirect-providers?region=US&service=marketing',
        { token },
      );
      expect(
        marketingInUs.body.items.map((item: { companyName: string }) => item.companyName),
      ).toEqual(['Mu Partners']);

      const first = await directory.api('GET', '/api/indirect-providers?pageSize=2', { token });
      expect(first.body.items).toHaveLength(2);
      const second = await directory.api(
        'GET',
        `/api/indirect-providers?pageSize=2&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
        { token },
      );
      expect(second.body.items.map((item: { companyName: string }) => item.companyName)).toEqual([
        'zeta Supply',
      ]);
      expect(second.body.continuationToken).toBeNull();

      const badService = await directory.api('GET', '/api/indirect-providers?service=catering', {
        token,
      });
      expect(badService.status).toBe(400);
    } finally {
      await directory.close();
    }
  });

  it('drops a partner from the directory when the operator removes its provider program', async () => {
    const directory = await startTestApp();
    try {
      const provider = await createProvider(directory, { companyName: 'Leaving Soon' });
      const reseller = await approvedPartner(directory);
      expect(
        (await directory.api('GET', '/api/indirect-providers', { token: reseller.adminToken })).body
          .items,
      ).toHaveLength(1);
      await directory.api('PUT', `/api/operator/partners/${provider.partnerId}`, {
        token: await directory.operatorToken(),
        body: { ...provider.record, programs: { directBill: true } },
      });
      expect(
        (await directory.api('GET', '/api/indirect-providers', { token: reseller.adminToken })).body
          .items,
      ).toHaveLength(0);
    } finally {
      await directory.close();
    }
  });

  it('answers 503 when Cosmos fails at dropping a listing, and a rerun of the PUT drops it', async () => {
    const provider = await createProvider(app, { companyName: 'Leaving Later' });
    const listed = async () =>
      (await app.documents(directoryPartition, 'provider-listing')).filter(
        (listing: { providerId: string }) => listing.providerId === provider.partnerId,
      );
    expect(await listed()).toHaveLength(1);
    const record = { ...provider.record, programs: { directBill: true } };
    const failing = await startSecondHost(
      app,
      failingPartnerWrites((partition, operations) =>
        partition === directoryPartition && operations[0]?.op === 'delete'
          ? new DependencyUnavailable('cosmos')
          : null,
      ),
    );
    try {
      const down = await failing.api('PUT', `/api/operator/partners/${provider.partnerId}`, {
        token: await failing.operatorToken(),
        body: record,
      });
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('unavailable');
    } finally {
      await failing.close({ keepDatabase: true });
    }
    const rerun = await app.api('PUT', `/api/operator/partners/${provider.partnerId}`, {
      token: await app.operatorToken(),
      body: record,
    });
    expect(rerun.status).toBe(200);
    expect(await listed()).toEqual([]);
  });

  it('refuses to record one MPN ID for two partners', async () => {
    const mpnId = uniqueMpnId();
    const operator = await app.operatorToken();
    const first = await app.api('PUT', `/api/operator/partners/${crypto.randomUUID()}`, {
      token: operator,
      body: masterRecord({ mpnId }),
    });
    expect(first.status).toBe(201);
    const second = await app.api('PUT', `/api/operator/partners/${crypto.randomUUID()}`, {
      token: operator,
      body: masterRecord({ mpnId }),
    });
    expect(second.status).toBe(409);
  });
});

describe('reseller invitations', () => {
  it('are sent by a provider: the invitation, its link, and its email in the outbox', async () => {
    const provider = await createProvider(app, { companyName: 'Adatum Distribution' });
    const reseller = await activeReseller(app);
    const response = await inviteReseller(app, provider, reseller, 'it-admin@reseller.example');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      invitationId: expect.any(String),
      status: 'pending',
      mpnId: reseller.record.mpnId,
      expiresAt: '2026-04-01T09:00:00.000Z',
    });
    expect(response.body.link).toMatch(
      new RegExp(
        `^${app.url}/api/links/partner-invitations#[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`,
      ),
    );

    const [email] = await app.documents(provider.partnerId, 'email');
    expect(email).toMatchObject({
      kind: 'partner-invitation',
      to: 'it-admin@reseller.example',
      status: 'pending',
    });
    expect(email.subject).toBe('Adatum Distribution invites you to become its indirect reseller');
    expect(email.links).toEqual([response.body.link]);
  });

  it("are written in the language of the invited MPN ID's partner as its country is now (docs/rules.md, Emails)", async () => {
    const provider = await createProvider(app);
    const { partnerId, record } = await createPartner(app, { country: 'US' });
    const invitedIn = async (): Promise<string> => {
      const invited = await inviteReseller(app, provider, { record });
      const lookup = await app.api('POST', '/api/partner-invitations/lookup', {
        body: { token: tokenOf(invited.body.link) },
      });
      return lookup.body.language;
    };
    expect(await invitedIn()).toBe('en');
    const moved = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
      body: { ...record, country: 'FR' },
    });
    expect(moved.status).toBe(200);
    expect(await invitedIn()).toBe('fr');
  });

  it('are refused to a partner that is not a provider', async () => {
    const notProvider = await activeReseller(app);
    const other = await activeReseller(app);
    const response = await inviteReseller(app, notProvider, other);
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('forbidden');
  });

  it('may be sent by an AdminAgent but not a SalesAgent', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const agent = await inviteReseller(
      app,
      { adminToken: await app.token({ tenant: provider.partnerId, roles: ['AdminAgent'] }) },
      reseller,
    );
    expect(agent.status).toBe(201);
    const sales = await inviteReseller(
      app,
      { adminToken: await app.token({ tenant: provider.partnerId, roles: ['SalesAgent'] }) },
      reseller,
    );
    expect(sales.status).toBe(403);
  });

  it('are sent to any MPN ID alike, the region checked when the reseller accepts (no MPN ID oracle)', async () => {
    const provider = await createProvider(app, { regions: ['US', 'CA'] });
    const french = await activeReseller(app, { country: 'FR' });
    const known = await inviteReseller(app, provider, french);
    const unknown = await inviteReseller(app, provider, { record: { mpnId: uniqueMpnId() } });
    // A registered partner outside the regions and an unknown MPN ID get the same answer.
    expect([known.status, unknown.status]).toEqual([201, 201]);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(known.body.link) },
      token: french.adminToken,
    });
    expect(accepted.status).toBe(403);
    expect(accepted.body.code).toBe('region-mismatch');
    expect(await app.documents(french.partnerId, 'partnership')).toEqual([]);
  });

  it('are refused with 409 for a reseller already in partnership', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: reseller.adminToken,
    });
    const again = await inviteReseller(app, provider, reseller);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('conflict');
  });

  it('can be revoked by the provider, and by nobody else (404)', async () => {
    const provider = await createProvider(app);
    const otherProvider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const id = invited.body.invitationId;

    const foreign = await app.api('DELETE', `/api/me/reseller-invitations/${id}`, {
      token: otherProvider.adminToken,
    });
    expect(foreign.status).toBe(404);
    expect(foreign.text).not.toContain(reseller.record.mpnId!);

    const revoked = await app.api('DELETE', `/api/me/reseller-invitations/${id}`, {
      token: provider.adminToken,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');
    const list = await app.api('GET', '/api/me/reseller-invitations', {
      token: provider.adminToken,
    });
    expect(list.body.items).toEqual([
      expect.objectContaining({ invitationId: id, status: 'revoked' }),
    ]);
  });
});

describe("reading a provider's invitations", () => {
  it('takes the roles that invite: a SalesAgent does not see the invitees', async () => {
    const provider = await createProvider(app, { companyName: 'Readers Distribution' });
    const reseller = await activeReseller(app);
    expect((await inviteReseller(app, provider, reseller, 'invitee@hidden.example')).status).toBe(
      201,
    );
    const sales = await app.token({ tenant: provider.partnerId, roles: ['SalesAgent'] });
    const refused = await app.api('GET', '/api/me/reseller-invitations', { token: sales });
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('invitee@hidden.example');
    const agent = await app.token({ tenant: provider.partnerId, roles: ['AdminAgent'] });
    const list = await app.api('GET', '/api/me/reseller-invitations', { token: agent });
    expect(list.body.items).toEqual([expect.objectContaining({ email: 'invitee@hidden.example' })]);
  });
});

describe('accepting an invitation', () => {
  it('creates the partnership on both sides and consumes the link', async () => {
    const provider = await createProvider(app, {
      companyName: 'Adatum Distribution',
      regions: ['US'],
      services: ['marketing'],
    });
    const reseller = await activeReseller(app, { companyName: 'Fourth Coffee IT' });
    const invited = await inviteReseller(app, provider, reseller);
    const token = tokenOf(invited.body.link);

    const info = await app.api('POST', '/api/partner-invitations/lookup', {
      body: { token: token },
    });
    expect(info.body).toMatchObject({
      providerName: 'Adatum Distribution',
      status: 'pending',
      expiresAt: invited.body.expiresAt,
      language: 'en',
    });

    app.clock.advance({ hours: 1 });
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: token },
      token: reseller.adminToken,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.provider).toEqual({
      partnerId: provider.partnerId,
      companyName: 'Adatum Distribution',
      regions: ['US'],
      services: ['marketing'],
      since: '2026-03-02T10:00:00.000Z',
      status: 'active',
    });

    const providers = await app.api('GET', '/api/me/indirect-providers', {
      token: reseller.adminToken,
    });
    expect(providers.body.items).toEqual([accepted.body.provider]);
    const resellers = await app.api('GET', '/api/me/indirect-resellers', {
      token: provider.adminToken,
    });
    expect(resellers.body.items).toEqual([
      {
        partnerId: reseller.partnerId,
        companyName: 'Fourth Coffee IT',
        mpnId: reseller.record.mpnId,
        country: 'US',
        since: '2026-03-02T10:00:00.000Z',
        status: 'active',
      },
    ]);
    expect(
      (await app.api('POST', '/api/partner-invitations/lookup', { body: { token: token } })).body
        .status,
    ).toBe('accepted');
    const again = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: token },
      token: reseller.adminToken,
    });
    expect(again.status).toBe(410);
    expect(again.body.code).toBe('invitation-used');
  });

  it('refuses the global admin of another tenant with wrong-tenant', async () => {
    const provider = await createProvider(app);
    const invitedReseller = await activeReseller(app);
    const otherReseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, invitedReseller);
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: otherReseller.adminToken,
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('wrong-tenant');
    expect(
      (
        await app.api('POST', '/api/partner-invitations/lookup', {
          body: { token: tokenOf(invited.body.link) },
        })
      ).body.status,
    ).toBe('pending');
  });

  it('refuses a tenant that is not a partner at all with wrong-tenant', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const stranger = await app.token({ tenant: crypto.randomUUID(), roles: ['GlobalAdmin'] });
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: stranger,
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('wrong-tenant');
  });

  it('refuses anyone but a global admin of the reseller', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const agent = await app.token({ tenant: reseller.partnerId, roles: ['AdminAgent'] });
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: agent,
    });
    expect(response.status).toBe(403);
  });

  it('refuses a reseller whose country left the provider regions', async () => {
    // Invited before it was known to the directory; checked again on acceptance.
    const provider = await createProvider(app, { regions: ['US'] });
    const mpnId = uniqueMpnId();
    const invited = await app.api('POST', '/api/me/reseller-invitations', {
      token: provider.adminToken,
      body: { mpnId, email: 'new@reseller.example' },
    });
    expect(invited.status).toBe(201);
    const reseller = await activeReseller(app, { country: 'FR', mpnId });
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: reseller.adminToken,
    });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('region-mismatch');
  });

  it('requires the reseller to be enrolled', async () => {
    const provider = await createProvider(app);
    const notEnrolled = await createPartnerWithProfile(app);
    const invited = await inviteReseller(app, provider, notEnrolled);
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: notEnrolled.adminToken,
    });
    expect(response.status).toBe(403);
  });

  it('answers an expired link with 410, the clock moved past 30 days', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    app.clock.advance({ days: 30 });
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: await globalAdminToken(app, reseller.partnerId),
    });
    expect(response.status).toBe(410);
    expect(response.body.code).toBe('invitation-expired');
  });

  it('accepts a link until a millisecond before it expires', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const now = app.clock.now();
    app.clock.set(new Date(Date.parse(invited.body.expiresAt) - 1));
    try {
      const response = await app.api('POST', '/api/partner-invitations/accept', {
        body: { token: tokenOf(invited.body.link) },
        token: await globalAdminToken(app, reseller.partnerId),
      });
      expect(response.status, response.text).toBe(200);
    } finally {
      app.clock.set(now);
    }
  });

  it('answers a revoked link with 410 invitation-revoked', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    await app.api('DELETE', `/api/me/reseller-invitations/${invited.body.invitationId}`, {
      token: provider.adminToken,
    });
    const response = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: tokenOf(invited.body.link) },
      token: reseller.adminToken,
    });
    expect(response.status).toBe(410);
    expect(response.body.code).toBe('invitation-revoked');
  });

  it('answers an unknown link with 404, whatever it looks like', async () => {
    const reseller = await activeReseller(app);
    for (const token of [
      'nope',
      'AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      '..%2F..%2Fetc',
    ]) {
      const response = await app.api('POST', '/api/partner-invitations/accept', {
        body: { token: token },
        token: reseller.adminToken,
      });
      expect(response.status).toBe(404);
      expect(response.body.code).toBe('not-found');
    }
  });

  it('gives exactly one 200 and one partnership to fifty concurrent accepts; the rest get 410', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const token = tokenOf(invited.body.link);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.api('POST', '/api/partner-invitations/accept', {
          body: { token: token },
          token: reseller.adminToken,
        }),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.filter((status) => status === 410)).toHaveLength(49);
    expect(
      responses
        .filter((response) => response.status === 410)
        .every((response) => response.body.code === 'invitation-used'),
    ).toBe(true);
    expect(await app.documents(provider.partnerId, 'partnership')).toHaveLength(1);
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(1);
  });

  it('does not let an accept overwrite a revoke that landed between its read and its write', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const invitationId = invited.body.invitationId;
    let revoke: Promise<ApiResponse> | undefined;
    // A second host accepts; just before its batch, the provider revokes through the first host.
    const accepting = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const consumesLink = operations.some(
            (operation) =>
              'document' in operation && operation.document.type === 'reseller-invitation',
          );
          if (consumesLink && !revoke) {
            revoke = app.api('DELETE', `/api/me/reseller-invitations/${invitationId}`, {
              token: provider.adminToken,
            });
            expect((await revoke).status).toBe(200);
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const accept = await accepting.api('POST', '/api/partner-invitations/accept', {
        token: reseller.adminToken,
        body: { token: tokenOf(invited.body.link) },
      });
      expect(revoke).toBeDefined();
      expect(accept.status).toBe(410);
      expect(accept.body.code).toBe('invitation-revoked');
    } finally {
      await accepting.close();
    }
    const list = await app.api('GET', '/api/me/reseller-invitations', {
      token: provider.adminToken,
    });
    expect(list.body.items).toEqual([expect.objectContaining({ invitationId, status: 'revoked' })]);
    // The batch that lost rolled back whole (on the embedded emulator as on Azure).
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(0);
    expect(await app.documents(provider.partnerId, 'partnership')).toHaveLength(0);
  });

  it('does not let a revoke overwrite an accept that landed between its read and its write (409)', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const invitationId = invited.body.invitationId as string;
    // A second host revokes: it reads the invitation still pending, and waits while it is used.
    const held = gate();
    let armed = true;
    const revoking = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        invitationById: (async (...args: Parameters<typeof services.partners.invitationById>) => {
          const found = await services.partners.invitationById(...args);
          if (armed && found) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.invitationById,
      }),
    }));
    try {
      const revoke = revoking.api('DELETE', `/api/me/reseller-invitations/${invitationId}`, {
        token: provider.adminToken,
      });
      await held.reached;
      const accept = await app.api('POST', '/api/partner-invitations/accept', {
        token: reseller.adminToken,
        body: { token: tokenOf(invited.body.link) },
      });
      expect(accept.status).toBe(200);
      held.open();
      const refused = await revoke;
      expect(refused.status).toBe(409);
    } finally {
      held.open();
      await revoking.close({ keepDatabase: true });
    }
    const list = await app.api('GET', '/api/me/reseller-invitations', {
      token: provider.adminToken,
    });
    expect(list.body.items).toEqual([
      expect.objectContaining({ invitationId, status: 'accepted' }),
    ]);
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(1);
  });

  it('ends a revoke and an accept fired together either revoked or used, never both', async () => {
    for (let round = 0; round < 8; round += 1) {
      const provider = await createProvider(app);
      const reseller = await activeReseller(app);
      const invited = await inviteReseller(app, provider, reseller);
      const invitationId = invited.body.invitationId;
      const [revoke, accept] = await Promise.all([
        app.api('DELETE', `/api/me/reseller-invitations/${invitationId}`, {
          token: provider.adminToken,
        }),
        app.api('POST', '/api/partner-invitations/accept', {
          token: reseller.adminToken,
          body: { token: tokenOf(invited.body.link) },
        }),
      ]);
      const list = await app.api('GET', '/api/me/reseller-invitations', {
        token: provider.adminToken,
      });
      const [link] = list.body.items;
      const resellerSide = await app.documents(reseller.partnerId, 'partnership');
      if (revoke.status === 200) {
        expect(accept.status).toBe(410);
        expect(accept.body.code).toBe('invitation-revoked');
        expect(link.status).toBe('revoked');
        expect(resellerSide).toHaveLength(0);
      } else {
        expect(revoke.status).toBe(409);
        expect(accept.status).toBe(200);
        expect(link.status).toBe('accepted');
        expect(resellerSide).toHaveLength(1);
      }
    }
  });

  it("completes the reseller's side when a retry follows a crash between the two writes", async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const token = tokenOf(invited.body.link);
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === reseller.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await crashing.api('POST', '/api/partner-invitations/accept', {
        body: { token: token },
        token: await crashing.token({ tenant: reseller.partnerId, roles: ['GlobalAdmin'] }),
      });
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect(await app.documents(provider.partnerId, 'partnership')).toHaveLength(1);
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(0);

    const retry = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: token },
      token: reseller.adminToken,
    });
    expect(retry.status).toBe(410);
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(1);
    const again = await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: token },
      token: reseller.adminToken,
    });
    expect(again.status).toBe(410);
    expect(await app.documents(reseller.partnerId, 'partnership')).toHaveLength(1);
    const providers = await app.api('GET', '/api/me/indirect-providers', {
      token: reseller.adminToken,
    });
    expect(providers.body.items.map((item: { partnerId: string }) => item.partnerId)).toEqual([
      provider.partnerId,
    ]);
  });
});

describe('the token', () => {
  it('is in no stored document and no log line', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const token = tokenOf(invited.body.link);
    const secret = token.split('.')[1]!;
    await app.api('GET', `/api/links/partner-invitations/${token}`);
    await app.api('POST', '/api/partner-invitations/accept', {
      body: { token: token },
      token: reseller.adminToken,
    });
    await app.runTimer('deliverEmails');
    for (const partnerId of [provider.partnerId, reseller.partnerId, 'directory']) {
      const stored = JSON.stringify(await app.documents(partnerId));
      expect(stored).not.toContain(secret);
    }
    // The outbox email holds the link for delivery; once sent it is kept only as the .eml file.
    expect(app.logs.map((entry) => entry.message).join('\n')).not.toContain(secret);
  });
});
