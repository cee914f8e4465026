import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/app/services';
import {
  override,
  startSecondHost,
  startTestApp,
  type ApiResponse,
  type TestApp,
} from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { directCustomer, newCustomer } from '../support/customers';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';
import { activeReseller } from '../support/enrollment';
import { extend, resellerWithDirectCustomer } from '../support/transfers';

/**
 * Answers operations declare (openapi.json lists them) that no feature test happened to reach:
 * each is answered here, from the state that causes it. test/contract checks that every code
 * an operation declares is answered somewhere in the suite.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app?.close());

const expectProblem = (response: ApiResponse, status: number, code: string): void =>
  expect({ status: response.status, code: response.body?.code }).toEqual({ status, code });

/**
 * A second host whose first write to `container` loses a race: `rival` (through the first host)
 * changes the same document just before it, so Cosmos refuses the write on its etag, as when two
 * requests meet.
 */
async function racedHost(
  container: 'partners' | 'customers',
  rival: () => Promise<unknown>,
): Promise<TestApp> {
  let raced = false;
  const beforeFirstWrite = async (): Promise<void> => {
    if (raced) return;
    raced = true;
    await rival();
  };
  return startSecondHost(app, (services: Services) =>
    container === 'partners'
      ? {
          ...services,
          partners: override(services.partners, {
            commit: async (partition, operations) => {
              await beforeFirstWrite();
              return services.partners.commit(partition, operations);
            },
          }),
        }
      : {
          ...services,
          customers: override(services.customers, {
            commit: async (partition, operations) => {
              await beforeFirstWrite();
              return services.customers.commit(partition, operations);
            },
          }),
        },
  );
}

async function withHost<T>(host: TestApp, use: (host: TestApp) => Promise<T>): Promise<T> {
  try {
    return await use(host);
  } finally {
    await host.close({ keepDatabase: true });
  }
}

describe('a customer invitation that can no longer be used', () => {
  async function customerInvitation() {
    const pair = await partnership(app);
    const drafted = await app.api('POST', '/api/me/customer-invitations', {
      token: pair.reseller.adminToken,
      body: { providerId: pair.provider.partnerId },
    });
    expect(drafted.status).toBe(201);
    return { pair, invitation: drafted.body as { invitationId: string; link: string } };
  }
  const send = (token: string, invitation: { invitationId: string; link: string }) =>
    app.api('POST', `/api/me/customer-invitations/${invitation.invitationId}/send`, {
      token,
      body: {
        to: 'admin@wingtiptoys.example',
        subject: 'Join us',
        body: `Accept: ${invitation.link}`,
      },
    });

  it('is 410 invitation-expired to send and to accept once its 30 days are over', async () => {
    const { pair, invitation } = await customerInvitation();
    app.clock.advance({ days: 31 });
    try {
      expectProblem(await send(pair.reseller.adminToken, invitation), 410, 'invitation-expired');
      const customerId = crypto.randomUUID();
      const accept = await app.api('POST', '/api/customer-invitations/accept', {
        token: await app.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
        body: {
          token: tokenOf(invitation.link),
          companyName: 'Wingtip Toys',
          domain: newCustomer().domain,
          country: 'US',
        },
      });
      expectProblem(accept, 410, 'invitation-expired');
    } finally {
      app.clock.set('2026-03-02T09:00:00.000Z');
    }
  });

  it('is 410 invitation-used to send once a customer accepted it', async () => {
    const { pair, invitation } = await customerInvitation();
    const customerId = crypto.randomUUID();
    const accepted = await app.api('POST', '/api/customer-invitations/accept', {
      token: await app.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
      body: {
        token: tokenOf(invitation.link),
        companyName: 'Wingtip Toys',
        domain: newCustomer().domain,
        country: 'US',
      },
    });
    expect(accepted.status).toBe(200);
    expectProblem(await send(pair.reseller.adminToken, invitation), 410, 'invitation-used');
  });
});

