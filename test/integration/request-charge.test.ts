import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner } from '../support/builders';
import type { CosmosRequest } from '../support/cosmos-requests';
import { approvedPartner } from '../support/enrollment';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ countCosmosRequests: true });
});
afterAll(() => app.close());

/** The request units each invocation of a function logged, read back from its invocation line. */
function loggedCharge(functionName: string): number[] {
  return app.logs
    .filter(
      (entry) => entry.functionName === functionName && entry.message.startsWith('invocation {'),
    )
    .map(
      (entry) =>
        (JSON.parse(entry.message.slice('invocation '.length)) as { requestCharge: number })
          .requestCharge,
    );
}

/**
 * The embedded emulator charges 1 RU for every data request (a plan request costs none): a
 * cross-partition query's page is a request to each partition key range.
 */
const chargedRequests = (requests: readonly CosmosRequest[]): number =>
  requests.filter((request) => !['query-plan', 'metadata', 'other'].includes(request.kind)).length;

describe("each invocation's request charge", () => {
  it('logs the sum of x-ms-request-charge over the Cosmos calls of an HTTP request, in its invocation line', async () => {
    const { partnerId } = await createPartner(app);
    const token = await app.token({ tenant: partnerId, roles: ['SalesAgent'] });
    app.logs.length = 0;
    const requests = await app.cosmosRequests!.during(() => app.api('GET', '/api/me', { token }));
    expect(loggedCharge('getMe')).toEqual([chargedRequests(requests)]);
    expect(chargedRequests(requests)).toBe(1);
  });

  it('logs it for a timer run too, reads, queries and batches together', async () => {
    await approvedPartner(app);
    app.logs.length = 0;
    const requests = await app.cosmosRequests!.during(() =>
      app.runTimer('sendIncentiveInvitations'),
    );
    const [charge] = loggedCharge('sendIncentiveInvitations');
    expect(charge).toBe(chargedRequests(requests));
    expect(charge).toBeGreaterThanOrEqual(3);
  });

  it('logs 0 for an invocation that made no Cosmos call, in its one line', async () => {
    app.logs.length = 0;
    expect((await app.api('GET', '/api/openapi.json')).status).toBe(200);
    expect(loggedCharge('openApi')).toEqual([0]);
    expect(app.logs.filter((entry) => entry.functionName === 'openApi')).toHaveLength(1);
  });
});
