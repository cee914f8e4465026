import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionTable, httpFunctions } from '../../functions/table';
import { relationshipFor } from '../../shared/domain/customers';
import { settledEmail, type OutboxEmail } from '../../shared/domain/email';
import { startTestApp, type TestApp } from '../support/app';
import {
  createPartner,
  createPartnerWithProfile,
  globalAdminToken,
  masterRecord,
  profile,
} from '../support/builders';
import {
  roundTrips,
  roundTripsByPartition,
  type CosmosRequest,
  type RoundTrips,
} from '../support/cosmos-requests';
import { ManualClock } from '../support/clock';
import {
  activeReseller,
  approvedPartner,
  enrollmentForm,
  submitEnrollment,
} from '../support/enrollment';
import { newTenantId } from '../support/ids';
import { createProvider, inviteReseller, partnership, tokenOf } from '../support/providers';
import { newCustomer, uniqueDomain } from '../support/customers';
import { plausibleRequests, type RequestSamples } from '../support/route-requests';
import { startWebhookReceiver } from '../support/webhook-receiver';
import {
  extendedCustomer,
  pendingTransfer,
  resellerWithDirectCustomer,
} from '../support/transfers';

/**
 * Round-trip budgets (issue 8): how many requests each route sends to Cosmos DB, counted at
 * the SDK's HTTP client and asserted exactly, so a change that adds a round trip fails here.
 * Counts are of data requests on a warm client: the SDK's cached metadata reads are left out,
 * and so are the query plans the JS SDK fetches alongside each new query (no RU, in parallel),
 * which are only held to at most one per query.
 */

/** What a row does: an HTTP request through the local host, or a timer run. */
type Act =
  | {
      method: string;
      path: string;
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
      status: number;
    }
  | { timer: string };

interface Budget {
  /** The function's name in the table (functions/table.ts): rows are keyed by route. */
  route: string;
  /** What the row exercises, in the domain's words. */
  does: string;
  /** Makes the data the request needs and answers the request to measure. */
  arrange(app: TestApp): Promise<Act>;
  expected: Partial<RoundTrips>;
  /** At most this many point reads and batches in any one partition. */
  perPartition?: { reads: number; batches: number };
  /** Runs in an app of its own: for timers, which act on every partner of the database. */
  isolated?: boolean;
  /** Settings of that app of its own (isolated rows only). */
  env?: Record<string, string>;
}

/** The acceptance of the agreement the partner reads: its template and version, nothing more. */
const agreementOf = async (app: TestApp, token: string) => {
  const { templateId, version } = (await app.api('GET', '/api/me/agreement', { token })).body as {
    templateId: string;
    version: string;
  };
  return { templateId, version };
};

/** Customers written straight into the partner's partition: the list is what is measured. */
async function seedCustomers(app: TestApp, partnerId: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newTenantId());
  await app.services.partners.commit(
    partnerId,
    ids.map((customerId, index) => ({
      op: 'create' as const,
      document: relationshipFor(
        partnerId,
        {
          customerId,
          companyName: `Customer ${index}`,
          domain: `c${index}.example`,
          country: 'US',
        },
        'direct-bill',
        {
          acquiredAs: 'direct-bill',
          delegatedAdmin: true,
          at: app.clock.now().toISOString(),
          reason: 'seed',
        },
      ),
    })),
  );
  return ids;
}

async function pendingPartner(app: TestApp) {
  const partner = await createPartnerWithProfile(app, { mpnVerified: false });
  const submitted = await submitEnrollment(app, partner);
  if (submitted.body.status !== 'pending-approval') throw new Error(submitted.text);
  return partner;
}

async function pendingInvitation(
  app: TestApp,
  provider: Awaited<ReturnType<typeof createProvider>> | null = null,
) {
  provider ??= await createProvider(app);
  const reseller = await activeReseller(app);
  const invited = await inviteReseller(app, provider, reseller);
  if (invited.status !== 201) throw new Error(invited.text);
  return {
    provider,
    reseller,
    token: tokenOf(invited.body.link as string),
    invitationId: invited.body.invitationId as string,
  };
}

/** The incentives invitation's link token, as emailed to an approved partner. */
async function incentiveInvitationToken(app: TestApp, partnerId: string): Promise<string> {
  await app.runTimer('sendIncentiveInvitations');
  await app.runTimer('deliverEmails');
  const link = (await app.mailbox())
    .flatMap((email) => email.links)
    .filter((candidate) => candidate.includes('/links/incentive-invitations#'))
    .at(-1);
  if (!link) throw new Error(`no incentives invitation for ${partnerId}`);
  return tokenOf(link);
}

/**
 * The budgets. Add a row for each new route (see the README, Performance): its function name,
 * what it does, how to arrange it, and its exact round trips.
 */
