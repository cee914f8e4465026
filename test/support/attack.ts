import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { devRoleClaims, signDevToken } from '../../shared/adapters/identity/dev-keys';
import {
  relationshipFor,
  subscriptionDocumentId,
  userDocumentId,
  type Customer,
  type CustomerUser,
  type Subscription,
} from '../../shared/domain/customers';
import { operatorEventsPartition } from '../../shared/domain/events';
import { personalAccountsTenantId } from '../../shared/domain/principal';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import type { TestApp } from './app';
import { createPartnerWithProfile, masterRecord, profile, uniqueMpnId } from './builders';
import { enrollmentForm, submitEnrollment } from './enrollment';
import { inviteReseller, tokenOf } from './providers';
import { activeReseller } from './enrollment';
import { extend, requestTransfer, resellerWithDirectCustomer } from './transfers';
import { jsonSchemaOf, validSample, type JsonSchema } from './arbitraries';

/**
 * The identities an attacker or a confused portal can present (issue 9), against tenant A:
 * no token, bad tokens, a partner of another tenant, A's own users by role, an operator, and
 * the admin of a customer tenant (one of A's customers).
 */
export const identities = [
  'no token',
  'expired token',
  'token for another audience',
  'partner of another tenant',
  'SalesAgent',
  'AdminAgent',
  'GlobalAdmin',
  'self-assigned GlobalAdmin app role',
  'app-only token',
  'ID token',
  'personal account',
  'token without scope or role',
  'Operator',
  'EnrollmentReviewer',
  'customer-tenant admin',
] as const;
export type Identity = (typeof identities)[number];

/** Path parameters naming one of tenant A's resources: another tenant must never reach them. */
export const tenantResourceParams = new Set([
  'partnerId',
  'invitationId',
  'customerId',
  'subscriptionId',
  'userId',
  'orderId',
  'transferId',
  'resellerId',
  'emailId',
  'webhookId',
  'eventId',
]);

export interface AttackFixture {
  /** Tenant A: a direct-bill partner, enrolled, and an indirect provider with invitations. */
  partnerA: { partnerId: string; record: ReturnType<typeof masterRecord> };
  partnerB: { partnerId: string };
  customerId: string;
  tokens: Record<Identity, string | null>;
  /** A value for a path parameter of this name: A's resource, or fails loudly. */
  paramValue(definition: HttpFunctionDefinition, name: string): string;
  /** A valid body for the route: A's own data where a random one would change A, else generated. */
  body(definition: HttpFunctionDefinition): unknown;
  /** The query a route requires (`?providerId=...`), else empty. */
  query(definition: HttpFunctionDefinition): string;
}

