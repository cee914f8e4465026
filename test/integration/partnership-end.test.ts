import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dyingAtWrite,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { WriteConflict } from '../../shared/app/ports';
import { ManualClock } from '../support/clock';
import { storedEvents } from '../support/events';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { pendingTransfer } from '../support/transfers';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

type World = Awaited<ReturnType<typeof pendingTransfer>>;

const end = (world: World, token = world.provider.adminToken, host: TestApp = app) =>
  host.api('DELETE', `/api/me/indirect-resellers/${world.reseller.partnerId}`, { token });

describe('ending a partnership', () => {
  it('ends it on both sides, each list keeping it as ended, ?status=active showing only active ones', async () => {
    const world = await pendingTransfer(app);
    app.clock.advance({ days: 1 });
    const ended = await end(world);
    expect(ended.status).toBe(200);
    expect(ended.body).toEqual({
      resellerId: world.reseller.partnerId,
      status: 'ended',
      endedAt: '2026-03-03T09:00:00.000Z',
      cancelledTransfers: [world.transferId],
    });
    const resellers = await app.api('GET', '/api/me/indirect-resellers', {
      token: world.provider.adminToken,
    });
    expect(resellers.body.items).toEqual([
      expect.objectContaining({
        partnerId: world.reseller.partnerId,
        status: 'ended',
        endedAt: '2026-03-03T09:00:00.000Z',
      }),
    ]);
    const providers = await app.api('GET', '/api/me/indirect-providers', {
      token: world.reseller.adminToken,
    });
    expect(providers.body.items).toEqual([
      expect.objectContaining({ partnerId: world.provider.partnerId, status: 'ended' }),
    ]);
    for (const [path, token] of [
      ['/api/me/indirect-resellers?status=active', world.provider.adminToken],
      ['/api/me/indirect-providers?status=active', world.reseller.adminToken],
    ] as const) {
      expect((await app.api('GET', path, { token })).body.items).toEqual([]);
    }
    const endedOnly = await app.api('GET', '/api/me/indirect-providers?status=ended', {
      token: world.reseller.adminToken,
    });
    expect(endedOnly.body.items).toHaveLength(1);
  });

  it('cancels the pending transfers between the two, leaves customers where they are, and emails the reseller', async () => {
    const world = await pendingTransfer(app);
    await end(world);
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const transfer = await app.api('GET', `/api/me/transfers/${world.transferId}`, { token });
      expect(transfer.body).toMatchObject({ status: 'cancelled', reason: 'the partnership ended' });
    }
    const customer = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.provider.adminToken,
    });
    expect(customer.status).toBe(200);
    expect(customer.body.relationship).toBe('indirect-provider');
    const resellerView = await app.api('GET', `/api/me/customers/${world.customerId}`, {
      token: world.reseller.adminToken,
    });
    expect(resellerView.body.relationship).toBe('indirect-reseller');
    const emails = await app.documents(world.provider.partnerId, 'email');
    expect(
      emails
        .filter((email: { kind: string }) => email.kind === 'partnership-ended')
        .map((email: { to: string; subject: string }) => [email.to, email.subject]),
    ).toEqual([
      [
        'pat.lee@contoso.example',
        'Adatum Distribution ended its partnership with Fourth Coffee IT',
      ],
    ]);
    const cancelled = (await app.documents(world.reseller.partnerId, 'email')).filter(
      (email: { kind: string }) => email.kind === 'transfer-cancelled',
    );
    expect(cancelled).toHaveLength(2);
    // No new transfer once the partnership ended.
    const again = await app.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
      token: world.reseller.adminToken,
      body: {
        providerId: world.provider.partnerId,
        lineItems: [{ subscriptionId: world.subscriptions.e3 }],
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('partnership-ended');
  });

  it('answers the same when ended again, and writes nothing twice', async () => {
    const world = await pendingTransfer(app);
    const first = await end(world);
    const second = await end(world);
    expect(second.status).toBe(200);
    expect(second.body.endedAt).toBe(first.body.endedAt);
    const audits = async (partnerId: string, action: string) =>
      (await app.documents(partnerId, 'audit')).filter(
        (event: { action: string }) => event.action === action,
      ).length;
    expect(await audits(world.provider.partnerId, 'reseller-partnership-ended')).toBe(1);
    expect(await audits(world.reseller.partnerId, 'provider-partnership-ended')).toBe(1);
    // Each side's audit trail says what changed and with whom.
    const trail = async (partnerId: string, action: string) =>
      (await app.documents(partnerId, 'audit'))
        .filter((event: { action: string }) => event.action === action)
        .map(({ from, to, reason }: { from: string; to: string; reason: string }) => ({
          from,
          to,
          reason,
        }));
    expect(await trail(world.provider.partnerId, 'reseller-partnership-ended')).toEqual([
      { from: 'active', to: 'ended', reason: `with reseller ${world.reseller.partnerId}` },
    ]);
    expect(await trail(world.reseller.partnerId, 'provider-partnership-ended')).toEqual([
      { from: 'active', to: 'ended', reason: `by provider ${world.provider.partnerId}` },
    ]);
  });

  it('lets a later invitation start a new partnership', async () => {
    const world = await pendingTransfer(app);
    await end(world);
    app.clock.advance({ days: 3 });
    const invited = await inviteReseller(app, world.provider, world.reseller);
    expect(invited.status).toBe(201);
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      token: world.reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body.provider).toMatchObject({ status: 'active' });
    for (const [path, token] of [
      ['/api/me/indirect-resellers?status=active', world.provider.adminToken],
      ['/api/me/indirect-providers?status=active', world.reseller.adminToken],
    ] as const) {
      expect((await app.api('GET', path, { token })).body.items).toHaveLength(1);
    }
  });

  it('is for the provider GlobalAdmin or AdminAgent only; another provider gets 404', async () => {
    const world = await pendingTransfer(app);
    const sales = await app.token({ tenant: world.provider.partnerId, roles: ['SalesAgent'] });
    expect((await end(world, sales)).status).toBe(403);
    const other = await createProvider(app, { companyName: 'Other Supply' });
    const foreign = await end(world, other.adminToken);
    expect(foreign.status).toBe(404);
    expect(foreign.body.detail).toBe('The partnership was not found.');
    expect((await end(world, world.reseller.adminToken)).status).toBe(404);
    // The reseller holds its own side under the provider's id: it cannot end the partnership
    // through the provider's route, and its side stays active.
    const resellerSide = await app.api(
      'DELETE',
      `/api/me/indirect-resellers/${world.provider.partnerId}`,
      { token: world.reseller.adminToken },
    );
    expect(resellerSide.status).toBe(404);
    const providers = await app.api('GET', '/api/me/indirect-providers?status=active', {
      token: world.reseller.adminToken,
    });
    expect(providers.body.items).toHaveLength(1);
    const agent = await app.token({ tenant: world.provider.partnerId, roles: ['AdminAgent'] });
    expect((await end(world, agent)).status).toBe(200);
  });
});

