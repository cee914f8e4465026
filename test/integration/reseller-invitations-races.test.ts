import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DependencyUnavailable,
  WriteConflict,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { partnershipId } from '../../shared/domain/providers';
import {
  dyingAtWrite,
  failingPartnerWrites,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import { activeReseller } from '../support/enrollment';
import { holdingHost } from '../support/held-reads';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { pendingTransfer } from '../support/transfers';

/**
 * Reseller invitations raced, and failing half-way (docs/rules.md sections 6, 8b and 11): a
 * revoke that lost to another revoke or to an accept answers from what the invitation is now,
 * and one whose write failed writes nothing; a partnership started again survives a second
 * accept of the same link, a failing write of either side, and never revives a side that a
 * later invitation's partnership ended (ended means ended); an invitation the end revoked after
 * an accept read it stays refused; the restarted pipeline keeps the transfers still pending.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-09-01T08:00:00.000Z') });
});
afterAll(() => app.close());

type Party = { partnerId: string; adminToken: string };

const usedDetail = 'This invitation has already been accepted; a link works once.';
const revokedDetail = 'The sender withdrew this invitation.';
const unavailableDetail =
  'A service we depend on (cosmos) is unavailable. Try again shortly: the request either changed nothing, or repeating it completes it.';
const conflictDetail = 'The resource was changed by another request; read it again and retry.';

/** A write that fails half-way, each way: what refused it, and the answer the caller gets. */
const halfWayFailures = [
  [
    'Cosmos DB unavailable',
    () => new DependencyUnavailable('cosmos'),
    503,
    'unavailable',
    unavailableDetail,
  ],
  [
    'its audit entry refused',
    () => new WriteConflict('changed', 1),
    409,
    'conflict',
    conflictDetail,
  ],
] as const;

/** The reseller's global admin accepts the link on `host`. */
async function acceptOn(host: TestApp, link: string, reseller: { partnerId: string }) {
  return host.api('POST', '/api/partner-invitations/accept', {
    body: { token: tokenOf(link) },
    token: await host.token({ tenant: reseller.partnerId, roles: ['GlobalAdmin'] }),
  });
}

async function revokeOn(host: TestApp, invitationId: string, provider: { partnerId: string }) {
  return host.api('DELETE', `/api/me/reseller-invitations/${invitationId}`, {
    token: await host.token({ tenant: provider.partnerId, roles: ['GlobalAdmin'] }),
  });
}

const lookup = async (link: string) =>
  (await app.api('POST', '/api/partner-invitations/lookup', { body: { token: tokenOf(link) } }))
    .body;

/** A partner's audit reasons of one action, as its activity lists them (newest first). */
async function reasons(party: Party, action: string): Promise<string[]> {
  const page = await app.api('GET', '/api/me/activity?pageSize=100', { token: party.adminToken });
  expect(page.status).toBe(200);
  return page.body.items
    .filter((item: { action: string }) => item.action === action)
    .map((item: { reason: string }) => item.reason);
}

/** What a partner lists of its partnerships: the reseller its providers, a provider its resellers. */
async function listed(
  party: Party,
  path: '/api/me/indirect-providers' | '/api/me/indirect-resellers',
) {
  const page = await app.api('GET', path, { token: party.adminToken });
  expect(page.status, page.text).toBe(200);
  return page.body.items as { partnerId: string; status: string; since: string }[];
}

const endPartnership = async (provider: Party, reseller: Party) => {
  const ended = await app.api('DELETE', `/api/me/indirect-resellers/${reseller.partnerId}`, {
    token: provider.adminToken,
  });
  expect(ended.status, ended.text).toBe(200);
};

/** A provider and reseller whose first partnership ended; a day later, a new invitation. */
async function endedThenInvitedAgain() {
  const provider = await createProvider(app);
  const reseller = await activeReseller(app);
  const first = await inviteReseller(app, provider, reseller);
  expect((await acceptOn(app, first.body.link, reseller)).status).toBe(200);
  await endPartnership(provider, reseller);
  app.clock.advance({ days: 1 });
  const second = await inviteReseller(app, provider, reseller);
  expect(second.status).toBe(201);
  return { provider, reseller, first, second };
}

/** Does this batch write `type` first (a replace or a create of it)? */
const writesFirst = (operations: WriteOperation<PartnerDocument>[], type: string) =>
  operations[0] !== undefined &&
  'document' in operations[0] &&
  operations[0].document.type === type;

/** A second host whose first batch in `partnerId` matching `matches` throws what `refusal` gives. */
function refusingOnce(
  partnerId: string,
  matches: (operations: WriteOperation<PartnerDocument>[]) => boolean,
  refusal: () => Error,
) {
  let armed = true;
  return startSecondHost(
    app,
    failingPartnerWrites((partition, operations) => {
      if (!armed || partition !== partnerId || !matches(operations)) return null;
      armed = false;
      return refusal();
    }),
  );
}

describe('revoking while the invitation changes', () => {
  /** A second host on which, right after its revoke read the invitation, `meanwhile` runs. */
  function racedRevokeHost(meanwhile: () => Promise<void>) {
    let armed = true;
    return startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        invitationById: (async (partnerId: string, type: string, invitationId: string) => {
          const found = await services.partners.invitationById(
            partnerId,
            type as 'reseller-invitation',
            invitationId,
          );
          if (armed && found) {
            armed = false;
            await meanwhile();
          }
          return found;
        }) as typeof services.partners.invitationById,
      }),
    }));
  }

  it('answers 200 to a revoke another revoke overtook, recording the revoke once', async () => {
    const provider = await createProvider(app);
    const invited = await inviteReseller(app, provider, await activeReseller(app));
    const id = invited.body.invitationId as string;
    let other: Awaited<ReturnType<typeof revokeOn>> | undefined;
    const raced = await racedRevokeHost(async () => {
      other = await revokeOn(app, id, provider);
    });
    try {
      const revoked = await revokeOn(raced, id, provider);
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.body).toMatchObject({ invitationId: id, status: 'revoked' });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(other?.status).toBe(200);
    expect(await reasons(provider, 'reseller-invitation-revoked')).toEqual([`invitation ${id}`]);
    expect((await lookup(invited.body.link)).status).toBe('revoked');
  });

  it('says the invitation was accepted when the acceptance landed between the revoke’s read and its write', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const id = invited.body.invitationId as string;
    const raced = await racedRevokeHost(async () => {
      expect((await acceptOn(app, invited.body.link, reseller)).status).toBe(200);
    });
    try {
      const refused = await revokeOn(raced, id, provider);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The invitation has been accepted already; it can no longer be revoked.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(await reasons(provider, 'reseller-invitation-revoked')).toEqual([]);
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
      expect.objectContaining({ partnerId: provider.partnerId, status: 'active' }),
    ]);
  });

  for (const [refused, refusal, status, code, detail] of halfWayFailures) {
    it(`answers ${status} ${code} and leaves the invitation pending when the revoke's write fails (${refused})`, async () => {
      const provider = await createProvider(app);
      const invited = await inviteReseller(app, provider, await activeReseller(app));
      const failing = await refusingOnce(
        provider.partnerId,
        (operations) => writesFirst(operations, 'reseller-invitation'),
        refusal,
      );
      try {
        const answer = await revokeOn(failing, invited.body.invitationId, provider);
        expect(answer.status, answer.text).toBe(status);
        expect(answer.body).toMatchObject({ code, detail });
      } finally {
        await failing.close({ keepDatabase: true });
      }
      expect((await lookup(invited.body.link)).status).toBe('pending');
      expect(await reasons(provider, 'reseller-invitation-revoked')).toEqual([]);
      // Revoking again, with the store back, revokes it.
      expect((await revokeOn(app, invited.body.invitationId, provider)).status).toBe(200);
    });
  }
});

