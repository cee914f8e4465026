/**
 * A partner's whole journey, written as a portal team writes it: against the types
 * `openapi-typescript` generates from openapi.json (`./generated/openapi.d.ts`, made by
 * test/integration/typed-client.test.ts), through `openapi-fetch`. The test type-checks this file
 * with tsc and runs it against the local app. Nothing here is typed by hand: a misspelt field,
 * path, error code or header does not compile.
 *
 * Each step is its own function taking the clients and what earlier steps made; `partnerJourney`
 * runs them in order. A new step is one more function and one more line there.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/openapi';

/** Every resource and view a portal handles, by the name openapi.json gives it. */
export type Schemas = components['schemas'];
export type Partner = Schemas['Partner'];
export type Profile = Schemas['Profile'];
export type Enrollment = Schemas['Enrollment'];
export type Agreement = Schemas['Agreement'];
export type Provider = Schemas['Provider'];
export type ProviderPartnership = Schemas['ProviderPartnership'];
export type Reseller = Schemas['Reseller'];
export type Invitation = Schemas['Invitation'];
export type Customer = Schemas['Customer'];
export type Subscription = Schemas['Subscription'];
export type Order = Schemas['Order'];
export type User = Schemas['User'];
export type Transfer = Schemas['Transfer'];
export type Webhook = Schemas['Webhook'];
export type Delivery = Schemas['Delivery'];
export type Status = Schemas['Status'];
export type Event = Schemas['Event'];
export type Problem = Schemas['Problem'];
export type Transition = Schemas['Transition'];
export type ResellerPipeline = Schemas['ResellerPipeline'];
export type TransitionReport = Schemas['TransitionReport'];

/** True only when A and B are the same type: `const _: Same<A, B> = true` compiles only then. */
export type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export type Api = Client<paths>;

/** The answers an operation declares. */
type ResponsesOf<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: infer R;
}
  ? R
  : never;

/** The JSON body an operation takes. */
export type RequestBody<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  requestBody?: { content: { 'application/json': infer B } };
}
  ? B
  : never;

/** The headers a response declares, without the index signature every response has. */
type DeclaredHeaders<R> = R extends { headers: infer H }
  ? keyof { [K in keyof H as string extends K ? never : K]: H[K] }
  : never;

/**
 * A response header openapi.json declares for that operation and status: a header it does not
 * declare does not compile.
 */
export function header<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends keyof ResponsesOf<P, M>,
>(
  response: Response,
  _where: { path: P; method: M; status: S },
  name: Extract<DeclaredHeaders<ResponsesOf<P, M>[S]>, string>,
): string | null {
  return response.headers.get(name);
}

/** The data of a successful answer; a problem stops the journey, naming it. */
export function ok<T, E>(result: { data?: T; error?: E; response: Response }): T {
  if (result.data === undefined && result.response.status !== 204) {
    throw new Error(
      `${result.response.status} ${result.response.url}: ${JSON.stringify(result.error)}`,
    );
  }
  return result.data as T;
}

export interface Tenant {
  tenantId: string;
  token: string;
}

export interface World {
  baseUrl: string;
  /** Lets time pass where the journey waits for the platform (the event feed's publication). */
  settle?: () => Promise<void>;
  operator: Tenant;
  /** The direct-bill partner that becomes an indirect reseller (its global admin). */
  partner: Tenant & { mpnId: string };
  /** The indirect provider it partners with (its global admin). */
  provider: Tenant & { mpnId: string };
}

export interface Clients {
  operator: Api;
  partner: Api;
  provider: Api;
}

export function clientsFor(world: World): Clients {
  const client = (token: string): Api =>
    createClient<paths>({ baseUrl: world.baseUrl, headers: { Authorization: `Bearer ${token}` } });
  return {
    operator: client(world.operator.token),
    partner: client(world.partner.token),
    provider: client(world.provider.token),
  };
}

const contact = {
  firstName: 'Pat',
  lastName: 'Lee',
  email: 'pat@contoso.example',
  phone: '+33 1 23 45 67 89',
};