describe("ending a partnership, the reseller's side refused", () => {
  /** A host whose write of the reseller's side goes through `refuse`. */
  const refusingHost = (world: World, refuse: (write: () => Promise<unknown>) => Promise<never>) =>
    startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const first = operations[0];
          if (
            partnerId === world.reseller.partnerId &&
            first?.op === 'replace' &&
            first.document.type === 'partnership'
          )
            return refuse(() => services.partners.commit(partnerId, operations));
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));

  const endOn = async (host: TestApp, world: World) => {
    const token = await host.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] });
    return end(world, token, host);
  };

  it("answers 200 when a concurrent end ended the reseller's side first", async () => {
    const world = await pendingTransfer(app);
    const host = await refusingHost(world, async (write) => {
      await write(); // the other end's write
      throw new WriteConflict('changed', 0);
    });
    try {
      expect((await endOn(host, world)).status).toBe(200);
    } finally {
      await host.close({ keepDatabase: true });
    }
    const providers = await app.api('GET', '/api/me/indirect-providers?status=ended', {
      token: world.reseller.adminToken,
    });
    expect(providers.body.items).toHaveLength(1);
  });

  it("fails when another write of the reseller's batch is refused, and the next end completes it", async () => {
    const world = await pendingTransfer(app);
    const host = await refusingHost(world, async () => {
      throw new WriteConflict('exists', 1); // its audit event's id taken
    });
    try {
      const refused = await endOn(host, world);
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe(
        'The resource was changed by another request; read it again and retry.',
      );
    } finally {
      await host.close({ keepDatabase: true });
    }
    const active = await app.api('GET', '/api/me/indirect-providers?status=active', {
      token: world.reseller.adminToken,
    });
    expect(active.body.items).toHaveLength(1);
    expect((await end(world)).status).toBe(200);
    const ended = await app.api('GET', '/api/me/indirect-providers?status=ended', {
      token: world.reseller.adminToken,
    });
    expect(ended.body.items).toHaveLength(1);
  });
});