describe('starting a partnership again', () => {
  it('answers 200 to the accept whose restart of the reseller side another accept of the same link finished first', async () => {
    const { provider, reseller, second } = await endedThenInvitedAgain();
    const { host, held } = await holdingHost(app, partnershipId(provider.partnerId));
    try {
      const slow = acceptOn(host, second.body.link, reseller);
      await held.reached;
      // The reseller's second click: the link is used by then, and the replay completes its side.
      const replay = await acceptOn(app, second.body.link, reseller);
      expect(replay.status).toBe(410);
      expect(replay.body).toMatchObject({ code: 'invitation-used', detail: usedDetail });
      held.open();
      const answer = await slow;
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({
        provider: { partnerId: provider.partnerId, status: 'active' },
      });
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
      expect.objectContaining({ partnerId: provider.partnerId, status: 'active' }),
    ]);
    expect(await reasons(reseller, 'provider-partnership-created')).toEqual([
      `again with ${provider.partnerId} (Adatum Distribution)`,
      `with provider ${provider.partnerId} (Adatum Distribution)`,
    ]);
  });

  for (const [refused, refusal, status, code, detail] of halfWayFailures) {
    it(`answers ${status} ${code} when the reseller's side cannot be started again (${refused}); accepting again completes it`, async () => {
      const { provider, reseller, second } = await endedThenInvitedAgain();
      const failing = await refusingOnce(
        reseller.partnerId,
        (operations) => writesFirst(operations, 'partnership') && operations[0]!.op === 'replace',
        refusal,
      );
      try {
        const answer = await acceptOn(failing, second.body.link, reseller);
        expect(answer.status, answer.text).toBe(status);
        expect(answer.body).toMatchObject({ code, detail });
      } finally {
        await failing.close({ keepDatabase: true });
      }
      expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
        expect.objectContaining({ partnerId: provider.partnerId, status: 'ended' }),
      ]);
      const again = await acceptOn(app, second.body.link, reseller);
      expect(again.body).toMatchObject({ code: 'invitation-used', detail: usedDetail });
      expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
        expect.objectContaining({ partnerId: provider.partnerId, status: 'active' }),
      ]);
    });
  }

  it("answers 410 invitation-used to the accept whose restart of the provider's side another accept of the same link finished first", async () => {
    const { provider, reseller, second } = await endedThenInvitedAgain();
    const { host, held } = await holdingHost(app, partnershipId(reseller.partnerId));
    try {
      const slow = acceptOn(host, second.body.link, reseller);
      await held.reached;
      expect((await acceptOn(app, second.body.link, reseller)).status).toBe(200);
      held.open();
      const answer = await slow;
      expect(answer.status, answer.text).toBe(410);
      expect(answer.body).toMatchObject({ code: 'invitation-used', detail: usedDetail });
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(
      (await reasons(provider, 'reseller-partnership-created')).filter((reason) =>
        reason.startsWith('again'),
      ),
    ).toEqual([
      `again with reseller ${reseller.partnerId} by invitation ${second.body.invitationId}`,
    ]);
  });

  it("answers 503 and leaves the link pending when the provider's side cannot be started again; accepting again starts it", async () => {
    const { provider, reseller, second } = await endedThenInvitedAgain();
    const failing = await refusingOnce(
      provider.partnerId,
      (operations) => writesFirst(operations, 'partnership') && operations[0]!.op === 'replace',
      () => new DependencyUnavailable('cosmos'),
    );
    try {
      const answer = await acceptOn(failing, second.body.link, reseller);
      expect(answer.status, answer.text).toBe(503);
    } finally {
      await failing.close({ keepDatabase: true });
    }
    expect((await lookup(second.body.link)).status).toBe('pending');
    expect((await acceptOn(app, second.body.link, reseller)).status).toBe(200);
    expect(await listed(provider, '/api/me/indirect-resellers')).toEqual([
      expect.objectContaining({ partnerId: reseller.partnerId, status: 'active' }),
    ]);
  });

  it('refuses with 410 invitation-revoked an invitation that the end revoked after the accept had read it', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const first = await inviteReseller(app, provider, reseller);
    const second = await inviteReseller(app, provider, reseller);
    expect((await acceptOn(app, first.body.link, reseller)).status).toBe(200);
    const [secondDocument] = (
      await app.documents<{ id: string; invitationId: string }>(
        provider.partnerId,
        'reseller-invitation',
      )
    ).filter((document) => document.invitationId === second.body.invitationId);
    const { host, held } = await holdingHost(app, secondDocument!.id);
    try {
      const slow = acceptOn(host, second.body.link, reseller);
      await held.reached;
      app.clock.advance({ hours: 1 });
      await endPartnership(provider, reseller);
      held.open();
      const answer = await slow;
      expect(answer.status, answer.text).toBe(410);
      expect(answer.body).toMatchObject({ code: 'invitation-revoked', detail: revokedDetail });
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(await listed(provider, '/api/me/indirect-resellers')).toEqual([
      expect.objectContaining({ partnerId: reseller.partnerId, status: 'ended' }),
    ]);
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
      expect.objectContaining({ partnerId: provider.partnerId, status: 'ended' }),
    ]);
  });

  it('does not revive the reseller side of a first accept that finishes after the partnership ended, restarted and ended again', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const first = await inviteReseller(app, provider, reseller);
    // The first accept is held right after it wrote the reseller's side.
    const held = gate();
    let armed = true;
    const slowHost = await startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const etag = await services.partners.commit(partnerId, operations);
          if (armed && partnerId === reseller.partnerId && writesFirst(operations, 'partnership')) {
            armed = false;
            await held.hold();
          }
          return etag;
        },
      }),
    }));
    try {
      const slow = acceptOn(slowHost, first.body.link, reseller);
      await held.reached;
      await endPartnership(provider, reseller);
      app.clock.advance({ days: 1 });
      const second = await inviteReseller(app, provider, reseller);
      expect((await acceptOn(app, second.body.link, reseller)).status).toBe(200);
      app.clock.advance({ days: 1 });
      await endPartnership(provider, reseller);
      held.open();
      expect((await slow).status).toBe(200);
    } finally {
      await slowHost.close({ keepDatabase: true });
    }
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
      expect.objectContaining({ partnerId: provider.partnerId, status: 'ended' }),
    ]);
    expect(await listed(provider, '/api/me/indirect-resellers')).toEqual([
      expect.objectContaining({ partnerId: reseller.partnerId, status: 'ended' }),
    ]);
  });
});

