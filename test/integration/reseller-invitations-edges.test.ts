import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable, WriteConflict } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile, profile, uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { pendingTransfer } from '../support/transfers';

/**
 * The edges of reseller invitations (docs/rules.md sections 6, 8b, 11): the texts of each
 * refusal, the language of an invitation, the audit trail each side reads in its activity, a
 * partnership started again, and the answers to an acceptance that lost a race.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-06-01T07:00:00.000Z') });
});
afterAll(() => app.close());

type Party = { partnerId: string; adminToken: string };

const accept = (link: string, reseller: { adminToken: string }, host: TestApp = app) =>
  host.api('POST', '/api/partner-invitations/accept', {
    body: { token: tokenOf(link) },
    token: reseller.adminToken,
  });

const revoke = (invitationId: string, provider: { adminToken: string }) =>
  app.api('DELETE', `/api/me/reseller-invitations/${invitationId}`, {
    token: provider.adminToken,
  });

const lookup = async (link: string) =>
  (await app.api('POST', '/api/partner-invitations/lookup', { body: { token: tokenOf(link) } }))
    .body;

/** A partner's audit events of one action, as its activity lists them. */
async function activity(party: Party, action: string) {
  const page = await app.api('GET', '/api/me/activity?pageSize=100', { token: party.adminToken });
  expect(page.status).toBe(200);
  return page.body.items.filter((item: { action: string }) => item.action === action);
}

const reasons = async (party: Party, action: string) =>
  (await activity(party, action)).map((event: { reason: string }) => event.reason);

describe('inviting', () => {
  it('refuses a provider inviting its own MPN ID, saying so', async () => {
    const provider = await createProvider(app);
    const refused = await inviteReseller(app, provider, provider);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'conflict',
      detail: 'A provider cannot invite itself.',
    });
  });

  it('names the MPN ID of a reseller already in partnership', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    expect(
      (await accept((await inviteReseller(app, provider, reseller)).body.link, reseller)).status,
    ).toBe(200);
    const again = await inviteReseller(app, provider, reseller);
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(
      `The reseller with MPN ID ${reseller.record.mpnId} is already in partnership with you.`,
    );
  });

  it("writes to an unknown MPN ID in the provider's language, to a known one in its country's", async () => {
    const provider = await createProvider(app);
    const french = await app.api('PUT', '/api/me/profile', {
      token: provider.adminToken,
      body: profile(provider.record, { preferredLanguage: 'fr' }),
    });
    expect(french.status, french.text).toBe(200);
    const unknown = await inviteReseller(app, provider, { record: { mpnId: uniqueMpnId() } });
    expect((await lookup(unknown.body.link)).language).toBe('fr');
    const american = await activeReseller(app, { country: 'US' });
    const known = await inviteReseller(app, provider, american);
    expect((await lookup(known.body.link)).language).toBe('en');
    const belgian = await activeReseller(app, { country: 'BE' });
    const knownBelgian = await inviteReseller(app, provider, belgian);
    expect((await lookup(knownBelgian.body.link)).language).toBe('fr');
  });

  it("records the invitation and the MPN ID it went to in the provider's activity", async () => {
    const provider = await createProvider(app);
    const mpnId = uniqueMpnId();
    const invited = await inviteReseller(app, provider, { record: { mpnId } });
    expect(invited.status).toBe(201);
    expect(await activity(provider, 'reseller-invited')).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ kind: 'user', tenantId: provider.partnerId }),
        reason: `invitation ${invited.body.invitationId} to MPN ID ${mpnId}`,
      }),
    ]);
  });
});