describe("ending a partnership, the provider's batch refused", () => {
  /** A host refusing the provider's batch (counter first, then its side) with `refusal` `times` times. */
  async function refusingHost(world: World, refusal: () => WriteConflict, times: number) {
    const counter = { batches: 0 };
    const host = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const side = operations[1];
          if (
            partnerId === world.provider.partnerId &&
            side?.op === 'replace' &&
            side.document.type === 'partnership'
          ) {
            counter.batches += 1;
            if (counter.batches <= times) throw refusal();
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    const token = await host.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] });
    return { host, counter, end: () => end(world, token, host) };
  }

  it('counts the emails again when concurrent actions moved the hourly counter, and ends', async () => {
    const world = await pendingTransfer(app);
    const {
      host,
      counter,
      end: endOnHost,
    } = await refusingHost(world, () => new WriteConflict('changed', 0), 1);
    try {
      expect((await endOnHost()).status).toBe(200);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(counter.batches).toBe(2);
  });

  it('gives up after 10 counts refused by a counter that keeps moving, with 409', async () => {
    const world = await pendingTransfer(app);
    const {
      host,
      counter,
      end: endOnHost,
    } = await refusingHost(world, () => new WriteConflict('changed', 0), Number.POSITIVE_INFINITY);
    try {
      const refused = await endOnHost();
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe(
        'The resource was changed by another request; read it again and retry.',
      );
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(counter.batches).toBe(10);
  });

  it("answers 409 'the partnership changed' at once when its side changed since it was read", async () => {
    const world = await pendingTransfer(app);
    const {
      host,
      counter,
      end: endOnHost,
    } = await refusingHost(world, () => new WriteConflict('changed', 1), 1);
    try {
      const refused = await endOnHost();
      expect(refused.status).toBe(409);
      expect(refused.body.detail).toBe('The partnership changed meanwhile; try again.');
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(counter.batches).toBe(1);
  });
});

describe('ending a partnership, crashed at each write', () => {
  /** The writes counted on a host of the app sharing the database. */
  async function countingHost() {
    const counter = { writes: 0 };
    const host = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          counter.writes += 1;
          return services.partners.commit(partnerId, operations);
        },
      }),
      customers: override(services.customers, {
        commit: async (customerId, operations) => {
          counter.writes += 1;
          return services.customers.commit(customerId, operations);
        },
      }),
    }));
    return { host, counter };
  }

  const matching = async (partnerId: string, type: string, key: string, value: string) =>
    (await app.documents(partnerId, type)).filter(
      (document: Record<string, unknown>) => document[key] === value,
    ).length;

  /** What the partners see and hold once the end is done: everything once, on both sides. */
  async function expectEndedOnce(world: World) {
    for (const [path, token] of [
      ['/api/me/indirect-resellers?status=ended', world.provider.adminToken],
      ['/api/me/indirect-providers?status=ended', world.reseller.adminToken],
    ] as const) {
      expect((await app.api('GET', path, { token })).body.items, path).toHaveLength(1);
    }
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const transfer = await app.api('GET', `/api/me/transfers/${world.transferId}`, { token });
      expect(transfer.body).toMatchObject({ status: 'cancelled', reason: 'the partnership ended' });
    }
    for (const partnerId of [world.provider.partnerId, world.reseller.partnerId]) {
      // Waiting in the partner's partition or published to the feed: once either way.
      expect((await storedEvents(app, partnerId, 'partnership.ended')).length, partnerId).toBe(1);
      expect((await storedEvents(app, partnerId, 'transfer.cancelled')).length, partnerId).toBe(1);
    }
    expect(
      await matching(world.provider.partnerId, 'audit', 'action', 'reseller-partnership-ended'),
    ).toBe(1);
    expect(
      await matching(world.reseller.partnerId, 'audit', 'action', 'provider-partnership-ended'),
    ).toBe(1);
    expect(await matching(world.provider.partnerId, 'email', 'kind', 'partnership-ended')).toBe(1);
    expect(await matching(world.reseller.partnerId, 'email', 'kind', 'transfer-cancelled')).toBe(2);
  }

  it("writes five times with a pending transfer: the provider's side, the reseller's, then the transfer's decision, its provider copy, its settlement", async () => {
    const world = await pendingTransfer(app);
    const { host, counter } = await countingHost();
    try {
      const token = await host.token({ tenant: world.provider.partnerId, roles: ['GlobalAdmin'] });
      expect((await end(world, token, host)).status).toBe(200);
    } finally {
      await host.close({ keepDatabase: true });
    }
    // The crash tests below kill the process before each of these writes.
    expect(counter.writes).toBe(5);
    await expectEndedOnce(world);
  });

  for (const write of [1, 2, 3, 4, 5]) {
    it(`is finished by ending again when the process dies at write ${write} of 5: the pending transfer cancelled on both sides, everything once`, async () => {
      const world = await pendingTransfer(app);
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        const token = await dying.token({
          tenant: world.provider.partnerId,
          roles: ['GlobalAdmin'],
        });
        expect((await end(world, token, dying)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      const again = await end(world);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ resellerId: world.reseller.partnerId, status: 'ended' });
      await expectEndedOnce(world);
      // And once more, and the timer that finishes transfers: nothing is written twice.
      expect((await end(world)).status).toBe(200);
      app.clock.advance({ minutes: 5 });
      await app.runTimer('expireTransfers');
      await expectEndedOnce(world);
      // The customer's transfer guard is freed: with a new partnership, the subscription the
      // cancelled transfer held can be requested again.
      const invited = await inviteReseller(app, world.provider, world.reseller);
      const accepted = await app.api('POST', '/api/partner-invitations/accept', {
        token: world.reseller.adminToken,
        body: { token: tokenOf(invited.body.link) },
      });
      expect(accepted.status).toBe(200);
      const requested = await app.api('POST', `/api/me/customers/${world.customerId}/transfers`, {
        token: world.reseller.adminToken,
        body: {
          providerId: world.provider.partnerId,
          lineItems: [{ subscriptionId: world.subscriptions.e3 }],
        },
      });
      expect(requested.status).toBe(201);
    });
  }
});