describe('replaying a used link after a crash between the two sides', () => {
  it("completes the reseller's side only for the invitation the provider's side now holds", async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    // Every write of the reseller's side fails: the process dies between the two sides.
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === reseller.partnerId ? new Error('process killed') : null,
      ),
    );
    const first = await inviteReseller(app, provider, reseller);
    let second: Awaited<ReturnType<typeof inviteReseller>>;
    let restartedAt: string;
    try {
      expect((await acceptOn(crashing, first.body.link, reseller)).status).toBe(500);
      await endPartnership(provider, reseller);
      app.clock.advance({ days: 1 });
      second = await inviteReseller(app, provider, reseller);
      expect(second.status).toBe(201);
      restartedAt = app.clock.now().toISOString();
      expect((await acceptOn(crashing, second.body.link, reseller)).status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    app.clock.advance({ hours: 2 });
    // The older link, used by the partnership that ended: its replay writes nothing.
    const older = await acceptOn(app, first.body.link, reseller);
    expect(older.body).toMatchObject({ code: 'invitation-used', detail: usedDetail });
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([]);
    // The link the partnership runs on now completes the reseller's side.
    const newer = await acceptOn(app, second.body.link, reseller);
    expect(newer.body).toMatchObject({ code: 'invitation-used' });
    expect(await listed(reseller, '/api/me/indirect-providers')).toEqual([
      expect.objectContaining({
        partnerId: provider.partnerId,
        status: 'active',
        since: restartedAt,
      }),
    ]);
  });
});

