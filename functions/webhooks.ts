import { readFeed } from '../shared/app/events';
import { loadPartner } from '../shared/app/partners';
import {
  changeWebhook,
  createWebhook,
  deleteWebhook,
  deliveryView,
  listDeliveries,
  listWebhooks,
  readWebhook,
  redeliver,
  rotateWebhookSecret,
  testWebhook,
  webhookView,
  type WebhookOwner,
} from '../shared/app/webhooks';
import type { Services } from '../shared/app/services';
import { operatorEventsPartition } from '../shared/domain/events';
import type { Principal } from '../shared/domain/principal';
import type { ProblemCode } from '../shared/domain/errors';
import { defineHttp, type Access, type HttpFunctionDefinition } from '../shared/http/define';
import { accepted, created, noContent, ok } from '../shared/http/responses';
import { pageOf, pageQuery } from '../shared/http/schemas/common';
import {
  createdWebhookView,
  deliveryParams,
  deliveryView as deliveryViewSchema,
  feedQuery,
  feedView,
  newWebhookBody,
  queuedView,
  secretView,
  webhookChangeBody,
  webhookIdParams,
  webhookView as webhookViewSchema,
} from '../shared/http/schemas/webhooks';

/**
 * docs/api.md Events: webhook endpoints, the same routes for a partner's own events
 * (`me/webhooks`) and for operator events (`operator/webhooks`).
 */
type SignedInAccess = Exclude<Access, { kind: 'anonymous' }>;

interface Audience {
  prefix: 'me' | 'operator';
  names: string;
  /** What looking the owner up may answer: a partner without a record is 404. */
  ownerErrors: readonly ProblemCode[];
  /** Reading endpoints: their URLs often carry a credential (`sig=`, `code=`). */
  read: SignedInAccess;
  /** Reading deliveries: outcomes and timings, no URL. */
  readDeliveries: SignedInAccess;
  manage: SignedInAccess;
  owner(principal: Principal, services: Services, creating: boolean): Promise<WebhookOwner>;
}

const partnerAudience: Audience = {
  prefix: 'me',
  names: '',
  ownerErrors: ['not-found'],
  read: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  readDeliveries: { kind: 'signed-in' },
  manage: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  async owner(principal, services, creating) {
    // Only a partner registers endpoints: its partition holds its events.
    if (creating) await loadPartner(services, principal.tenantId);
    return { partitionId: principal.tenantId, principal, kind: 'user' };
  },
};

const operatorAudience: Audience = {
  prefix: 'operator',
  names: 'Operator',
  ownerErrors: [],
  read: { kind: 'operator', roles: ['Operator'] },
  readDeliveries: { kind: 'operator', roles: ['Operator'] },
  manage: { kind: 'operator', roles: ['Operator'] },
  owner: async (principal) => ({
    partitionId: operatorEventsPartition,
    principal,
    kind: 'operator',
  }),
};