/** Tenant A and everything its routes can name, built through the API where a route exists. */
export async function buildAttackFixture(app: TestApp): Promise<AttackFixture> {
  const provider = {
    directBill: true,
    indirectProvider: { regions: ['US', 'CA'], services: ['marketing'] },
  };
  const a = await createPartnerWithProfile(app, { mpnVerified: true, programs: provider });
  const enrolled = await submitEnrollment(app, a);
  if (enrolled.status !== 201) throw new Error(`fixture: enrollment ${enrolled.text}`);
  const invite = async (): Promise<{ invitationId: string; link: string }> => {
    const response = await app.api('POST', '/api/me/reseller-invitations', {
      token: a.adminToken,
      body: { mpnId: uniqueMpnId(), email: 'reseller@fixture.example' },
    });
    if (response.status !== 201) throw new Error(`fixture: invitation ${response.text}`);
    return response.body;
  };
  const [revocable, acceptable] = [await invite(), await invite()];
  const b = await createPartnerWithProfile(app, { companyName: 'Other Tenant Ltd' });

  // A as a provider: a reseller's transfer request it received, and another reseller to part with.
  const providerA = { partnerId: a.partnerId, record: a.record, adminToken: a.adminToken };
  const transferWorld = await resellerWithDirectCustomer(app, { provider: providerA });
  if ((await extend(app, transferWorld)).status !== 201) throw new Error('fixture: extension');
  const transfer = await requestTransfer(app, transferWorld, [transferWorld.subscriptions.e3]);
  if (transfer.status !== 201) throw new Error(`fixture: transfer ${transfer.text}`);
  const partingReseller = await activeReseller(app);
  const parting = await inviteReseller(app, providerA, partingReseller);
  const parted = await app.api('POST', '/api/partner-invitations/accept', {
    token: partingReseller.adminToken,
    body: { token: tokenOf(parting.body.link) },
  });
  if (parted.status !== 200) throw new Error(`fixture: partnership ${parted.text}`);

  // Customer routes arrive in another branch: A's customer, its subscription and its user are
  // written here as the customers domain stores them, so those routes get real ids of A.
  const customerId = randomUUID();
  const subscriptionId = randomUUID();
  const userId = randomUUID();
  const now = app.clock.now().toISOString();
  const customer: Customer = {
    type: 'customer',
    id: customerId,
    customerId,
    companyName: 'Customer Of A',
    domain: 'customer-of-a.example',
    country: 'US',
    adminEmail: 'admin@customer-of-a.example',
    createdAt: now,
    createdBy: a.partnerId,
  };
  const subscription: Subscription = {
    type: 'subscription',
    id: subscriptionDocumentId(subscriptionId),
    customerId,
    subscriptionId,
    orderId: randomUUID(),
    offerId: 'offer-1',
    productType: 'license',
    quantity: 5,
    assignedLicenses: 1,
    autoRenew: true,
    billedBy: a.partnerId,
    partners: [a.partnerId],
    createdAt: now,
    updatedAt: now,
  };
  const user: CustomerUser = {
    type: 'user',
    id: userDocumentId(userId),
    customerId,
    userId,
    displayName: 'Casey User',
    userPrincipalName: 'casey@customer-of-a.example',
    licenses: [subscriptionId],
    createdAt: now,
  };
  await app.services.customers.commit(customerId, [
    { op: 'create', document: customer },
    { op: 'create', document: subscription },
    { op: 'create', document: user },
  ]);
  await app.services.partners.commit(a.partnerId, [
    {
      op: 'create',
      document: relationshipFor(a.partnerId, customer, 'direct-bill', {
        acquiredAs: 'direct-bill',
        delegatedAdmin: true,
        at: now,
        reason: 'fixture',
      }),
    },
  ]);

  const sign = (tenant: string, roles: string[], options: { audience?: string; ago?: number }) =>
    signDevToken(
      app.devKey,
      {
        tenantId: tenant,
        ...devRoleClaims(roles),
        userId: randomUUID(),
        name: 'Attacker',
        email: 'x@y.example',
      },
      {
        audience: options.audience ?? app.config.auth.audience,
        issuerTemplate: app.config.auth.issuerTemplate,
        now: new Date(app.clock.now().getTime() - (options.ago ?? 0) * 1000),
        lifetimeSeconds: options.ago === undefined ? 2 * 365 * 24 * 3600 : 3600,
      },
    );
  const tokens: Record<Identity, string | null> = {
    'no token': null,
    'expired token': await sign(a.partnerId, ['GlobalAdmin'], { ago: 3 * 24 * 3600 }),
    'token for another audience': await sign(a.partnerId, ['GlobalAdmin'], {
      audience: 'api://someone-else',
    }),
    'partner of another tenant': await app.token({
      tenant: b.partnerId,
      roles: ['GlobalAdmin', 'AdminAgent', 'SalesAgent'],
    }),
    SalesAgent: await app.token({ tenant: a.partnerId, roles: ['SalesAgent'] }),
    AdminAgent: await app.token({ tenant: a.partnerId, roles: ['AdminAgent'] }),
    GlobalAdmin: a.adminToken,
    // A user or application administrator of A who assigned themselves the app role.
    'self-assigned GlobalAdmin app role': await app.token({
      tenant: a.partnerId,
      appRoles: ['GlobalAdmin'],
    }),
    // Automation of A granted the AdminAgent application permission.
    'app-only token': await app.token({ tenant: a.partnerId, app: true, roles: ['AdminAgent'] }),
    // The portal's ID token of A's global admin: no scope, a nonce.
    'ID token': await app.token({
      tenant: a.partnerId,
      roles: ['GlobalAdmin'],
      scopes: [],
      extra: { nonce: 'n-0S6_WzA2Mj' },
    }),
    'personal account': await app.token({
      tenant: personalAccountsTenantId,
      roles: ['GlobalAdmin'],
    }),
    'token without scope or role': await app.token({ tenant: a.partnerId, scopes: [] }),
    Operator: await app.operatorToken(),
    EnrollmentReviewer: await app.token({
      tenant: app.config.auth.operatorTenantId,
      roles: ['EnrollmentReviewer'],
      name: 'Rene Reviewer',
    }),
    'customer-tenant admin': await app.token({ tenant: customerId, roles: ['GlobalAdmin'] }),
  };

  // One of A's emails (none failed): the retry route's operator half answers 409.
  const [emailOfA] = await app.documents<{ id: string }>(a.partnerId, 'email');
  if (!emailOfA) throw new Error('the fixture expects an email of tenant A in the outbox');
  // A's webhook endpoint with one delivery (a test event), and the operators' endpoint and
  // delivery under the same ids, so that one {webhookId} and {eventId} serve both route sets.
  const hook = await app.api('POST', '/api/me/webhooks', {
    token: a.adminToken,
    body: { url: 'https://hooks.fixture.example/a', events: ['*'] },
  });
  if (hook.status !== 201) throw new Error(`fixture: webhook ${hook.text}`);
  const webhookId = hook.body.webhookId as string;
  const tested = await app.api('POST', `/api/me/webhooks/${webhookId}/test`, {
    token: a.adminToken,
  });
  if (tested.status !== 202) throw new Error(`fixture: webhook test ${tested.text}`);
  const eventId = tested.body.eventId as string;
  for (const type of ['webhook-slot', 'webhook', 'delivery']) {
    const [document] = await app.documents(a.partnerId, type);
    await app.services.partners.commit(operatorEventsPartition, [
      { op: 'create', document: { ...document, partnerId: operatorEventsPartition } },
    ]);
  }
  const params: Record<string, string> = {
    webhookId,
    eventId,
    partnerId: a.partnerId,
    emailId: `${a.partnerId}.${emailOfA.id}`,
    invitationId: revocable.invitationId,
    token: tokenOf(acceptable.link),
    customerId,
    subscriptionId,
    userId,
    transferId: transfer.body.transferId as string,
    resellerId: partingReseller.partnerId,
  };
  const agreement = app.config.enrollment.agreement;
  // Bodies for routes where any valid body would rewrite A, or could not succeed for A.
  const bodies: Record<string, () => unknown> = {
    'PUT operator/partners/{partnerId}': () => a.record,
    'PUT me/profile': () => profile(a.record),
    'POST me/enrollment': () => enrollmentForm(a.record),
    'POST me/agreement/acceptance': () => ({
      templateId: agreement.templateId,
      version: agreement.version,
    }),
    'POST operator/enrollments/{partnerId}/decision': () => ({ decision: 'approve' }),
    'POST me/reseller-invitations': () => ({ mpnId: uniqueMpnId(), email: 'r@fixture.example' }),
    // Link secrets travel in bodies: A's acceptable invitation, so a guard refusal is visible.
    'POST partner-invitations/accept': () => ({ token: tokenOf(acceptable.link) }),
    'POST partner-invitations/lookup': () => ({ token: tokenOf(acceptable.link) }),
    // A URL the test resolver gives a public address, so the endpoint can be registered.
    'POST me/webhooks': () => ({ url: 'https://hooks.fixture.example/b', events: ['*'] }),
    'POST operator/webhooks': () => ({ url: 'https://hooks.fixture.example/c', events: ['*'] }),
  };

  return {
    partnerA: { partnerId: a.partnerId, record: a.record },
    partnerB: { partnerId: b.partnerId },
    customerId,
    tokens,
    paramValue(definition, name) {
      if (params[name] !== undefined) return params[name]!;
      const schema = (definition.spec.params as z.ZodObject | undefined)?.shape[name] as
        z.ZodType | undefined;
      const json: JsonSchema | undefined = schema ? jsonSchemaOf(schema) : undefined;
      if (json?.enum?.length) return String(json.enum[0]);
      throw new Error(
        `${definition.route} has a path parameter {${name}} the attack fixture does not know: give tenant A such a resource in test/support/attack.ts`,
      );
    },
    query(definition) {
      const schema = definition.spec.query;
      if (!schema || schema.safeParse({}).success) return '';
      const sample = validSample(schema, `query ${definition.route}`) as Record<string, unknown>;
      const pairs = Object.entries(sample).map(([key, value]): [string, string] => [
        key,
        String(value),
      ]);
      return `?${new URLSearchParams(pairs).toString()}`;
    },
    body(definition) {
      const key = `${definition.methods[0]} ${definition.route}`;
      if (bodies[key]) return bodies[key]!();
      const schema = definition.spec.body;
      return schema ? validSample(schema, key) : undefined;
    },
  };
}

/** The route with each {param} replaced, URL-encoded. */
export function pathFor(
  definition: HttpFunctionDefinition,
  value: (name: string) => string,
): string {
  return `/api/${definition.route.replace(/\{([A-Za-z][A-Za-z0-9_]*)(?::[^}?]+)?\??\}/g, (_all, name: string) => encodeURIComponent(value(name)))}`;
}