describe("the provider's pipeline of a partnership started again", () => {
  it('still counts a transfer that an end which died before cancelling it left pending', async () => {
    const world = await pendingTransfer(app);
    const pipelineLine = async () => {
      const pipeline = await app.api('GET', '/api/me/reseller-pipeline', {
        token: world.provider.adminToken,
      });
      expect(pipeline.status, pipeline.text).toBe(200);
      return pipeline.body.resellers.find(
        (line: { resellerId: string }) => line.resellerId === world.reseller.partnerId,
      );
    };
    expect(await pipelineLine()).toMatchObject({ transfersPending: 1 });
    // The end dies at its third write: both sides ended, the transfer not cancelled yet.
    const dying = await startSecondHost(app, dyingAtWrite(3));
    try {
      const ended = await dying.api(
        'DELETE',
        `/api/me/indirect-resellers/${world.reseller.partnerId}`,
        {
          token: await dying.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] }),
        },
      );
      expect(ended.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    app.clock.advance({ days: 1 });
    const again = await inviteReseller(app, world.provider, world.reseller);
    expect(again.status, again.text).toBe(201);
    expect((await acceptOn(app, again.body.link, world.reseller)).status).toBe(200);
    expect(await pipelineLine()).toMatchObject({ status: 'active', transfersPending: 1 });
    // As the transfer itself says.
    const transfer = await app.api('GET', `/api/me/transfers/${world.transferId}`, {
      token: world.provider.adminToken,
    });
    expect(transfer.status, transfer.text).toBe(200);
    expect(transfer.body.status).toBe('pending');
  });
});
