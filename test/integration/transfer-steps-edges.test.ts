import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict, type PartnerDocument, type WriteOperation } from '../../shared/app/ports';
import type { CustomerDocument } from '../../shared/domain/customers';
import type { Services } from '../../shared/app/services';
import { override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { pendingTransfer } from '../support/transfers';

// The steps of a transfer as its partners see them (docs/rules.md section 8b): the activity log
// line of each step on both sides, and the 409 each step answers when its writes keep being
// refused by concurrent changes.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

type Operations = WriteOperation<PartnerDocument>[];

/** The replace of the reseller's copy of a transfer that decides it (still to propagate). */
const decides = (operations: Operations, status: string) =>
  operations.some(
    (operation) =>
      operation.op === 'replace' &&
      operation.document.type === 'transfer' &&
      operation.document.status === status &&
      operation.document.propagateAfter !== undefined,
  );

/** A second host whose partner writes `refuse` answers for are refused with that conflict. */
async function refusing(
  refuse: (partnerId: string, operations: Operations) => WriteConflict | null,
  customers?: (services: Services) => Services['customers'],
) {
  let refused = 0;
  const host = await startSecondHost(app, (services) => ({
    ...services,
    customers: customers ? customers(services) : services.customers,
    partners: override(services.partners, {
      commit: async (partnerId, operations) => {
        const conflict = refuse(partnerId, operations);
        if (conflict) {
          refused += 1;
          throw conflict;
        }
        return services.partners.commit(partnerId, operations);
      },
    }),
  }));
  return { host, refused: () => refused };
}

const activity = async (token: string) =>
  (
    (await app.api('GET', '/api/me/activity?pageSize=100', { token })).body.items as {
      action: string;
      to: string | null;
      reason: string | null;
    }[]
  )
    .filter((item) => item.action.startsWith('transfer-'))
    .map(({ action, to, reason }) => ({ action, to, reason }));

describe("a transfer's steps in both activity logs", () => {
  it('names the transfer, the customer and the other partner, and the reason of a rejection', async () => {
    const world = await pendingTransfer(app);
    const rejected = await app.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
      token: world.provider.adminToken,
      body: { reason: 'No credit line yet' },
    });
    expect(rejected.status).toBe(200);
    const about = `transfer ${world.transferId} of Wingtip Toys's subscriptions`;
    expect(await activity(world.reseller.adminToken)).toEqual(
      expect.arrayContaining([
        {
          action: 'transfer-requested',
          to: 'pending',
          reason: `${about} with Adatum Distribution`,
        },
        {
          action: 'transfer-rejected',
          to: 'rejected',
          reason: `${about} with Adatum Distribution: No credit line yet`,
        },
      ]),
    );
    expect(await activity(world.provider.adminToken)).toEqual(
      expect.arrayContaining([
        { action: 'transfer-requested', to: 'pending', reason: `${about} with Fourth Coffee IT` },
        {
          action: 'transfer-rejected',
          to: 'rejected',
          reason: `${about} with Fourth Coffee IT: No credit line yet`,
        },
      ]),
    );
  });
});