/** Operators write both master records. */
export async function masterRecords(api: Clients, world: World): Promise<Partner[]> {
  const partner = ok(
    await api.operator.PUT('/api/operator/partners/{partnerId}', {
      params: { path: { partnerId: world.partner.tenantId } },
      body: {
        companyName: 'Contoso',
        mpnId: world.partner.mpnId,
        mpnVerified: true,
        mpnAccountEmail: 'mpn@contoso.example',
        country: 'FR',
        programs: { directBill: true },
      },
    }),
  );
  const provider = ok(
    await api.operator.PUT('/api/operator/partners/{partnerId}', {
      params: { path: { partnerId: world.provider.tenantId } },
      body: {
        companyName: 'Adatum Distribution',
        mpnId: world.provider.mpnId,
        country: 'FR',
        programs: {
          directBill: false,
          indirectProvider: { regions: ['FR', 'BE'], services: ['training-support', 'marketing'] },
        },
      },
    }),
  );
  return [partner, provider];
}

/** The partner's global admin confirms its profile, sending back the ETag it read. */
export async function confirmProfile(api: Clients, world: World): Promise<Profile> {
  const read = await api.partner.GET('/api/me');
  const etag = header(read.response, { path: '/api/me', method: 'get', status: 200 }, 'ETag');
  const partner: Partner = ok(
    await api.partner.PUT('/api/me/profile', {
      params: { header: { 'If-Match': etag ?? '*' } },
      body: {
        companyName: 'Contoso',
        mpnId: world.partner.mpnId,
        address: { line1: '1 rue de la Paix', city: 'Paris', postalCode: '75002', country: 'FR' },
        primaryContact: contact,
        preferredLanguage: 'en',
      },
    }),
  );
  if (!partner.profile) throw new Error('the profile was not confirmed');
  return partner.profile;
}

/** While still direct bill: its own customer, with a license subscription to move later. */
export async function directCustomer(
  api: Clients,
): Promise<{ customer: Customer; order: Order; subscriptionId: string }> {
  const customer = ok(
    await api.partner.POST('/api/me/customers', {
      body: {
        companyName: 'Fabrikam',
        domain: `fabrikam-${Date.now().toString(36)}.onmicrosoft.com`,
        country: 'FR',
        adminEmail: 'admin@fabrikam.example',
      },
    }),
  );
  const order = ok(
    await api.partner.POST('/api/me/customers/{customerId}/orders', {
      params: { path: { customerId: customer.customerId } },
      body: { lineItems: [{ offerId: 'office-e3', productType: 'license', quantity: 10 }] },
    }),
  );
  const [line] = order.lineItems;
  if (!line) throw new Error('the order has no line');
  return { customer, order, subscriptionId: line.subscriptionId };
}

/** It enrolls (approved at once: its MPN ID is verified) and accepts the agreement. */
export async function enroll(
  api: Clients,
  world: World,
): Promise<{ enrollment: Enrollment; agreement: Agreement; partner: Partner }> {
  const enrollment = ok(
    await api.partner.POST('/api/me/enrollment', {
      body: {
        reviewedDetails: { companyName: 'Contoso', mpnId: world.partner.mpnId },
        primaryContact: contact,
        authorizationConfirmed: true,
        irreversibleAcknowledged: true,
      },
    }),
  );
  const offered = ok(await api.partner.GET('/api/me/agreement'));
  const agreement = ok(
    await api.partner.POST('/api/me/agreement/acceptance', {
      body: { templateId: offered.templateId, version: offered.version },
    }),
  );
  const partner = ok(await api.partner.GET('/api/me'));
  return { enrollment, agreement, partner };
}

/** It finds the provider, which invites it; it accepts the link's token. */
export async function partnerWithProvider(
  api: Clients,
  world: World,
): Promise<{
  directory: Provider[];
  invitation: Invitation;
  providers: ProviderPartnership[];
  resellers: Reseller[];
}> {
  const directory = ok(
    await api.partner.GET('/api/indirect-providers', { params: { query: { region: 'FR' } } }),
  ).items;
  const invited = ok(
    await api.provider.POST('/api/me/reseller-invitations', {
      body: { mpnId: world.partner.mpnId, email: 'gina@contoso.example' },
    }),
  );
  // The link's secret is the part after '#': API calls carry it in the body.
  const token = invited.link.split('#')[1] ?? '';
  ok(await api.partner.POST('/api/partner-invitations/lookup', { body: { token } }));
  ok(await api.partner.POST('/api/partner-invitations/accept', { body: { token } }));
  const [invitation] = ok(await api.provider.GET('/api/me/reseller-invitations')).items;
  if (!invitation) throw new Error('the provider lists no invitation');
  const providers = ok(await api.partner.GET('/api/me/indirect-providers')).items;
  const resellers = ok(await api.provider.GET('/api/me/indirect-resellers')).items;
  return { directory, invitation, providers, resellers };
}

