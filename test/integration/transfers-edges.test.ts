import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict, type PartnerDocument, type WriteOperation } from '../../shared/app/ports';
import {
  dyingAtWrite,
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import {
  extendedCustomer,
  pendingTransfer,
  requestTransfer,
  resellerWithDirectCustomer,
  seedAddOn,
} from '../support/transfers';

// What the partners read of a transfer request's refusals and of the expireTransfers timer's
// runs (docs/rules.md section 8b, docs/api.md Transfers): each refusal's status, code and words.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

const writesA = (operations: WriteOperation<PartnerDocument>[], type: string) =>
  operations.some((operation) => 'document' in operation && operation.document.type === type);

describe('a transfer request refused', () => {
  it('names the provider, the customer and the extension to make first when the provider has no relationship with the customer: 403 relationship-required', async () => {
    const world = await resellerWithDirectCustomer(app);
    const response = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({
      code: 'relationship-required',
      detail: `Adatum Distribution has no relationship with Wingtip Toys yet: extend the customer's relationship to it first (POST /api/me/customers/${world.customerId}/relationship-extension).`,
    });
  });

  it('moves at most 50 subscriptions with their add-ons: 50 are requested, 51 get 400 saying how many it moves', async () => {
    const world = await extendedCustomer(app, { azurePlan: false });
    for (let index = 0; index < 50; index += 1) await seedAddOn(app, world, world.subscriptions.e3);
    for (let index = 0; index < 49; index += 1) {
      await seedAddOn(app, world, world.subscriptions.phone);
    }
    const tooMany = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({
      code: 'validation-failed',
      errors: [
        {
          path: 'body.lineItems',
          message: 'moves 51 subscriptions with their add-ons; at most 50 per transfer',
        },
      ],
    });
    const fifty = await requestTransfer(app, world, [world.subscriptions.phone]);
    expect(fifty.status).toBe(201);
    expect(fifty.body.lineItems[0].addOns).toHaveLength(49);
  });

  it("keeps a customer's subscriptions in an open transfer guarded when another of its subscriptions is requested: 409 transfer-in-progress", async () => {
    const world = await extendedCustomer(app);
    expect((await requestTransfer(app, world, [world.subscriptions.e3])).status).toBe(201);
    expect((await requestTransfer(app, world, [world.subscriptions.phone])).status).toBe(201);
    const again = await requestTransfer(app, world, [world.subscriptions.e3]);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('transfer-in-progress');
  });

  it('tells the requests that find the guard taken 40 times in a row to try again: 409 in plain words', async () => {
    const world = await extendedCustomer(app);
    let tries = 0;
    const crowded = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          if (writesA(operations, 'transfer-guard')) {
            tries += 1;
            throw new WriteConflict('changed', 1);
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const refused = await requestTransfer(crowded, world, [world.subscriptions.e3]);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'Too many concurrent requests for this customer; try again.',
      });
      expect(tries).toBe(40);
    } finally {
      await crowded.close({ keepDatabase: true });
    }
  });
});

describe('a transfer decided by the wrong side', () => {
  it('tells the reseller that only the provider, by name, accepts or rejects, and the provider that only the reseller withdraws: 403', async () => {
    const world = await pendingTransfer(app);
    const path = `/api/me/transfers/${world.transferId}`;
    for (const step of ['accept', 'reject']) {
      const byReseller = await app.api('POST', `${path}/${step}`, {
        token: world.reseller.adminToken,
        body: step === 'reject' ? { reason: 'not ours to decide' } : undefined,
      });
      expect(byReseller.status, step).toBe(403);
      expect(byReseller.body).toMatchObject({
        code: 'forbidden',
        detail: 'Only the indirect provider (Adatum Distribution) accepts or rejects a transfer.',
      });
    }
    const byProvider = await app.api('POST', `${path}/withdraw`, {
      token: world.provider.adminToken,
    });
    expect(byProvider.status).toBe(403);
    expect(byProvider.body).toMatchObject({
      code: 'forbidden',
      detail: 'Only the reseller (Fourth Coffee IT) withdraws its transfer request.',
    });
  });
});