describe('inviting while the hourly counter moves', () => {
  /** A host refusing the invitation's batch (the counter first) with `refusal`, `times` times. */
  async function refusingHost(
    provider: Party,
    refusal: () => WriteConflict,
    times: number,
  ): Promise<{ host: TestApp; batches: () => number }> {
    let batches = 0;
    const host = await startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const invites = operations.some(
            (operation) =>
              operation.op === 'create' && operation.document.type === 'reseller-invitation',
          );
          if (partnerId === provider.partnerId && invites) {
            batches += 1;
            if (batches <= times) throw refusal();
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    return { host, batches: () => batches };
  }

  const inviteOn = async (host: TestApp, provider: Party) =>
    host.api('POST', '/api/me/reseller-invitations', {
      token: await host.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] }),
      body: { mpnId: uniqueMpnId(), email: 'counted@reseller.example' },
    });

  it('counts again when another action moved the counter, and invites', async () => {
    const provider = await createProvider(app);
    const { host, batches } = await refusingHost(
      provider,
      () => new WriteConflict('changed', 0),
      1,
    );
    try {
      expect((await inviteOn(host, provider)).status).toBe(201);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(batches()).toBe(2);
  });

  it('gives up after 10 counts refused by a counter that keeps moving, with 409, inviting nobody', async () => {
    const provider = await createProvider(app);
    const { host, batches } = await refusingHost(
      provider,
      () => new WriteConflict('changed', 0),
      Number.POSITIVE_INFINITY,
    );
    try {
      const refused = await inviteOn(host, provider);
      expect(refused.status).toBe(409);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(batches()).toBe(10);
    expect(await app.documents(provider.partnerId, 'reseller-invitation')).toEqual([]);
  });

  it('does not count again when another write of the batch is refused', async () => {
    const provider = await createProvider(app);
    const { host, batches } = await refusingHost(
      provider,
      () => new WriteConflict('changed', 1),
      1,
    );
    try {
      expect((await inviteOn(host, provider)).status).toBe(409);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(batches()).toBe(1);
  });
});

describe('revoking', () => {
  it('records it once, answers the same when revoked again, names an unknown invitation and says why a used one stays', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const id = invited.body.invitationId as string;
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const revoked = await revoke(id, provider);
      expect(revoked.status).toBe(200);
      expect(revoked.body).toMatchObject({ invitationId: id, status: 'revoked' });
    }
    expect(await reasons(provider, 'reseller-invitation-revoked')).toEqual([`invitation ${id}`]);

    const unknown = await revoke(crypto.randomUUID(), provider);
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe('The invitation was not found.');

    const other = await activeReseller(app);
    const used = await inviteReseller(app, provider, other);
    expect((await accept(used.body.link, other)).status).toBe(200);
    const refused = await revoke(used.body.invitationId, provider);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      'The invitation has been accepted already; it can no longer be revoked.',
    );
  });
});

