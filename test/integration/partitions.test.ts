import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerDefinitions } from '../../shared/adapters/cosmos/schema';
import { startTestApp, type TestApp } from '../support/app';
import { createPartner, createPartnerWithProfile, uniqueMpnId } from '../support/builders';
import { directCustomer, indirectCustomer, newCustomer, uniqueDomain } from '../support/customers';
import { startWebhookReceiver } from '../support/webhook-receiver';

/**
 * Partitions that stay within Cosmos DB's limits at scale (docs/capacity.md): what grows with
 * the number of customers or partners gets partitions of its own; the shared `directory`
 * partition holds only the provider listings; audit events expire.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ env: { AUDIT_RETENTION_DAYS: '30' } });
});
afterAll(() => app.close());

describe('partitions', () => {
  it("writes a customer's domain claim in the domain's own partition, found by a point read", async () => {
    const domain = uniqueDomain('claimed');
    const { customerId, partner } = await directCustomer(app, { domain });
    const claim = await app.pointRead(`domain:${domain}`, `domain-${domain}`);
    expect(claim).toMatchObject({
      type: 'domain-claim',
      customerId,
      claimedBy: partner.partnerId,
    });
    expect(await app.pointRead('directory', `domain-${domain}`)).toBeNull();
    // Still one tenant per domain: another partner is refused the same domain.
    const other = await createPartnerWithProfile(app);
    const taken = await app.api('POST', '/api/me/customers', {
      token: other.adminToken,
      body: newCustomer({ companyName: 'Copycat', domain }),
    });
    expect(taken.status, taken.text).toBe(409);
    expect(taken.body.code).toBe('conflict');
  });

  it("writes an MPN ID's entry in the ID's own partition, found by a point read", async () => {
    const mpnId = uniqueMpnId();
    const { partnerId } = await createPartner(app, { mpnId });
    expect(await app.pointRead(`mpn:${mpnId}`, `mpn-${mpnId}`)).toMatchObject({
      type: 'mpn-index',
      mpnId,
      ownerId: partnerId,
    });
    expect(await app.pointRead('directory', `mpn-${mpnId}`)).toBeNull();
  });

  it('keeps only provider listings in the directory partition', async () => {
    const { provider } = await indirectCustomer(app);
    await directCustomer(app);
    const directory = await app.documents('directory');
    expect(directory.map((document) => document.type)).toEqual(
      directory.map(() => 'provider-listing'),
    );
    expect(directory.map((document) => document.providerId)).toContain(provider.partnerId);
  });

  it('writes every audit event with the ttl of AUDIT_RETENTION_DAYS, and nothing else with it', async () => {
    expect(app.config.audit.retentionDays).toBe(30);
    const { partner } = await directCustomer(app);
    const events = await app.documents(partner.partnerId, 'audit');
    expect(events.map((event) => event.action)).toEqual(
      expect.arrayContaining(['partner-created', 'customer-added']),
    );
    for (const event of events) expect(event.ttl, event.action).toBe(30 * 24 * 60 * 60);
    const others = (await app.documents(partner.partnerId)).filter(
      (document) => document.type !== 'audit',
    );
    expect(others.filter((document) => document.ttl === 30 * 24 * 60 * 60)).toEqual([]);
    // The activity log shows the events as before: the ttl is storage, not part of the view.
    const activity = await app.api('GET', '/api/me/activity', { token: partner.adminToken });
    expect(activity.status).toBe(200);
    expect(activity.body.items.length).toBe(events.length);
    for (const item of activity.body.items) expect(item).not.toHaveProperty('ttl');
  });

  it("publishes events out of the partner's partition: the feed in its own, each endpoint's deliveries in another, all expiring after 30 days", async () => {
    const partner = await createPartnerWithProfile(app);
    const hook = await startWebhookReceiver();
    try {
      const endpoint = await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: hook.url, events: ['customer.created'] },
      });
      expect(endpoint.status).toBe(201);
      const created = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      expect(created.status).toBe(201);
      await app.runTimer('deliverEvents');
      expect(hook.received.map((received) => received.type)).toEqual(['customer.created']);
      const own = await app.documents(partner.partnerId);
      expect(own.filter((document) => ['event', 'delivery'].includes(document.type))).toEqual([]);
      const thirtyDays = 30 * 24 * 3600;
      const feed = await app.query(
        'events',
        `SELECT * FROM c WHERE c.stream = 'feed:${partner.partnerId}'`,
      );
      expect(feed.map((event) => [event.eventType, event.ttl])).toEqual([
        ['customer.created', thirtyDays],
      ]);
      const deliveries = await app.query(
        'events',
        `SELECT * FROM c WHERE c.stream = 'webhook:${endpoint.body.webhookId}' AND c.type = 'delivery'`,
      );
      expect(deliveries.map((delivery) => [delivery.status, delivery.ttl])).toEqual([
        ['delivered', thirtyDays],
      ]);
      const events = containerDefinitions.find((definition) => definition.id === 'events');
      expect(events?.defaultTtl).toBe(-1);
    } finally {
      await hook.close();
    }
  });

  it('lets audit events expire on Azure: the partners container turns per-item ttl on', () => {
    // The embedded emulator ignores ttl; Azure honours an item's ttl only when the container has
    // a defaultTtl (-1: none of its own). Bicep creates the container from this definition.
    const partners = containerDefinitions.find((definition) => definition.id === 'partners');
    expect(partners?.defaultTtl).toBe(-1);
  });
});
