import type { CosmosClient } from '@azure/cosmos';
import { randomUUID } from 'node:crypto';
import type { Clock, EmailSender, IdGenerator, TokenVerifier } from './app/ports';
import { cachedCheck, cachedRead } from './app/health';
import type { Services } from './app/services';
import { createCosmosClient, lazyAzureCredential } from './adapters/cosmos/client';
import { CosmosCustomerRepository } from './adapters/cosmos/customer-repository';
import { CosmosIdempotencyStore } from './adapters/cosmos/idempotency-store';
import { CosmosOperationsRepository } from './adapters/cosmos/operations-repository';
import { CosmosOutboxRepository } from './adapters/cosmos/outbox-repository';
import { CosmosEventRepository } from './adapters/cosmos/event-repository';
import { createWebhookTransport } from './adapters/webhooks/transport';
import type { LookupAll } from './adapters/webhooks/address-guard';
import { cosmosCall, scoped } from './adapters/cosmos/operations';
import { CosmosPartnerRepository } from './adapters/cosmos/partner-repository';
import { CosmosTransitionReportRepository } from './adapters/cosmos/report-repository';
import { AcsEmailSender } from './adapters/email/acs-sender';
import { FileOutbox, type DeliveredEmailNotice } from './adapters/email/file-outbox';
import { loadOrCreateDevKey, loadOrCreateSecret } from './adapters/identity/dev-keys';
import { devKeys, JwtVerifier, remoteKeys } from './adapters/identity/jwt-verifier';
import { createRequestLimits } from './app/request-limits';
import type { Config } from './config';
import { withinInvocation, type Invocation } from './app/invocation';

export const systemClock: Clock = { now: () => new Date() };
export const randomIds: IdGenerator = { newId: () => randomUUID() };

export interface CompositionOptions {
  clock?: Clock;
  ids?: IdGenerator;
  cosmosClient?: CosmosClient;
  emailSender?: EmailSender;
  tokens?: TokenVerifier;
  /** The local host prints each email's links; nothing else gets them. */
  announceEmail?: (notice: DeliveredEmailNotice) => void;
  checkResponses?: boolean;
  /** Name resolution for webhook URLs (tests: a name that resolves to a private address). */
  webhookLookup?: LookupAll;
}

/** Picks the email adapter: ACS when configured, else the local .eml outbox. */
export function createEmailSender(
  config: Config,
  clock: Clock,
  announce?: CompositionOptions['announceEmail'],
): EmailSender {
  const { acsConnectionString, acsEndpoint, sender, outboxDir } = config.email;
  if (acsConnectionString !== undefined)
    return new AcsEmailSender({ connectionString: acsConnectionString }, sender);
  if (acsEndpoint !== undefined) {
    const credential = lazyAzureCredential(config.identity);
    return new AcsEmailSender({ endpoint: acsEndpoint, credential }, sender);
  }
  return new FileOutbox(outboxDir, sender, () => clock.now(), announce);
}

export async function createTokenVerifier(config: Config, clock: Clock): Promise<TokenVerifier> {
  const keys =
    config.auth.mode === 'dev'
      ? devKeys(await loadOrCreateDevKey(config.auth.devKeyFile))
      : remoteKeys(config.auth.jwksUri);
  return new JwtVerifier(keys, {
    audience: config.auth.audience,
    issuerTemplate: config.auth.issuerTemplate,
    ...(config.auth.appIdUri ? { appIdUri: config.auth.appIdUri } : {}),
    scope: config.auth.scope,
    globalAdminAppRole: config.auth.globalAdminAppRole,
    now: () => clock.now(),
  });
}

/**
 * The composition root: builds every adapter once per process (one CosmosClient, one cached
 * key set) and hands them to the handlers as Services.
 */
export async function createServices(
  config: Config,
  options: CompositionOptions = {},
): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const client =
    options.cosmosClient ??
    (await createCosmosClient({ ...config.cosmos, identity: config.identity }));
  const database = client.database(config.cosmos.database);
  const containers = {
    partners: database.container('partners'),
    customers: database.container('customers'),
    idempotency: database.container('idempotency'),
    events: database.container('events'),
  };
  /** The repositories, bound to an invocation (null: the process's own calls). */
  const repositories = (invocation: Invocation | null) => {
    const partners = scoped(containers.partners, invocation);
    const customers = scoped(containers.customers, invocation);
    const events = scoped(containers.events, invocation);
    return {
      partners: new CosmosPartnerRepository(partners, {
        auditTtlSeconds: config.audit.retentionDays * 24 * 60 * 60,
      }),
      customers: new CosmosCustomerRepository(customers),
      outbox: new CosmosOutboxRepository(partners),
      operations: new CosmosOperationsRepository(partners, events),
      idempotency: new CosmosIdempotencyStore(scoped(containers.idempotency, invocation)),
      events: new CosmosEventRepository(partners, customers, events),
      reports: new CosmosTransitionReportRepository(partners),
    };
  };
  const idempotencySecret = config.idempotency.secret
    ? Buffer.from(config.idempotency.secret, 'utf8')
    : await loadOrCreateSecret(config.idempotency.secretFile);
  const previousIdempotencySecret = config.idempotency.previousSecret
    ? Buffer.from(config.idempotency.previousSecret, 'utf8')
    : null;
  const processRepositories = repositories(null);
  const services: Services = {
    ...processRepositories,
    config,
    clock,
    ids: options.ids ?? randomIds,
    tokens: options.tokens ?? (await createTokenVerifier(config, clock)),
    startedAt: clock.now(),
    emailSender: options.emailSender ?? createEmailSender(config, clock, options.announceEmail),
    limits: createRequestLimits(config.limits.requests, clock),
    secrets: { idempotency: idempotencySecret, previousIdempotency: previousIdempotencySecret },
    webhooks: createWebhookTransport({
      allowLocal: config.webhooks.allowLocal,
      serverKey: idempotencySecret,
      previousServerKey: previousIdempotencySecret ?? undefined,
      lookup: options.webhookLookup,
    }),
    // At most one Cosmos request per period, however many anonymous health calls come.
    pingCosmos: cachedCheck(async () => {
      // Within the request's deadline like every other Cosmos call: a stalled account shows
      // as down, not as a health check that never answers.
      await withinInvocation(config.cosmos.deadlineMs.http, (invocation) =>
        cosmosCall(invocation, (abortSignal) => database.read({ abortSignal })),
      );
      return true;
    }, clock),
    // The health check's view of timers and outboxes: one single-partition query per period.
    operationsSnapshot: cachedRead(() => processRepositories.operations.documents(), clock),
    checkResponses: options.checkResponses ?? false,
    forInvocation: (invocation) => ({ ...services, ...repositories(invocation) }),
  };
  return services;
}