describe('a partnership invitation already accepted', () => {
  it('is 409 conflict to revoke', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const accepted = await app.api('POST', '/api/partner-invitations/accept', {
      token: reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(accepted.status).toBe(200);
    const revoke = await app.api(
      'DELETE',
      `/api/me/reseller-invitations/${invited.body.invitationId}`,
      { token: provider.adminToken },
    );
    expectProblem(revoke, 409, 'conflict');
  });
});

describe('a relationship extension once the reseller has left its provider’s regions', () => {
  it('is 403 region-mismatch', async () => {
    const world = await resellerWithDirectCustomer(app);
    // The operator records the reseller's move to a country the provider does not serve.
    const moved = await app.api('PUT', `/api/operator/partners/${world.reseller.partnerId}`, {
      token: await app.operatorToken(),
      body: { ...world.reseller.record, country: 'DE' },
    });
    expect(moved.status).toBe(200);
    expectProblem(await extend(app, world), 403, 'region-mismatch');
  });
});

describe('webhook URLs, on every route that takes one', () => {
  it('refuses a URL to a private name on a change, and on an operator endpoint', async () => {
    const partner = await createPartnerWithProfile(app);
    const created = await app.api('POST', '/api/me/webhooks', {
      token: partner.adminToken,
      body: { url: 'https://hooks.contoso.example/in', events: ['*'] },
    });
    expect(created.status).toBe(201);
    const change = await app.api('PATCH', `/api/me/webhooks/${created.body.webhookId}`, {
      token: partner.adminToken,
      body: { url: 'https://intranet/hook' },
    });
    expectProblem(change, 400, 'webhook-url-refused');

    const operator = await app.operatorToken();
    expectProblem(
      await app.api('POST', '/api/operator/webhooks', {
        token: operator,
        body: { url: 'http://ops.example.com/hooks', events: ['enrollment.escalated'] },
      }),
      400,
      'webhook-url-refused',
    );
    const ops = await app.api('POST', '/api/operator/webhooks', {
      token: operator,
      body: { url: 'https://ops.example.com/hooks', events: ['enrollment.escalated'] },
    });
    expect(ops.status).toBe(201);
    expectProblem(
      await app.api('PATCH', `/api/operator/webhooks/${ops.body.webhookId}`, {
        token: operator,
        body: { url: 'https://10.0.0.8/hooks' },
      }),
      400,
      'webhook-url-refused',
    );
    await app.api('DELETE', `/api/operator/webhooks/${ops.body.webhookId}`, { token: operator });
  });
});

describe('a change that loses a race to another request', () => {
  it('is 409 conflict for a webhook endpoint changed or deleted meanwhile (partner and operator)', async () => {
    const partner = await createPartnerWithProfile(app);
    const operator = await app.operatorToken();
    for (const [prefix, token] of [
      ['me', partner.adminToken],
      ['operator', operator],
    ] as const) {
      const create = () =>
        app.api('POST', `/api/${prefix}/webhooks`, {
          token,
          body: { url: 'https://hooks.contoso.example/race', events: ['*'] },
        });
      const endpoint = (await create()).body.webhookId as string;
      const rename = (description: string) => () =>
        app.api('PATCH', `/api/${prefix}/webhooks/${endpoint}`, { token, body: { description } });
      await withHost(await racedHost('partners', rename('renamed first')), async (second) => {
        expectProblem(
          await second.api('PATCH', `/api/${prefix}/webhooks/${endpoint}`, {
            token,
            body: { description: 'renamed second' },
          }),
          409,
          'conflict',
        );
      });
      await withHost(await racedHost('partners', rename('renamed again')), async (second) => {
        expectProblem(
          await second.api('DELETE', `/api/${prefix}/webhooks/${endpoint}`, { token }),
          409,
          'conflict',
        );
      });
      // The endpoint is still there, as the first request left it.
      const read = await app.api('GET', `/api/${prefix}/webhooks/${endpoint}`, { token });
      expect(read.body.description).toBe('renamed again');
      await app.api('DELETE', `/api/${prefix}/webhooks/${endpoint}`, { token });
    }
  });

  it('is 409 conflict to end a partnership another admin is ending', async () => {
    const { provider, reseller } = await partnership(app);
    const end = (host: TestApp) =>
      host.api('DELETE', `/api/me/indirect-resellers/${reseller.partnerId}`, {
        token: provider.adminToken,
      });
    await withHost(await racedHost('partners', () => end(app)), async (second) =>
      expectProblem(await end(second), 409, 'conflict'),
    );
  });

  it('is 409 conflict to delete a user, or remove a license, that another request changed', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token,
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 5 }] },
    });
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    const newUser = async (name: string): Promise<string> =>
      (
        await app.api('POST', `/api/me/customers/${customerId}/users`, {
          token,
          body: { displayName: name, userPrincipalName: `${name}@wingtiptoys.example` },
        })
      ).body.userId;
    const license = (userId: string) =>
      `/api/me/customers/${customerId}/users/${userId}/licenses/${subscriptionId}`;

    const deleted = await newUser('dana');
    await withHost(
      await racedHost('customers', () => app.api('POST', license(deleted), { token })),
      async (second) =>
        expectProblem(
          await second.api('DELETE', `/api/me/customers/${customerId}/users/${deleted}`, { token }),
          409,
          'conflict',
        ),
    );

    const licensed = await newUser('eli');
    expect((await app.api('POST', license(licensed), { token })).status).toBe(200);
    const other = await newUser('fay');
    await withHost(
      await racedHost('customers', () => app.api('POST', license(other), { token })),
      async (second) =>
        expectProblem(await second.api('DELETE', license(licensed), { token }), 409, 'conflict'),
    );
  });
});