const budgets: Budget[] = [
  {
    route: 'getMe',
    does: 'reads the partner: one point read',
    async arrange(app) {
      const { partnerId } = await createPartner(app);
      return {
        method: 'GET',
        path: '/api/me',
        token: await globalAdminToken(app, partnerId),
        status: 200,
      };
    },
    expected: { pointReads: 1 },
  },
  {
    route: 'getTransition',
    does: "the partner's transition: its record and its counts, two point reads, however many customers it has",
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      // More customers than one batch holds: the read does not grow with them.
      await seedCustomers(app, partner.partnerId, 60);
      await seedCustomers(app, partner.partnerId, 60);
      return { method: 'GET', path: '/api/me/transition', token: partner.adminToken, status: 200 };
    },
    expected: { pointReads: 2 },
    perPartition: { reads: 2, batches: 0 },
  },
  {
    route: 'getResellerPipeline',
    does: "a provider's pipeline: its record, its open invitations and a page of its partnerships, in its own partition",
    async arrange(app) {
      const { provider } = await partnership(app);
      await pendingInvitation(app, provider);
      return {
        method: 'GET',
        path: '/api/me/reseller-pipeline?pageSize=10',
        token: provider.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 1, singlePartitionQueries: 2 },
  },
  {
    route: 'getResellerPipeline',
    does: 'the next page: the open invitations are not read again',
    async arrange(app) {
      const provider = await createProvider(app);
      await pendingInvitation(app, provider);
      await pendingInvitation(app, provider);
      const reseller = await activeReseller(app);
      const invited = await inviteReseller(app, provider, reseller);
      await app.api('POST', '/api/partner-invitations/accept', {
        token: reseller.adminToken,
        body: { token: tokenOf(invited.body.link as string) },
      });
      const other = await activeReseller(app);
      const again = await inviteReseller(app, provider, other);
      await app.api('POST', '/api/partner-invitations/accept', {
        token: other.adminToken,
        body: { token: tokenOf(again.body.link as string) },
      });
      const first = await app.api('GET', '/api/me/reseller-pipeline?pageSize=1', {
        token: provider.adminToken,
      });
      const next = encodeURIComponent(first.body.continuationToken as string);
      return {
        method: 'GET',
        path: `/api/me/reseller-pipeline?pageSize=1&continuationToken=${next}`,
        token: provider.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 1, singlePartitionQueries: 1 },
  },
  {
    route: 'getTransitionReport',
    does: "the operators' report over a year: the days and the stuck list, two queries of the report's own partition",
    async arrange(app) {
      await pendingPartner(app);
      await app.runTimer('deliverEvents');
      return {
        method: 'GET',
        path: '/api/operator/reports/transitions?from=2026-01-01&to=2026-12-31',
        token: await app.operatorToken(),
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 2 },
    perPartition: { reads: 0, batches: 0 },
  },
  {
    route: 'putProfile',
    does: 'confirms the profile: one read, one batch',
    async arrange(app) {
      const { partnerId, record } = await createPartner(app);
      return {
        method: 'PUT',
        path: '/api/me/profile',
        token: await globalAdminToken(app, partnerId),
        body: profile(record),
        status: 200,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'submitEnrollment',
    does: 'enrolls and is approved at once: one read, one batch',
    async arrange(app) {
      const partner = await createPartnerWithProfile(app, { mpnVerified: true });
      return {
        method: 'POST',
        path: '/api/me/enrollment',
        token: partner.adminToken,
        body: enrollmentForm(partner.record),
        status: 201,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'submitEnrollment',
    does: 'enrolls for review: one read, one batch',
    async arrange(app) {
      const partner = await createPartnerWithProfile(app, { mpnVerified: false });
      return {
        method: 'POST',
        path: '/api/me/enrollment',
        token: partner.adminToken,
        body: enrollmentForm(partner.record),
        status: 201,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'decideEnrollment',
    does: 'an operator approves: one read, one batch',
    async arrange(app) {
      const { partnerId } = await pendingPartner(app);
      return {
        method: 'POST',
        path: `/api/operator/enrollments/${partnerId}/decision`,
        token: await app.operatorToken(),
        body: { decision: 'approve' },
        status: 200,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'acceptAgreement',
    does: 'accepts the agreement: one read, one batch',
    async arrange(app) {
      const partner = await approvedPartner(app);
      const { templateId, version } = await agreementOf(app, partner.adminToken);
      return {
        method: 'POST',
        path: '/api/me/agreement/acceptance',
        token: partner.adminToken,
        body: { templateId, version },
        status: 201,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'getActivity',
    does: "a page of the partner's events: one single-partition query",
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      return {
        method: 'GET',
        path: '/api/me/activity?pageSize=10',
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'listIndirectProviders',
    does: 'the directory: the partner read (enrolled?), one single-partition query',
    async arrange(app) {
      await createProvider(app);
      const partner = await approvedPartner(app);
      return {
        method: 'GET',
        path: '/api/indirect-providers?region=US',
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 1, singlePartitionQueries: 1 },
  },
  {
    route: 'createResellerInvitation',
    does: 'a provider invites: its record, the MPN directory entry, its partnerships, one batch',
    async arrange(app) {
      const provider = await createProvider(app);
      const reseller = await activeReseller(app);
      return {
        method: 'POST',
        path: '/api/me/reseller-invitations',
        token: provider.adminToken,
        body: { mpnId: reseller.record.mpnId, email: 'admin@reseller.example' },
        status: 201,
      };
    },
    // The third point read is the hourly counter of invitation emails, written in the batch.
    expected: { pointReads: 3, singlePartitionQueries: 1, batches: 1 },
  },
  {
    route: 'createResellerInvitation',
    does: 'with an Idempotency-Key: the same, plus the key read, its claim and its stored answer',
    async arrange(app) {
      const provider = await createProvider(app);
      const reseller = await activeReseller(app);
      return {
        method: 'POST',
        path: '/api/me/reseller-invitations',
        token: provider.adminToken,
        body: { mpnId: reseller.record.mpnId, email: 'admin@reseller.example' },
        headers: { 'Idempotency-Key': crypto.randomUUID() },
        status: 201,
      };
    },
    expected: { pointReads: 4, singlePartitionQueries: 1, batches: 1, writes: 2 },
  },
  {
    route: 'acceptPartnerInvitation',
    does: 'accepts a partnership: two partitions, at most one read and one batch in each',
    async arrange(app) {
      const { reseller, token } = await pendingInvitation(app);
      return {
        method: 'POST',
        path: '/api/partner-invitations/accept',
        body: { token },
        token: reseller.adminToken,
        status: 200,
      };
    },
    // The provider's partition: the invitation read, then the batch that uses up the link with
    // the provider's side. The reseller's: its record read (in parallel), then its counts (the
    // first partnership's moment, docs/rules.md section 14) and its side's batch.
    expected: { pointReads: 3, batches: 2 },
    perPartition: { reads: 2, batches: 1 },
  },
  {
    route: 'listCustomers',
    does: "a page of the partner's customers: one single-partition query",
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      await seedCustomers(app, partner.partnerId, 3);
      return {
        method: 'GET',
        path: '/api/me/customers?pageSize=2',
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'listCustomers',
    does: 'the next page, from its continuation token: again one single-partition query',
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      await seedCustomers(app, partner.partnerId, 3);
      const first = await app.api('GET', '/api/me/customers?pageSize=2', {
        token: partner.adminToken,
      });
      const next = encodeURIComponent(first.body.continuationToken as string);
      return {
        method: 'GET',
        path: `/api/me/customers?pageSize=2&continuationToken=${next}`,
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'getCustomer',
    does: "one customer: the partner's relationship, one point read",
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      const [customerId] = await seedCustomers(app, partner.partnerId, 1);
      return {
        method: 'GET',
        path: `/api/me/customers/${customerId}`,
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 1 },
  },
  {
    route: 'createCustomerInvitation',
    does: 'a reseller drafts a customer invitation: its record and both sides of its partnership read, one batch',
    async arrange(app) {
      const { provider, reseller } = await partnership(app);
      return {
        method: 'POST',
        path: '/api/me/customer-invitations',
        token: reseller.adminToken,
        body: { providerId: provider.partnerId },
        status: 201,
      };
    },
    expected: { pointReads: 3, batches: 1 },
  },
  {
    route: 'placeOrder',
    does: 'an order: the relationship read, one batch in the customer partition',
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      const created = await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: {
          companyName: 'Budget Co',
          domain: `budget-${newTenantId().slice(0, 8)}.onmicrosoft.com`,
          country: 'US',
          adminEmail: 'admin@budget.example',
        },
      });
      return {
        method: 'POST',
        path: `/api/me/customers/${created.body.customerId as string}/orders`,
        token: partner.adminToken,
        body: { lineItems: [{ offerId: 'o', productType: 'license', quantity: 2 }] },
        status: 201,
      };
    },
    expected: { pointReads: 1, batches: 1 },
    perPartition: { reads: 1, batches: 1 },
  },
  {
    route: 'revokeResellerInvitation',
    does: 'a provider revokes: the invitation found by its id, one batch',
    async arrange(app) {
      const { provider, invitationId } = await pendingInvitation(app);
      return {
        method: 'DELETE',
        path: `/api/me/reseller-invitations/${invitationId}`,
        token: provider.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1, batches: 1 },
  },
  {
    route: 'lookupPartnerInvitation',
    does: 'what a link shows: one point read (the token names its partition)',
    async arrange(app) {
      const { token } = await pendingInvitation(app);
      return {
        method: 'POST',
        path: '/api/partner-invitations/lookup',
        body: { token },
        status: 200,
      };
    },
    expected: { pointReads: 1 },
  },
  {
    route: 'enrollInIncentiveProgram',
    does: 'enrolls in the direct bill incentives: one read, one batch',
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      return {
        method: 'POST',
        path: '/api/me/incentives/direct-bill/enrollment',
        token: partner.adminToken,
        status: 201,
      };
    },
    expected: { pointReads: 1, batches: 1 },
  },
  {
    route: 'enrollInIncentiveProgram',
    does: 'enrolls in the indirect reseller incentives, using up the invitation found by its id',
    async arrange(app) {
      const partner = await approvedPartner(app);
      await incentiveInvitationToken(app, partner.partnerId);
      return {
        method: 'POST',
        path: '/api/me/incentives/indirect-reseller/enrollment',
        token: partner.adminToken,
        status: 201,
      };
    },
    expected: { pointReads: 1, singlePartitionQueries: 1, batches: 1 },
  },
  {
    route: 'putPartner',
    does: 'an operator creates a master record: partner read, MPN ID claim, batch, listing',
    async arrange(app) {
      return {
        method: 'PUT',
        path: `/api/operator/partners/${newTenantId()}`,
        token: await app.operatorToken(),
        body: masterRecord(),
        status: 201,
      };
    },
    // The MPN ID entry is created in its own partition before the partner's batch (create-only:
    // 409 when another partner holds it); the provider listing (deleted: not a provider) after.
    expected: { pointReads: 1, batches: 1, writes: 2 },
  },
  {
    route: 'putPartner',
    does: 'an operator updates a master record, same MPN ID: partner read, batch, listing',
    async arrange(app) {
      const { partnerId, record } = await createPartner(app);
      return {
        method: 'PUT',
        path: `/api/operator/partners/${partnerId}`,
        token: await app.operatorToken(),
        body: { ...record, companyName: 'Contoso Renamed' },
        status: 200,
      };
    },
    // The record already holds the MPN ID, so its entry is this partner's: nothing to claim.
    expected: { pointReads: 1, batches: 1, writes: 1 },
  },
  {
    route: 'listEnrollmentQueue',
    does: "the operators' review queue: one cross-partition query (allowed)",
    async arrange(app) {
      await pendingPartner(app);
      return {
        method: 'GET',
        path: '/api/operator/enrollments?status=pending-approval',
        token: await app.operatorToken(),
        status: 200,
      };
    },
    expected: { crossPartitionQueries: 1 },
  },
  {
    route: 'getOperatorStatus',
    does: "the operators' status page: one single-partition query of the operations partition",
    async arrange(app) {
      await app.runTimer('expireTransfers');
      return {
        method: 'GET',
        path: '/api/operator/status',
        token: await app.operatorToken(),
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'retryEmail',
    does: 'an operator retries a failed email: its read and replace, the backlog read and replace',
    isolated: true,
    async arrange(app) {
      const { partnerId } = await approvedPartner(app);
      const [queued] = await app.documents<OutboxEmail>(partnerId, 'email');
      const found = await app.services.partners.getDocument<OutboxEmail>(partnerId, queued!.id);
      const failed = settledEmail(found!.value, 'failed', app.clock.now(), 'refused');
      await app.services.outbox.replaceIfUnchanged(failed, found!.etag);
      await app.runTimer('deliverEmails'); // records the backlog: one failed
      return {
        method: 'POST',
        path: `/api/operator/emails/${partnerId}.${queued!.id}/retry`,
        token: await app.operatorToken(),
        status: 200,
      };
    },
    expected: { pointReads: 2, writes: 2 },
  },
  {
    route: 'escalatePendingEnrollments',
    does: 'timer: one query for all, one batch per escalation (the query read the partner), one query counting those past the window, its heartbeat',
    isolated: true,
    async arrange(app) {
      await pendingPartner(app);
      app.clock.advance({ days: 7 });
      return { timer: 'escalatePendingEnrollments' };
    },
    // Every timer run ends with its heartbeat: a point read of the last one, one upsert.
    expected: { crossPartitionQueries: 2, batches: 1, pointReads: 1, writes: 1 },
  },
  {
    route: 'sendIncentiveInvitations',
    does: 'timer: one query for those due, one for those held, then one batch per partner invited, its heartbeat',
    isolated: true,
    async arrange(app) {
      await approvedPartner(app);
      return { timer: 'sendIncentiveInvitations' };
    },
    expected: { crossPartitionQueries: 2, batches: 1, pointReads: 1, writes: 1 },
  },
  {
    route: 'deliverEmails',
    does: "timer: a query per lane of due emails (without their bodies), the send budget read once and counted in one batch, then per partner its emails claimed in one write (a patch with each one's etag) and their outcomes in another, the backlog counted and recorded, its heartbeat",
    isolated: true,
    async arrange(app) {
      const partner = await pendingPartner(app);
      await app.api('POST', `/api/operator/enrollments/${partner.partnerId}/decision`, {
        token: await app.operatorToken(),
        body: { decision: 'approve' },
      });
      return { timer: 'deliverEmails' };
    },
    // One approval email: the platform lane's query finds none, the transactional lane's finds
    // it (fewer than a page: the lane is done), the bulk lane's finds none; the budget's two
    // counters read, then both counted; the email claimed (a patch, which answers it whole, its
    // bodies included) and its outcome written (a replace). The backlog, counted: the waiting emails' COUNT and MIN,
    // the failed ones' COUNT and the most recent few (a projection), one upsert; then the
    // heartbeat: a point read, an upsert.
    expected: { crossPartitionQueries: 7, pointReads: 3, batches: 1, writes: 4 },
  },
  {
    route: 'createWebhook',
    does: "registers an endpoint: the partner read, the feed's last number read, its endpoints counted, one batch with the audit event",
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      return {
        method: 'POST',
        path: '/api/me/webhooks',
        token: partner.adminToken,
        body: { url: 'https://hooks.contoso.example/events', events: ['*'] },
        status: 201,
      };
    },
    expected: { pointReads: 2, singlePartitionQueries: 1, batches: 1 },
  },
  {
    route: 'eventFeed',
    does: "the pull feed: one query of the partner's published events after the cursor",
    async arrange(app) {
      const partner = await approvedPartner(app);
      await app.runTimer('deliverEvents');
      return {
        method: 'GET',
        path: '/api/me/events?after=0',
        token: partner.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'deliverEvents',
    does: 'timer: relayed events, partitions to publish, then per partition its events numbered (the partner read first for the transition report), written to the feed, its endpoints told and the events removed; the deliveries to retry and the endpoints behind, per endpoint its read and its next events taken from the feed and sent; the backlog counted; its heartbeat',
    isolated: true,
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      const hook = await startWebhookReceiver();
      afterAll(() => hook.close());
      await app.api('POST', '/api/me/webhooks', {
        token: partner.adminToken,
        body: { url: hook.url, events: ['*'] },
      });
      await app.api('POST', '/api/me/customers', {
        token: partner.adminToken,
        body: newCustomer(),
      });
      return { timer: 'deliverEvents' };
    },
    // Publication: the relayed events' query (none), the partitions' query; in the partner's
    // partition the sequence's point read, its events' query, the partner's record for the
    // transition report (one that has not enrolled has no entry: nothing more), the reservation
    // (a create: the partition's first), the sequence read again, the event's feed write, its
    // endpoints' query, the endpoint's cursor read and written (due), and the batch removing the
    // event. Delivery: the retries' query (none), the endpoints behind (one), the endpoint's and
    // its cursor's reads, its feed read, the batch of the cursor and the claimed delivery, its
    // outcome, the feed read once more (caught up). The backlog: the failing endpoints' query,
    // then six counting queries (a failing endpoint's deliveries apart, the operators' own
    // failures only; the endpoints behind, none here, and the oldest of them) and an upsert; the
    // heartbeat: a point read, an upsert.
    expected: {
      crossPartitionQueries: 11,
      singlePartitionQueries: 4,
      pointReads: 7,
      batches: 2,
      writes: 6,
    },
  },
  {
    route: 'deliverEvents',
    does: "timer, two endpoints of a partner left behind (a share of one event a run, two published): as above, and the backlog reads their partner's feed head, once",
    isolated: true,
    env: { EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN: '1' },
    async arrange(app) {
      const partner = await createPartnerWithProfile(app);
      const hook = await startWebhookReceiver();
      afterAll(() => hook.close());
      for (let n = 0; n < 2; n += 1) {
        await app.api('POST', '/api/me/webhooks', {
          token: partner.adminToken,
          body: { url: hook.url, events: ['*'] },
        });
      }
      for (let n = 0; n < 2; n += 1) {
        await app.api('POST', '/api/me/customers', {
          token: partner.adminToken,
          body: newCustomer(),
        });
      }
      return { timer: 'deliverEvents' };
    },
    // As the row above, with a second endpoint (its cursor read and written at publication; its
    // read, its cursor's, its feed read, its batch and its outcome at delivery), but: the feed
    // write of two events is a batch (not a create), an endpoint still behind after its take is
    // not read the feed once more, and the backlog, finding both among the endpoints behind,
    // reads their partner's event sequence (the feed head it counts up to) once: one point read
    // per partner behind, not per endpoint.
    expected: {
      crossPartitionQueries: 11,
      singlePartitionQueries: 4,
      pointReads: 11,
      batches: 4,
      writes: 7,
    },
  },
  {
    route: 'extendRelationship',
    does: "extends a customer: relationship, partner, both sides of the partnership, counts and the provider's relationship with the customer read, then one batch per side",
    async arrange(app) {
      const world = await resellerWithDirectCustomer(app);
      return {
        method: 'POST',
        path: `/api/me/customers/${world.customerId}/relationship-extension`,
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId, customerConsentAttested: true },
        status: 201,
      };
    },
    expected: { pointReads: 6, batches: 2 },
  },
  {
    route: 'transferEligibility',
    does: "eligibility: the relationship, both sides of the partnership and guard reads, the customer's subscriptions",
    async arrange(app) {
      const world = await extendedCustomer(app);
      return {
        method: 'GET',
        path: `/api/me/customers/${world.customerId}/transfers/eligibility?providerId=${world.provider.partnerId}`,
        token: world.reseller.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 4, singlePartitionQueries: 1 },
  },
  {
    route: 'createTransfer',
    does: "a request: eight reads in parallel (both sides of the partnership), the reseller's email count, the guarded batch, the provider's copy, the settlement",
    async arrange(app) {
      const world = await extendedCustomer(app);
      return {
        method: 'POST',
        path: `/api/me/customers/${world.customerId}/transfers`,
        token: world.reseller.adminToken,
        body: {
          providerId: world.provider.partnerId,
          lineItems: [{ subscriptionId: world.subscriptions.e3 }],
        },
        status: 201,
      };
    },
    // The settlement of a pending request is one replace (the marker removed): a single write.
    expected: { pointReads: 10, singlePartitionQueries: 1, batches: 2, writes: 1 },
  },
  {
    route: 'listTransfers',
    does: "a page of the partner's transfers: one single-partition query",
    async arrange(app) {
      const world = await pendingTransfer(app);
      return {
        method: 'GET',
        path: '/api/me/transfers?direction=incoming&status=pending',
        token: world.provider.adminToken,
        status: 200,
      };
    },
    expected: { singlePartitionQueries: 1 },
  },
  {
    route: 'getTransfer',
    does: "one transfer: the caller's own copy, one point read",
    async arrange(app) {
      const world = await pendingTransfer(app);
      return {
        method: 'GET',
        path: `/api/me/transfers/${world.transferId}`,
        token: world.provider.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 1 },
  },
  {
    route: 'acceptTransfer',
    does: "completes: both sides of the partnership read, the provider's email count, decision, provider copy, customer batch, settlement (four batches)",
    async arrange(app) {
      const world = await pendingTransfer(app);
      return {
        method: 'POST',
        path: `/api/me/transfers/${world.transferId}/accept`,
        token: world.provider.adminToken,
        status: 200,
      };
    },
    // The settlement reads the reseller's counts too: its first transfer completed counts once.
    expected: { pointReads: 15, singlePartitionQueries: 1, batches: 4, writes: 1 },
  },
  {
    route: 'rejectTransfer',
    does: "rejects: the provider's email count, decision, provider copy, settlement freeing the guard",
    async arrange(app) {
      const world = await pendingTransfer(app);
      return {
        method: 'POST',
        path: `/api/me/transfers/${world.transferId}/reject`,
        token: world.provider.adminToken,
        body: { reason: 'not now' },
        status: 200,
      };
    },
    expected: { pointReads: 8, batches: 3, writes: 1 },
  },
  {
    route: 'withdrawTransfer',
    does: "withdraws: the reseller's email count, decision (the count in its batch), provider copy, settlement freeing the guard",
    async arrange(app) {
      const world = await pendingTransfer(app);
      return {
        method: 'POST',
        path: `/api/me/transfers/${world.transferId}/withdraw`,
        token: world.reseller.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 8, batches: 3 },
  },
  {
    route: 'endPartnership',
    does: "ends a partnership with no pending transfer: the provider's email count, both sides, one query for transfers, one for the provider's open invitations",
    async arrange(app) {
      const { provider, reseller } = await partnership(app);
      return {
        method: 'DELETE',
        path: `/api/me/indirect-resellers/${reseller.partnerId}`,
        token: provider.adminToken,
        status: 200,
      };
    },
    expected: { pointReads: 5, singlePartitionQueries: 2, batches: 2 },
  },
  {
    route: 'transfersLanding',
    does: 'the landing page of transfer emails: no Cosmos request',
    async arrange() {
      return { method: 'GET', path: '/api/links/transfers', status: 200 };
    },
    expected: {},
  },
  {
    route: 'partnershipsLanding',
    does: 'the landing page of partnership emails: no Cosmos request',
    async arrange() {
      return { method: 'GET', path: '/api/links/partnerships', status: 200 };
    },
    expected: {},
  },
  {
    route: 'expireTransfers',
    does: 'timer: one query for expired requests, one for unfinished steps, then each expiry',
    isolated: true,
    async arrange(app) {
      await pendingTransfer(app);
      app.clock.advance({ days: 30 });
      return { timer: 'expireTransfers' };
    },
    expected: { crossPartitionQueries: 2, pointReads: 7, batches: 3, writes: 1 },
  },
];

const noTrips: RoundTrips = {
  pointReads: 0,
  singlePartitionQueries: 0,
  crossPartitionQueries: 0,
  batches: 0,
  writes: 0,
};

async function measure(app: TestApp, act: Act): Promise<CosmosRequest[]> {
  return app.cosmosRequests!.during(async () => {
    if ('timer' in act) return app.runTimer(act.timer);
    const response = await app.api(act.method, act.path, {
      ...(act.token ? { token: act.token } : {}),
      ...(act.body === undefined ? {} : { body: act.body }),
      ...(act.headers ? { headers: act.headers } : {}),
    });
    expect(response.status, response.text).toBe(act.status);
  });
}

function describeRequests(requests: CosmosRequest[]): string {
  return requests
    .map((request) => `${request.kind} ${request.method} ${request.path} [${request.partitionKey}]`)
    .join('\n');
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ countCosmosRequests: true });
});
afterAll(() => app.close());

describe('round-trip budgets', () => {
  it('names only functions of the table', () => {
    const names = new Set(functionTable.map((definition) => definition.name));
    expect(budgets.map((budget) => budget.route).filter((route) => !names.has(route))).toEqual([]);
  });

  for (const budget of budgets) {
    it(`${budget.route} ${budget.does}`, async () => {
      const target = budget.isolated
        ? await startTestApp({
            countCosmosRequests: true,
            clock: new ManualClock(),
            ...(budget.env ? { env: budget.env } : {}),
          })
        : app;
      try {
        const act = await budget.arrange(target);
        const requests = await measure(target, act);
        const { queryPlans, metadata: _metadata, ...counted } = roundTrips(requests);
        expect(counted, describeRequests(requests)).toEqual({ ...noTrips, ...budget.expected });
        expect(queryPlans).toBeLessThanOrEqual(
          counted.singlePartitionQueries + counted.crossPartitionQueries,
        );
        if (budget.perPartition) {
          for (const [partition, counts] of roundTripsByPartition(requests)) {
            expect(counts.reads, partition).toBeLessThanOrEqual(budget.perPartition.reads);
            expect(counts.batches, partition).toBeLessThanOrEqual(budget.perPartition.batches);
          }
        }
      } finally {
        if (budget.isolated) await target.close();
      }
    });
  }
});

/** Routes that may query across partitions: the operators' review queue. Timers may too. */
const crossPartitionAllowed = new Set(['listEnrollmentQueue']);

/**
 * Routes no caller of the test below can bring to a 2xx, each with the reason. Any other route
 * must succeed for at least one caller, so that its request reached the query it makes (a 404
 * at the first point read never does).
 */
const cannotSucceed = new Map<string, string>([
  ['deleteEnrollment', 'an enrollment is irreversible: always 409, or 404 before one (api.md)'],
  // No email of the test below failed for good (409); its budget row retries a failed one.
  ['retryEmail', 'reached by its budget row above, with a failed email'],
  // The transfer routes need a reseller's own direct-bill customer, extended, with a transfer in
  // the right state; their budget rows above arrange exactly that and assert every round trip
  // (no cross-partition query among them), so each is reached there with real ids.
  ...[
    'extendRelationship',
    'transferEligibility',
    'createTransfer',
    'getTransfer',
    'acceptTransfer',
    'rejectTransfer',
    'withdrawTransfer',
    'endPartnership',
  ].map((name): [string, string] => [name, 'reached by its budget row above, with real ids']),
]);

describe('no route queries across partitions', () => {
  it('holds for every HTTP route of the table, as provider, reseller, customer and operator, each route reaching its queries', async () => {
    const { provider, reseller } = await partnership(app);
    const pending = await pendingPartner(app);
    const invitation = await pendingInvitation(app, provider);
    const revocable = await pendingInvitation(app, provider);
    const incentiveToken = await incentiveInvitationToken(app, reseller.partnerId);
    const otherProvider = await createProvider(app, { companyName: 'Fabrikam Supply' });
    const acceptable = await inviteReseller(app, otherProvider, reseller);
    // A partner with its profile, about to enrol: it submits, then withdraws.
    const newcomer = await createPartnerWithProfile(app, { mpnVerified: false });
    // Real resources for the customer routes: a customer of both partners, a subscription
    // ordered by the provider, users created by the reseller, customer invitations.
    const customer = await app.api('POST', '/api/me/customers', {
      token: provider.adminToken,
      body: newCustomer({ indirectResellerId: reseller.partnerId }),
    });
    expect(customer.status).toBe(201);
    const customerId = customer.body.customerId as string;
    const order = await app.api('POST', `/api/me/customers/${customerId}/orders`, {
      token: provider.adminToken,
      body: {
        lineItems: [{ offerId: 'm365-business-premium', productType: 'license', quantity: 5 }],
      },
    });
    expect(order.status).toBe(201);
    const subscriptionId = order.body.lineItems[0].subscriptionId as string;
    const newUser = async (name: string): Promise<string> => {
      const created = await app.api('POST', `/api/me/customers/${customerId}/users`, {
        token: reseller.adminToken,
        body: { displayName: name, userPrincipalName: `${name}@wingtip.example` },
      });
      expect(created.status).toBe(201);
      return created.body.userId as string;
    };
    const [deletableUser, licensedUser] = [await newUser('dana'), await newUser('lee')];
    const customerInvitation = async () => {
      const response = await app.api('POST', '/api/me/customer-invitations', {
        token: reseller.adminToken,
        body: { providerId: provider.partnerId },
      });
      expect(response.status).toBe(201);
      return response.body as { invitationId: string; link: string };
    };
    const [toSend, toMarkDone, toView, toAccept, toRevoke] = [
      await customerInvitation(),
      await customerInvitation(),
      await customerInvitation(),
      await customerInvitation(),
      await customerInvitation(),
    ];
    // An endpoint of the provider, and the operators' one, each with one delivery.
    const providerHook = await app.api('POST', '/api/me/webhooks', {
      token: provider.adminToken,
      body: { url: 'https://hooks.fabrikam.example/events', events: ['*'] },
    });
    const operatorHook = await app.api('POST', '/api/operator/webhooks', {
      token: await app.operatorToken(),
      body: { url: 'https://ops.example.com/events', events: ['*'] },
    });
    const providerTest = await app.api(
      'POST',
      `/api/me/webhooks/${providerHook.body.webhookId}/test`,
      { token: provider.adminToken },
    );
    const operatorTest = await app.api(
      'POST',
      `/api/operator/webhooks/${operatorHook.body.webhookId}/test`,
      { token: await app.operatorToken() },
    );
    const forOperator = (route: string) => route.startsWith('operator/');
    const samples: RequestSamples = {
      params: {
        webhookId: (route) =>
          forOperator(route) ? operatorHook.body.webhookId : providerHook.body.webhookId,
        eventId: (route) =>
          forOperator(route) ? operatorTest.body.eventId : providerTest.body.eventId,
        partnerId: pending.partnerId,
        invitationId: (route) =>
          route.endsWith('/send')
            ? toSend.invitationId
            : route.endsWith('/done')
              ? toMarkDone.invitationId
              : route.startsWith('me/customer-invitations/')
                ? toRevoke.invitationId
                : revocable.invitationId,
        program: 'direct-bill',
        emailId: `${pending.partnerId}.${pending.partnerId}`,
        file: 'swagger-ui.css',
        providerId: provider.partnerId,
        customerId,
        subscriptionId,
        userId: (route) => (route.includes('/licenses/') ? licensedUser : deletableUser),
      },
      bodies: {
        putPartner: masterRecord(),
        putProfile: profile(reseller.record),
        submitEnrollment: enrollmentForm(newcomer.record),
        decideEnrollment: { decision: 'approve' },
        acceptAgreement: await agreementOf(app, reseller.adminToken),
        createResellerInvitation: { mpnId: pending.record.mpnId, email: 'admin@example.com' },
        // Any other body comes from its schema; a customer invitation names a real provider.
        createCustomerInvitation: { providerId: provider.partnerId },
        // Link secrets travel in bodies (docs/api.md): real tokens, so lookups and accepts read.
        lookupPartnerInvitation: { token: invitation.token },
        acceptPartnerInvitation: { token: tokenOf(acceptable.body.link as string) },
        lookupIncentiveInvitation: { token: incentiveToken },
        lookupCustomerInvitation: { token: tokenOf(toView.link) },
        createCustomer: newCustomer({ indirectResellerId: reseller.partnerId }),
        sendCustomerInvitation: {
          to: 'it@wingtiptoys.example',
          subject: 'Invitation',
          body: `Here it is: ${toSend.link}`,
        },
        acceptCustomerInvitation: {
          token: tokenOf(toAccept.link),
          companyName: 'Tailspin Toys',
          domain: uniqueDomain('tailspin'),
          country: 'US',
        },
        placeOrder: {
          lineItems: [{ offerId: 'm365-business-premium', productType: 'license', quantity: 1 }],
        },
        patchSubscription: { quantity: 6 },
        createUser: { displayName: 'Ada', userPrincipalName: 'ada@wingtip.example' },
        createWebhook: { url: 'https://hooks.fabrikam.example/more', events: ['*'] },
        createOperatorWebhook: { url: 'https://ops.example.com/more', events: ['*'] },
        changeWebhook: { description: 'our automation' },
        changeOperatorWebhook: { description: 'the on-call tooling' },
      },
    };
    const callers: Record<string, (string | undefined)[]> = {
      anonymous: [undefined],
      'signed-in': [
        provider.adminToken,
        reseller.adminToken,
        await app.token({ tenant: reseller.partnerId, roles: ['AdminAgent'] }),
        newcomer.adminToken,
        await app.token({ tenant: newTenantId(), roles: ['GlobalAdmin'] }),
      ],
      operator: [await app.operatorToken()],
    };

    const violations: string[] = [];
    const failures: string[] = [];
    const crossing = new Set<string>();
    const unreached: string[] = [];
    for (const definition of httpFunctions()) {
      for (const request of plausibleRequests(definition, samples)) {
        const statuses: number[] = [];
        for (const token of callers[definition.access.kind]!) {
          let status = 0;
          const requests = await app.cosmosRequests!.during(async () => {
            ({ status } = await app.api(request.method, request.path, {
              ...(token ? { token } : {}),
              ...(request.body === undefined ? {} : { body: request.body }),
            }));
          });
          statuses.push(status);
          const label = `${definition.name} ${request.method} ${request.path} → ${status}`;
          if (status >= 500) failures.push(label);
          if (roundTrips(requests).crossPartitionQueries === 0) continue;
          crossing.add(definition.name);
          if (!crossPartitionAllowed.has(definition.name)) violations.push(label);
        }
        const reached = statuses.some((status) => status >= 200 && status < 300);
        if (reached === cannotSucceed.has(definition.name))
          unreached.push(`${definition.name} ${request.method} → ${statuses.join(', ')}`);
      }
    }
    expect(failures, 'plausible requests must not fail on our side').toEqual([]);
    expect(
      unreached,
      'each route succeeds for some caller (or is listed in cannotSucceed)',
    ).toEqual([]);
    expect(violations).toEqual([]);
    // The allow-list stays honest: what it allows does cross partitions.
    expect([...crossing].sort()).toEqual([...crossPartitionAllowed].sort());
  });
});