/** The provider creates a customer tenant for its new reseller, which adds a user. */
export async function indirectCustomer(
  api: Clients,
  world: World,
): Promise<{ customer: Customer; user: User }> {
  const customer = ok(
    await api.provider.POST('/api/me/customers', {
      body: {
        companyName: 'Wingtip Toys',
        domain: `wingtip-${Date.now().toString(36)}.onmicrosoft.com`,
        country: 'FR',
        adminEmail: 'admin@wingtiptoys.example',
        indirectResellerId: world.partner.tenantId,
      },
    }),
  );
  const user = ok(
    await api.partner.POST('/api/me/customers/{customerId}/users', {
      params: { path: { customerId: customer.customerId } },
      body: { displayName: 'Ana Diaz', userPrincipalName: 'ana@wingtiptoys.onmicrosoft.com' },
    }),
  );
  return { customer, user };
}

/** Its own direct-bill customer moves to the provider: extension, then a transfer it accepts. */
export async function moveCustomer(
  api: Clients,
  world: World,
  direct: { customer: Customer; subscriptionId: string },
): Promise<{
  requested: Transfer;
  location: string | null;
  completed: Transfer;
  moved: Subscription[];
}> {
  const customerId = direct.customer.customerId;
  ok(
    await api.partner.POST('/api/me/customers/{customerId}/relationship-extension', {
      params: { path: { customerId } },
      body: { providerId: world.provider.tenantId, customerConsentAttested: true },
    }),
  );
  const eligibility = ok(
    await api.partner.GET('/api/me/customers/{customerId}/transfers/eligibility', {
      params: { path: { customerId }, query: { providerId: world.provider.tenantId } },
    }),
  );
  const lineItems = eligibility.eligible.map(({ subscriptionId }) => ({ subscriptionId }));
  const sent = await api.partner.POST('/api/me/customers/{customerId}/transfers', {
    params: { path: { customerId } },
    body: { providerId: world.provider.tenantId, lineItems },
  });
  const requested = ok(sent);
  const location = header(
    sent.response,
    { path: '/api/me/customers/{customerId}/transfers', method: 'post', status: 201 },
    'Location',
  );
  const incoming = ok(
    await api.provider.GET('/api/me/transfers', {
      params: { query: { direction: 'incoming', status: 'pending' } },
    }),
  );
  if (!incoming.items.some((transfer) => transfer.transferId === requested.transferId))
    throw new Error('the provider does not see the transfer');
  const completed = ok(
    await api.provider.POST('/api/me/transfers/{transferId}/accept', {
      params: { path: { transferId: requested.transferId } },
    }),
  );
  const moved = ok(
    await api.provider.GET('/api/me/customers/{customerId}/subscriptions', {
      params: { path: { customerId } },
    }),
  ).items;
  return { requested, location, completed, moved };
}

/** Automation: a webhook endpoint, and the pull feed read by event type. */
export async function automation(
  api: Clients,
  world: World,
): Promise<{
  webhook: Webhook;
  deliveries: Delivery[];
  events: Event[];
  completedTransfers: string[];
}> {
  const created = ok(
    await api.partner.POST('/api/me/webhooks', {
      body: { url: 'https://hooks.contoso.example/partner-center', events: ['transfer.completed'] },
    }),
  );
  const { secret: _secret, ...webhook } = created;
  const deliveries = ok(
    await api.partner.GET('/api/me/webhooks/{webhookId}/deliveries', {
      params: { path: { webhookId: webhook.webhookId } },
    }),
  ).items;
  await world.settle?.();
  const events = ok(await api.partner.GET('/api/me/events')).items;
  // The union narrows on `type`: each event's data has its own type.
  const completedTransfers = events.flatMap((event) =>
    event.type === 'transfer.completed' ? [event.data.transferId] : [],
  );
  return { webhook, deliveries, events, completedTransfers };
}

/** An operator's status page. */
export async function operatorStatus(api: Clients): Promise<Status> {
  return ok(await api.operator.GET('/api/operator/status'));
}