function webhookRoutes(audience: Audience): HttpFunctionDefinition[] {
  const { prefix, names } = audience;
  const tags = ['events'] as const;
  return [
    defineHttp({
      name: `create${names}Webhook`,
      methods: ['POST'],
      route: `${prefix}/webhooks`,
      summary: 'Register a webhook endpoint; its signing secret is shown this once',
      tags,
      access: audience.manage,
      body: newWebhookBody,
      responses: {
        201: {
          description: 'The endpoint, with its secret',
          schema: createdWebhookView,
          headers: { Location: 'always' },
        },
      },
      errors: [...audience.ownerErrors, 'webhook-url-refused'],
      async handle({ principal, body, services }) {
        const owner = await audience.owner(principal, services, true);
        const { endpoint, secret } = await createWebhook(services, owner, body);
        const view = webhookView(endpoint);
        return created(
          { ...view, secret },
          { Location: `/api/${prefix}/webhooks/${view.webhookId}` },
        );
      },
    }),
    defineHttp({
      name: `list${names}Webhooks`,
      methods: ['GET'],
      route: `${prefix}/webhooks`,
      summary: 'Your webhook endpoints, newest first (never their secrets)',
      tags,
      access: audience.read,
      responses: {
        200: {
          description: 'Endpoints (at most ten: one page)',
          schema: pageOf(webhookViewSchema),
        },
      },
      errors: [],
      async handle({ principal, services }) {
        const owner = await audience.owner(principal, services, false);
        return ok({
          items: (await listWebhooks(services, owner.partitionId)).map(webhookView),
          continuationToken: null,
        });
      },
    }),
    defineHttp({
      name: `get${names}Webhook`,
      methods: ['GET'],
      route: `${prefix}/webhooks/{webhookId}`,
      summary: 'One webhook endpoint',
      tags,
      access: audience.read,
      params: webhookIdParams,
      responses: {
        200: { description: 'The endpoint', schema: webhookViewSchema },
      },
      errors: ['not-found'],
      async handle({ principal, params, services }) {
        const owner = await audience.owner(principal, services, false);
        return ok(
          webhookView((await readWebhook(services, owner.partitionId, params.webhookId)).value),
        );
      },
    }),
    defineHttp({
      name: `change${names}Webhook`,
      methods: ['PATCH'],
      route: `${prefix}/webhooks/{webhookId}`,
      summary: 'Change its URL, events or description, or disable and enable it',
      tags,
      access: audience.manage,
      params: webhookIdParams,
      body: webhookChangeBody,
      responses: {
        200: { description: 'The endpoint as changed', schema: webhookViewSchema },
      },
      errors: ['not-found', 'webhook-url-refused', 'conflict'],
      async handle({ principal, params, body, services }) {
        const owner = await audience.owner(principal, services, false);
        return ok(webhookView(await changeWebhook(services, owner, params.webhookId, body)));
      },
    }),
    defineHttp({
      name: `rotate${names}WebhookSecret`,
      methods: ['POST'],
      route: `${prefix}/webhooks/{webhookId}/secret`,
      summary: 'Rotate the signing secret; the old one still signs for 24 hours',
      tags,
      access: audience.manage,
      params: webhookIdParams,
      responses: {
        200: { description: 'The new secret, shown this once', schema: secretView },
      },
      errors: ['not-found'],
      async handle({ principal, params, services }) {
        const owner = await audience.owner(principal, services, false);
        return ok({ secret: await rotateWebhookSecret(services, owner, params.webhookId) });
      },
    }),
    defineHttp({
      name: `test${names}Webhook`,
      methods: ['POST'],
      route: `${prefix}/webhooks/{webhookId}/test`,
      summary: 'Queue a webhook.test event to this endpoint',
      tags,
      access: audience.manage,
      params: webhookIdParams,
      responses: {
        202: { description: 'Queued', schema: queuedView },
      },
      errors: ['not-found'],
      async handle({ principal, params, services }) {
        const owner = await audience.owner(principal, services, false);
        const { eventId } = await testWebhook(services, owner, params.webhookId);
        return accepted({ eventId, status: 'queued' });
      },
    }),
    defineHttp({
      name: `list${names}WebhookDeliveries`,
      methods: ['GET'],
      route: `${prefix}/webhooks/{webhookId}/deliveries`,
      summary:
        "Recent deliveries to this endpoint, newest first, each with its last attempt's outcome",
      tags,
      access: audience.readDeliveries,
      params: webhookIdParams,
      query: pageQuery,
      responses: {
        200: { description: 'Deliveries', schema: pageOf(deliveryViewSchema) },
      },
      errors: ['not-found'],
      async handle({ principal, params, query, services }) {
        const owner = await audience.owner(principal, services, false);
        const page = await listDeliveries(services, owner.partitionId, params.webhookId, query);
        return ok({
          items: page.items.map(deliveryView),
          continuationToken: page.continuationToken,
        });
      },
    }),
    defineHttp({
      name: `redeliver${names}WebhookEvent`,
      methods: ['POST'],
      route: `${prefix}/webhooks/{webhookId}/deliveries/{eventId}/redeliver`,
      summary:
        'Send that event to this endpoint again, at once (a settled one gets a new three-day retry window)',
      tags,
      access: audience.manage,
      params: deliveryParams,
      responses: {
        202: { description: 'Queued', schema: queuedView },
      },
      errors: ['not-found'],
      async handle({ principal, params, services }) {
        const owner = await audience.owner(principal, services, false);
        await redeliver(services, owner, params.webhookId, params.eventId);
        return accepted({ eventId: params.eventId, status: 'queued' });
      },
    }),
    // Last: the routes above act on the endpoint this one deletes (the authorization matrix).
    defineHttp({
      name: `delete${names}Webhook`,
      methods: ['DELETE'],
      route: `${prefix}/webhooks/{webhookId}`,
      summary: 'Delete a webhook endpoint; nothing more is sent to it',
      tags,
      access: audience.manage,
      params: webhookIdParams,
      responses: { 204: { description: 'Deleted' } },
      errors: ['not-found', 'conflict'],
      async handle({ principal, params, services }) {
        const owner = await audience.owner(principal, services, false);
        await deleteWebhook(services, owner, params.webhookId);
        return noContent();
      },
    }),
  ];
}

export const partnerWebhookFunctions = webhookRoutes(partnerAudience);
export const operatorWebhookFunctions = webhookRoutes(operatorAudience);

export const eventFeedFunction = defineHttp({
  name: 'eventFeed',
  methods: ['GET'],
  route: 'me/events',
  summary:
    'Your events oldest first after a cursor: the pull feed for automation that cannot receive webhooks',
  tags: ['events'],
  access: { kind: 'signed-in' },
  query: feedQuery,
  responses: {
    200: { description: 'Events after the cursor, and where to read on', schema: feedView },
  },
  errors: ['cursor-expired'],
  async handle({ principal, query, services }) {
    return ok(
      await readFeed(services, principal.tenantId, Number(query.after ?? 0), query.pageSize),
    );
  },
});
