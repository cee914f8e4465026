import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DependencyUnavailable,
  WriteConflict,
  type PartnerDocument,
  type WriteOperation,
} from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import {
  failingPartnerWrites,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { ManualClock } from '../support/clock';
import { uniqueDomain } from '../support/customers';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';

/**
 * What partners and customers see of the customer invitation rules that the other customer
 * invitation tests leave unproven (docs/rules.md sections 8, 8b): a revocation the store refuses
 * for another reason than a changed invitation, a retry completing an acceptance after the
 * partnership ended, a customer already served through the reseller accepting its invitation
 * with a second provider, and an acceptance raced by the same customer's own.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-05-04T08:00:00.000Z') });
});
afterAll(() => app.close());

type Pair = Awaited<ReturnType<typeof partnership>>;

async function draft(pair: Pair, providerId = pair.provider.partnerId) {
  const response = await app.api('POST', '/api/me/customer-invitations', {
    token: pair.reseller.adminToken,
    body: { providerId },
  });
  expect(response.status, response.text).toBe(201);
  return response.body as { invitationId: string; link: string };
}

const customerAdmin = (customerId: string, host: TestApp = app) =>
  host.token({ tenant: customerId, roles: ['GlobalAdmin'], name: 'Casey Customer' });

const newTenant = () => ({
  companyName: 'Tailspin Toys',
  domain: uniqueDomain('tailspin'),
  country: 'US',
});

const accept = async (
  link: string,
  customerId: string,
  details: Record<string, unknown> = newTenant(),
  host: TestApp = app,
) =>
  host.api('POST', '/api/customer-invitations/accept', {
    token: await customerAdmin(customerId, host),
    body: { token: tokenOf(link), ...details },
  });

const lookup = (link: string) =>
  app.api('POST', '/api/customer-invitations/lookup', { body: { token: tokenOf(link) } });

/** The reseller's audit events of one action, as its activity lists them. */
async function activity(pair: Pair, action: string) {
  const page = await app.api('GET', '/api/me/activity?pageSize=100', {
    token: pair.reseller.adminToken,
  });
  expect(page.status).toBe(200);
  return page.body.items.filter((item: { action: string }) => item.action === action);
}

const isRevocation = (operations: WriteOperation<PartnerDocument>[]) => {
  const first = operations[0];
  return (
    first?.op === 'replace' &&
    first.document.type === 'customer-invitation' &&
    (first.document as { status?: string }).status === 'revoked'
  );
};

/** A second host whose store refuses the first revocation batch with `error`, then writes. */
function refusingFirstRevocation(error: Error) {
  let armed = true;
  return startSecondHost(
    app,
    failingPartnerWrites((_partnerId, operations) => {
      if (!armed || !isRevocation(operations)) return null;
      armed = false;
      return error;
    }),
  );
}

describe('revoking when the store refuses the revocation', () => {
  it('answers 503 when the store is unavailable, leaving the invitation open and nothing recorded', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const host = await refusingFirstRevocation(new DependencyUnavailable('Cosmos DB'));
    try {
      const refused = await host.api(
        'DELETE',
        `/api/me/customer-invitations/${invitation.invitationId}`,
        { token: pair.reseller.adminToken },
      );
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('unavailable');
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect((await lookup(invitation.link)).body.status).toBe('pending');
    expect(await activity(pair, 'customer-invitation-revoked')).toEqual([]);
  });

  it('answers 409 when the store refuses its activity entry rather than the invitation, leaving the invitation open', async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const host = await refusingFirstRevocation(new WriteConflict('exists', 1));
    try {
      const refused = await host.api(
        'DELETE',
        `/api/me/customer-invitations/${invitation.invitationId}`,
        { token: pair.reseller.adminToken },
      );
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The resource was changed by another request; read it again and retry.',
      });
    } finally {
      await host.close({ keepDatabase: true });
    }
    expect((await lookup(invitation.link)).body.status).toBe('pending');
    expect(await activity(pair, 'customer-invitation-revoked')).toEqual([]);
  });
});

/**
 * A customer that accepted the reseller's invitation with its first provider (Adatum
 * Distribution), the reseller being in partnership with a second one (Contoso Supply) too;
 * `before` is the reseller's view of the customer.
 */
async function servedThroughOneProvider() {
  const pair = await partnership(app);
  const second = await createProvider(app, { companyName: 'Contoso Supply' });
  const invited = await inviteReseller(app, second, pair.reseller);
  expect(invited.status, invited.text).toBe(201);
  const partnered = await app.api('POST', '/api/partner-invitations/accept', {
    token: pair.reseller.adminToken,
    body: { token: tokenOf(invited.body.link) },
  });
  expect(partnered.status, partnered.text).toBe(200);
  const customerId = crypto.randomUUID();
  const first = await accept((await draft(pair)).link, customerId);
  expect(first.status, first.text).toBe(200);
  const seen = await app.api('GET', `/api/me/customers/${customerId}`, {
    token: pair.reseller.adminToken,
  });
  expect(seen.status).toBe(200);
  return { pair, second, customerId, before: seen.body };
}