describe('accepting', () => {
  it('says which tenant may accept: the one holding the MPN ID, a partner, enrolled', async () => {
    const provider = await createProvider(app);
    const invitedReseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, invitedReseller);
    const other = await accept(invited.body.link, await activeReseller(app));
    expect(other.status).toBe(403);
    expect(other.body).toMatchObject({
      code: 'wrong-tenant',
      detail:
        'This invitation was sent to another partner: it can only be accepted by the tenant holding the invited MPN ID.',
    });
    const stranger = await accept(invited.body.link, {
      adminToken: await app.token({ tenant: crypto.randomUUID(), roles: ['GlobalAdmin'] }),
    });
    expect(stranger.status).toBe(403);
    expect(stranger.body).toMatchObject({
      code: 'wrong-tenant',
      detail: 'This invitation is for an indirect reseller; your tenant is not a partner.',
    });
    const notEnrolled = await createPartnerWithProfile(app);
    const toNotEnrolled = await inviteReseller(app, provider, notEnrolled);
    const refused = await accept(toNotEnrolled.body.link, notEnrolled);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({
      code: 'forbidden',
      detail: 'Enroll as an indirect reseller before accepting a provider’s invitation.',
    });
  });

  it("answers 503, not wrong-tenant, when the reseller's record cannot be read", async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const failing = await startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        get: async (partnerId: string) => {
          if (partnerId === reseller.partnerId) throw new DependencyUnavailable('cosmos');
          return services.partners.get(partnerId);
        },
      }),
    }));
    try {
      const refused = await accept(invited.body.link, reseller, failing);
      expect(refused.status, refused.text).toBe(503);
    } finally {
      await failing.close({ keepDatabase: true });
    }
    expect((await lookup(invited.body.link)).status).toBe('pending');
  });

  it('records the partnership in both activities, naming the other side', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app, { companyName: 'Audit Trail Reseller' });
    const invited = await inviteReseller(app, provider, reseller);
    expect((await accept(invited.body.link, reseller)).status).toBe(200);
    expect(await reasons(provider, 'reseller-partnership-created')).toEqual([
      `with reseller ${reseller.partnerId} (Audit Trail Reseller) by invitation ${invited.body.invitationId}`,
    ]);
    expect(await reasons(reseller, 'provider-partnership-created')).toEqual([
      `with provider ${provider.partnerId} (Adatum Distribution)`,
    ]);
  });

  it('records a partnership started again after its end as such on both sides', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const first = await inviteReseller(app, provider, reseller);
    expect((await accept(first.body.link, reseller)).status).toBe(200);
    const ended = await app.api('DELETE', `/api/me/indirect-resellers/${reseller.partnerId}`, {
      token: provider.adminToken,
    });
    expect(ended.status).toBe(200);
    app.clock.advance({ days: 2 });
    const second = await inviteReseller(app, provider, reseller);
    expect(second.status).toBe(201);
    expect((await accept(second.body.link, reseller)).status).toBe(200);
    expect(await reasons(provider, 'reseller-partnership-created')).toEqual([
      `again with reseller ${reseller.partnerId} by invitation ${second.body.invitationId}`,
      expect.stringContaining(`by invitation ${first.body.invitationId}`),
    ]);
    expect(await reasons(reseller, 'provider-partnership-created')).toEqual([
      `again with ${provider.partnerId} (Adatum Distribution)`,
      `with provider ${provider.partnerId} (Adatum Distribution)`,
    ]);
    const since = app.clock.now().toISOString();
    for (const [path, party] of [
      ['/api/me/indirect-providers', reseller],
      ['/api/me/indirect-resellers', provider],
    ] as const) {
      const listed = await app.api('GET', path, { token: party.adminToken });
      expect(listed.body.items).toEqual([expect.objectContaining({ status: 'active', since })]);
    }
  });

  it("keeps in the provider's pipeline what the reseller did before a partnership started again", async () => {
    const world = await pendingTransfer(app);
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status, accepted.text).toBe(200);
    const pipelineLine = async () => {
      const pipeline = await app.api('GET', '/api/me/reseller-pipeline', {
        token: world.provider.adminToken,
      });
      expect(pipeline.status, pipeline.text).toBe(200);
      return pipeline.body.resellers.find(
        (line: { resellerId: string }) => line.resellerId === world.reseller.partnerId,
      );
    };
    expect(await pipelineLine()).toMatchObject({ customersExtended: 1, transfersCompleted: 1 });
    const ended = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${world.reseller.partnerId}`,
      {
        token: world.provider.adminToken,
      },
    );
    expect(ended.status).toBe(200);
    app.clock.advance({ days: 1 });
    const again = await inviteReseller(app, world.provider, world.reseller);
    expect((await accept(again.body.link, world.reseller)).status).toBe(200);
    expect(await pipelineLine()).toMatchObject({
      status: 'active',
      customersExtended: 1,
      transfersCompleted: 1,
    });
  });

  it('names both partners when a second pending invitation is accepted by a reseller already in partnership', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app, { companyName: 'Twice Invited Ltd' });
    const first = await inviteReseller(app, provider, reseller);
    const second = await inviteReseller(app, provider, reseller);
    expect((await accept(first.body.link, reseller)).status).toBe(200);
    const refused = await accept(second.body.link, reseller);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'conflict',
      detail: 'Twice Invited Ltd is already in partnership with Adatum Distribution.',
    });
    expect((await lookup(second.body.link)).status).toBe('pending');
  });

  it('answers 409 with what to do when the invitation changed between its read and the acceptance', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    let armed = true;
    // Another writer rewrites the invitation (unchanged, a new etag) right after this host reads it.
    const raced = await startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partnerId: string, id: string) => {
          const found = await services.partners.getDocument(partnerId, id);
          if (armed && found?.value.type === 'reseller-invitation') {
            armed = false;
            await services.partners.commit(partnerId, [
              { op: 'replace', document: found.value, etag: found.etag },
            ]);
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    try {
      const refused = await accept(invited.body.link, reseller, raced);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The invitation changed while it was being accepted; try again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(await app.documents(provider.partnerId, 'partnership')).toEqual([]);
    expect((await accept(invited.body.link, reseller)).status).toBe(200);
  });

  it("dates the reseller's side completed by a retry from the provider's side, not from the retry", async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const acceptedAt = app.clock.now().toISOString();
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === reseller.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await accept(invited.body.link, reseller, crashing);
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    app.clock.advance({ hours: 3 });
    expect((await accept(invited.body.link, reseller)).status).toBe(410);
    const providers = await app.api('GET', '/api/me/indirect-providers', {
      token: reseller.adminToken,
    });
    expect(providers.body.items).toEqual([
      expect.objectContaining({ partnerId: provider.partnerId, since: acceptedAt }),
    ]);
  });
});