/** A refusal is typed: its code is one of those the operation lists, and nothing else. */
export async function typedRefusal(api: Clients): Promise<Problem['code'] | null> {
  const result = await api.partner.GET('/api/me/transfers/{transferId}', {
    params: { path: { transferId: '00000000-0000-4000-8000-000000000000' } },
  });
  const listed: Same<
    NonNullable<typeof result.error>['code'],
    | 'validation-failed'
    | 'unauthenticated'
    | 'not-found'
    | 'rate-limited'
    | 'internal-error'
    | 'unavailable'
  > = true;
  void listed;
  return result.error ? result.error.code : null;
}

/**
 * Where the partner stands, as its portal draws the progress page: each step's status (the
 * detail's language named by Content-Language), read after each step of the journey.
 */
export async function transitionView(
  api: Clients,
): Promise<{ view: Transition; steps: Record<Transition['steps'][number]['step'], string> }> {
  const read = await api.partner.GET('/api/me/transition');
  const view = ok(read);
  const language = header(
    read.response,
    { path: '/api/me/transition', method: 'get', status: 200 },
    'Content-Language',
  );
  if (language !== 'en' && language !== 'fr') throw new Error(`no language: ${language}`);
  const steps = Object.fromEntries(
    view.steps.map((state) => [
      state.step,
      state.waitingOn ? `${state.status} (${state.waitingOn})` : state.status,
    ]),
  ) as Record<Transition['steps'][number]['step'], string>;
  return { view, steps };
}

/** The provider's pipeline, and the operators' report of the day (as CSV too). */
export async function pipelineAndReport(
  api: Clients,
  day: string,
): Promise<{ pipeline: ResellerPipeline; report: TransitionReport; stuckCsv: string }> {
  const pipeline = ok(
    await api.provider.GET('/api/me/reseller-pipeline', { params: { query: { pageSize: 10 } } }),
  );
  // The operation answers JSON or, asked with Accept: text/csv, CSV: the type says both.
  const answered = ok(
    await api.operator.GET('/api/operator/reports/transitions', {
      params: { query: { from: day, to: day } },
    }),
  );
  if (typeof answered === 'string') throw new Error('asked for JSON, the report came as CSV');
  const report: TransitionReport = answered;
  const csv = await api.operator.GET('/api/operator/reports/transitions', {
    params: { query: { from: day, to: day } },
    headers: { Accept: 'text/csv' },
    parseAs: 'text',
  });
  return { pipeline, report, stuckCsv: String(csv.data ?? '') };
}

/** The journey, step after step, the transition read after each. */
export async function partnerJourney(world: World) {
  const api = clientsFor(world);
  const transition: Record<string, string>[] = [];
  const look = async () => transition.push((await transitionView(api)).steps);
  const records = await masterRecords(api, world);
  await look();
  const profile = await confirmProfile(api, world);
  await look();
  const direct = await directCustomer(api);
  const enrolled = await enroll(api, world);
  await look();
  const partnership = await partnerWithProvider(api, world);
  await look();
  const indirect = await indirectCustomer(api, world);
  await world.settle?.();
  await look();
  const move = await moveCustomer(api, world, direct);
  const { view } = await transitionView(api);
  await look();
  const events = await automation(api, world);
  const status = await operatorStatus(api);
  const refusal = await typedRefusal(api);
  const glance = await pipelineAndReport(api, move.completed.createdAt.slice(0, 10));
  return {
    records,
    profile,
    direct,
    enrolled,
    partnership,
    indirect,
    move,
    events,
    status,
    refusal,
    transition,
    counts: view.counts,
    glance,
  };
}

// The answers are the named components themselves, not copies of them.
type Answer<
  P extends keyof paths,
  M extends keyof paths[P],
  S extends keyof ResponsesOf<P, M>,
> = ResponsesOf<P, M>[S] extends { content: { 'application/json': infer T } } ? T : never;
const named: [
  Same<Answer<'/api/me', 'get', 200>, Partner>,
  Same<Answer<'/api/me/transfers/{transferId}', 'get', 200>, Transfer>,
  Same<Answer<'/api/operator/status', 'get', 200>, Status>,
  Same<Answer<'/api/me/events', 'get', 200>['items'][number], Event>,
  Same<Answer<'/api/me/transition', 'get', 200>, Transition>,
] = [true, true, true, true, true];
void named;