describe('accepting a request that lapsed before the timer ran', () => {
  it('answers a request past its 30 days 409 saying it expired', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      isolated.clock.advance({ days: 30 });
      const late = await isolated.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(late.status).toBe(409);
      expect(late.body).toMatchObject({
        code: 'conflict',
        detail: 'The transfer request expired after 30 days.',
      });
    } finally {
      await isolated.close();
    }
  });

  it('answers an accept repeated after the 30 days as it was: completed, nothing expired', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      const accept = () =>
        isolated.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
          token: world.provider.adminToken,
        });
      expect((await accept()).status).toBe(200);
      isolated.clock.advance({ days: 31 });
      const again = await accept();
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ status: 'completed' });
    } finally {
      await isolated.close();
    }
  });

  it("cancels a request between partners whose partnership ended on the provider's side only, on both sides, and answers 409 saying so", async () => {
    const world = await pendingTransfer(app);
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const died = await dying.api(
        'DELETE',
        `/api/me/indirect-resellers/${world.reseller.partnerId}`,
        { token: world.provider.adminToken },
      );
      expect(died.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(409);
    expect(accepted.body).toMatchObject({
      code: 'conflict',
      detail: 'The partnership ended: the transfer was cancelled.',
    });
    for (const token of [world.reseller.adminToken, world.provider.adminToken]) {
      const seen = await app.api('GET', `/api/me/transfers/${world.transferId}`, { token });
      expect(seen.body).toMatchObject({ status: 'cancelled', reason: 'the partnership ended' });
    }
  });
});

describe('the expireTransfers timer, run by run', () => {
  /** The summary of the host's last expireTransfers run, as its `timer run` line logs it. */
  const lastRun = (host: TestApp) =>
    host.logs
      .filter((entry) => entry.message.startsWith('timer run {'))
      .map((entry) => JSON.parse(entry.message.slice('timer run '.length)))
      .filter((run) => run.timerName === 'expireTransfers')
      .at(-1)?.summary;

  const logged = (host: TestApp, message: string) =>
    host.logs
      .filter((entry) => entry.message.startsWith(`${message} {`))
      .map((entry) => JSON.parse(entry.message.slice(message.length + 1)));

  it('counts the requests it expired', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      await pendingTransfer(isolated);
      isolated.clock.advance({ days: 30 });
      await isolated.runTimer('expireTransfers');
      expect(lastRun(isolated)).toEqual({ expired: 1, completed: 0 });
    } finally {
      await isolated.close();
    }
  });

  it('leaves a request decided after it was listed to its decision, logging so, and runs on', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      isolated.clock.advance({ days: 30 });
      const listing = await startSecondHost(isolated, (services) => ({
        ...services,
        partners: override(services.partners, {
          // The request is withdrawn between the timer's query and its decision.
          async *transfersToExpire(now: Date) {
            const listed = [];
            for await (const found of services.partners.transfersToExpire(now)) listed.push(found);
            const withdrawn = await isolated.api(
              'POST',
              `/api/me/transfers/${world.transferId}/withdraw`,
              { token: world.reseller.adminToken },
            );
            expect(withdrawn.status).toBe(200);
            yield* listed;
          },
        }),
      }));
      try {
        await listing.runTimer('expireTransfers');
        expect(lastRun(listing)).toEqual({ expired: 0, completed: 0 });
        expect(logged(listing, 'expireTransfers: decided meanwhile')).toEqual([
          expect.objectContaining({ transferId: world.transferId }),
        ]);
      } finally {
        await listing.close({ keepDatabase: true });
      }
      const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, {
        token: world.provider.adminToken,
      });
      expect(seen.body.status).toBe('withdrawn');
    } finally {
      await isolated.close();
    }
  });

  it('fails a run that could not finish a step, naming the transfer and why; the next run finishes it and counts it', async () => {
    const isolated = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
    try {
      const world = await pendingTransfer(isolated);
      const providerDown = failingPartnerWrites((partnerId) =>
        partnerId === world.provider.partnerId ? new Error('provider partition unreachable') : null,
      );
      const broken = await startSecondHost(isolated, providerDown);
      try {
        const withdrawn = await broken.api(
          'POST',
          `/api/me/transfers/${world.transferId}/withdraw`,
          {
            token: world.reseller.adminToken,
          },
        );
        expect(withdrawn.status).toBe(500);
        isolated.clock.advance({ minutes: 5 });
        await expect(broken.runTimer('expireTransfers')).rejects.toThrow(
          'expireTransfers: 1 transfers unfinished',
        );
        expect(logged(broken, 'expireTransfers: could not finish a transfer step')).toEqual([
          expect.objectContaining({
            transferId: world.transferId,
            error: 'provider partition unreachable',
          }),
        ]);
      } finally {
        await broken.close({ keepDatabase: true });
      }
      await isolated.runTimer('expireTransfers');
      expect(lastRun(isolated)).toEqual({ expired: 0, completed: 1 });
      const seen = await isolated.api('GET', `/api/me/transfers/${world.transferId}`, {
        token: world.provider.adminToken,
      });
      expect(seen.body.status).toBe('withdrawn');
    } finally {
      await isolated.close();
    }
  });
});