describe('accepting', () => {
  it("completes a retry after a crash between the partitions even once the partnership ended: the provider's relationship is written", async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    const details = newTenant();
    const crashing = await startSecondHost(
      app,
      failingPartnerWrites((partnerId) =>
        partnerId === pair.provider.partnerId ? new Error('process killed') : null,
      ),
    );
    try {
      const first = await accept(invitation.link, customerId, details, crashing);
      expect(first.status).toBe(500);
    } finally {
      await crashing.close({ keepDatabase: true });
    }
    expect(await app.documents(pair.provider.partnerId, 'customer-relationship')).toEqual([]);
    const ended = await app.api('DELETE', `/api/me/indirect-resellers/${pair.reseller.partnerId}`, {
      token: pair.provider.adminToken,
    });
    expect(ended.status, ended.text).toBeLessThan(300);

    const retried = await accept(invitation.link, customerId, details);
    expect(retried.status, retried.text).toBe(200);
    expect(retried.body.resellersOfRecord[1]).toEqual({
      partnerId: pair.provider.partnerId,
      companyName: 'Adatum Distribution',
      relationship: 'indirect-provider',
    });
    const seen = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.provider.adminToken,
    });
    expect(seen.status, seen.text).toBe(200);
    expect(seen.body.relationship).toBe('indirect-provider');
  });

  it("leaves the reseller's relationship with a customer it already serves through one provider as it was when the customer accepts its invitation with a second provider", async () => {
    const { pair, second, customerId, before } = await servedThroughOneProvider();
    app.clock.advance({ days: 1 });
    const accepted = await accept((await draft(pair, second.partnerId)).link, customerId, {});
    expect(accepted.status, accepted.text).toBe(200);
    const after = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: pair.reseller.adminToken,
    });
    expect(after.body).toEqual(before);
    expect(after.body).toMatchObject({
      relationship: 'indirect-reseller',
      indirectProvider: { partnerId: pair.provider.partnerId },
    });
    const [stored] = await app.documents(pair.reseller.partnerId, 'customer-relationship');
    expect(stored.history).toHaveLength(1);
    const seenBySecond = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: second.adminToken,
    });
    expect(seenBySecond.body).toMatchObject({
      relationship: 'indirect-provider',
      indirectReseller: { partnerId: pair.reseller.partnerId },
    });
  });

  it('names the provider of the invitation in its answer when a customer already served through the reseller with another provider accepts it', async () => {
    const { pair, second, customerId } = await servedThroughOneProvider();
    const accepted = await accept((await draft(pair, second.partnerId)).link, customerId, {});
    expect(accepted.status, accepted.text).toBe(200);
    expect(accepted.body.resellersOfRecord).toEqual([
      {
        partnerId: pair.reseller.partnerId,
        companyName: pair.reseller.record.companyName,
        relationship: 'indirect-reseller',
      },
      {
        partnerId: second.partnerId,
        companyName: 'Contoso Supply',
        relationship: 'indirect-provider',
      },
    ]);
  });

  it("answers 200 and writes the provider's relationship when the same customer's own acceptance got in between the read and the write", async () => {
    const pair = await partnership(app);
    const invitation = await draft(pair);
    const customerId = crypto.randomUUID();
    let armed = true;
    // The same customer's other request writes the reseller's batch first; this one's batch is
    // then refused on the invitation (index 0, changed).
    const raced = await startSecondHost(app, (services: Services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          const first = operations[0];
          if (armed && first?.op === 'replace' && first.document.type === 'customer-invitation') {
            armed = false;
            await services.partners.commit(partnerId, operations);
          }
          return services.partners.commit(partnerId, operations);
        },
      }),
    }));
    try {
      const answered = await accept(invitation.link, customerId, newTenant(), raced);
      expect(answered.status, answered.text).toBe(200);
      expect(armed).toBe(false);
      expect(answered.body.resellersOfRecord[1]).toMatchObject({
        partnerId: pair.provider.partnerId,
        relationship: 'indirect-provider',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(await app.documents(pair.provider.partnerId, 'customer-relationship')).toEqual([
      expect.objectContaining({ customerId, relationship: 'indirect-provider' }),
    ]);
    expect((await lookup(invitation.link)).body.status).toBe('accepted');
    expect(await activity(pair, 'customer-accepted-invitation')).toHaveLength(1);
  });
});