describe('a decision whose writes keep being refused', () => {
  it('tells a provider whose rejection was refused five times to try again, giving back each count of its emails', async () => {
    const world = await pendingTransfer(app);
    const counters = async () =>
      (await app.documents(world.provider.partnerId, 'rate-counter')).map(
        (counter: { id: string; count: number }) => [counter.id, counter.count],
      );
    const before = await counters();
    // The provider's step is decided in the reseller's partition, the decision first.
    const { host, refused } = await refusing((partnerId, operations) =>
      partnerId === world.reseller.partnerId && decides(operations, 'rejected')
        ? new WriteConflict('changed', 0)
        : null,
    );
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/reject`, {
        token: world.provider.adminToken,
        body: { reason: 'busy' },
      });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'conflict',
        detail: 'The transfer changed while it was being decided; try again.',
      });
      expect(refused()).toBe(5);
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect(await counters()).toEqual(before);
  });

  it('tells a reseller whose withdrawal was refused five times to try again (its own email count goes first in the batch)', async () => {
    const world = await pendingTransfer(app);
    const { host, refused } = await refusing((partnerId, operations) =>
      partnerId === world.reseller.partnerId && decides(operations, 'withdrawn')
        ? new WriteConflict('changed', 1)
        : null,
    );
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
        token: world.reseller.adminToken,
      });
      expect(answer.status).toBe(409);
      expect(answer.body.detail).toBe(
        'The transfer changed while it was being decided; try again.',
      );
      expect(refused()).toBe(5);
    } finally {
      await host.close({ keepDatabase: true });
    }
  });

  it('counts the emails again, up to ten times apart from the five decisions, when the hourly counter keeps moving', async () => {
    const world = await pendingTransfer(app);
    // The provider's counter, written apart in its own partition, is refused every time.
    const provider = await refusing((partnerId, operations) =>
      partnerId === world.provider.partnerId &&
      operations.length === 1 &&
      'document' in operations[0]! &&
      operations[0].document.type === 'rate-counter'
        ? new WriteConflict('changed', 0)
        : null,
    );
    try {
      const answer = await provider.host.api(
        'POST',
        `/api/me/transfers/${world.transferId}/reject`,
        { token: world.provider.adminToken, body: { reason: 'busy' } },
      );
      expect(answer.status).toBe(409);
      expect(answer.body.detail).toBe(
        'The transfer changed while it was being decided; try again.',
      );
      // Nine counts retried without using a decision's try, then one per decision left.
      expect(provider.refused()).toBe(14);
    } finally {
      await provider.host.close({ keepDatabase: true });
    }
    // The reseller's own counter goes first in the decision's batch: refused there the same.
    const reseller = await refusing((partnerId, operations) =>
      partnerId === world.reseller.partnerId && decides(operations, 'withdrawn')
        ? new WriteConflict('changed', 0)
        : null,
    );
    try {
      const answer = await reseller.host.api(
        'POST',
        `/api/me/transfers/${world.transferId}/withdraw`,
        { token: world.reseller.adminToken },
      );
      expect(answer.status).toBe(409);
      expect(reseller.refused()).toBe(14);
    } finally {
      await reseller.host.close({ keepDatabase: true });
    }
    const seen = await app.api('GET', `/api/me/transfers/${world.transferId}`, {
      token: world.reseller.adminToken,
    });
    expect(seen.body.status).toBe('pending');
  });
});

describe('a completion whose writes keep being refused', () => {
  it("tells the provider to try again when the customer's subscriptions were refused five times", async () => {
    const world = await pendingTransfer(app);
    let refused = 0;
    const { host } = await refusing(
      () => null,
      (services) =>
        override(services.customers, {
          commit: async (_customerId: string, _operations: WriteOperation<CustomerDocument>[]) => {
            refused += 1;
            throw new WriteConflict('changed', 0);
          },
        }),
    );
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'conflict',
        detail: 'The subscriptions changed while moving; try again.',
      });
      expect(refused).toBe(5);
    } finally {
      await host.close({ keepDatabase: true });
    }
    // Decided: the next accept (or the timer) completes it.
    const again = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('completed');
  });

  it("answers a failure of the customer's partition as the failure it is, tried once", async () => {
    const world = await pendingTransfer(app);
    let tries = 0;
    const { host } = await refusing(
      () => null,
      (services) =>
        override(services.customers, {
          commit: async (_customerId: string, _operations: WriteOperation<CustomerDocument>[]) => {
            tries += 1;
            throw new Error('the customers container is unreachable');
          },
        }),
    );
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
        token: world.provider.adminToken,
      });
      expect(answer.status).toBe(500);
      expect(tries).toBe(1);
    } finally {
      await host.close({ keepDatabase: true });
    }
  });

  it("answers a failure of the reseller's settlement as the failure it is, tried once", async () => {
    const world = await pendingTransfer(app);
    let tries = 0;
    const host = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          if (
            partnerId === world.reseller.partnerId &&
            operations.some(
              (operation) =>
                operation.op === 'replace' &&
                operation.document.type === 'transfer' &&
                operation.document.propagateAfter === undefined,
            )
          ) {
            tries += 1;
            throw new Error('the partners container is unreachable');
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
        token: world.reseller.adminToken,
      });
      expect(answer.status).toBe(500);
      expect(tries).toBe(1);
    } finally {
      await host.close({ keepDatabase: true });
    }
  });

  it('tells the reseller to try again when the settlement of its side was refused five times', async () => {
    const world = await pendingTransfer(app);
    const { host, refused } = await refusing((partnerId, operations) =>
      partnerId === world.reseller.partnerId &&
      operations.some(
        (operation) =>
          operation.op === 'replace' &&
          operation.document.type === 'transfer' &&
          operation.document.propagateAfter === undefined,
      )
        ? new WriteConflict('changed', 0)
        : null,
    );
    try {
      const answer = await host.api('POST', `/api/me/transfers/${world.transferId}/withdraw`, {
        token: world.reseller.adminToken,
      });
      expect(answer.status).toBe(409);
      expect(answer.body).toMatchObject({
        code: 'conflict',
        detail: 'The transfer changed while it was being completed; try again.',
      });
      expect(refused()).toBe(5);
    } finally {
      await host.close({ keepDatabase: true });
    }
  });
});
