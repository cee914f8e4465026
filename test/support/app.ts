import type { CosmosClientOptions } from '@azure/cosmos';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { functionTable } from '../../functions/table';
import type {
  EmailSender,
  PartnerDocument,
  TokenVerifier,
  WriteOperation,
} from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { containerDefinitions, ensureDatabase } from '../../shared/adapters/cosmos/schema';
import { parseEml, linksIn, type ParsedEml } from '../../shared/adapters/email/mime';
import {
  devRoleClaims,
  loadOrCreateDevKey,
  signDevToken,
  type DevKey,
} from '../../shared/adapters/identity/dev-keys';
import { devAudience, loadConfig, type Config } from '../../shared/config';
import { createServices } from '../../shared/composition';
import type { FunctionDefinition } from '../../shared/functions';
import type { LookupAll } from '../../shared/adapters/webhooks/address-guard';
import { startLocalHost, type LocalHost, type LogEntry } from '../../shared/local/host';
import { ManualClock } from './clock';
import { recordProblem } from './contract-observations';
import { CosmosRequestLog } from './cosmos-requests';
import { newTenantId, operatorTenantId } from './ids';

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, without JSON encoding. */
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TokenOptions {
  tenant: string;
  /** As `npm run token -- --roles`: GlobalAdmin is the directory role (wids), others app roles. */
  roles?: string[];
  /** App roles exactly as given, GlobalAdmin included (a self-assigned app role). */
  appRoles?: string[];
  oid?: string;
  name?: string;
  email?: string;
  wids?: string[];
  /** An app-only token (`--app`). */
  app?: boolean;
  scopes?: string[];
  extra?: Record<string, unknown>;
  audience?: string;
}

export interface TestApp {
  url: string;
  clock: ManualClock;
  config: Config;
  services: Services;
  logs: LogEntry[];
  outboxDir: string;
  devKey: DevKey;
  /** Every request the app's CosmosClient sent, when started with countCosmosRequests. */
  cosmosRequests: CosmosRequestLog | null;
  api<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  token(options: TokenOptions): Promise<string>;
  operatorToken(): Promise<string>;
  runTimer(name: string): Promise<void>;
  /** Every document of a partner's partition, as stored (for assertions on what was written). */
  documents<T = any>(partnerId: string, type?: string): Promise<T[]>;
  /** One document of the partners container, by a point read with its partition key value. */
  pointRead<T = any>(partitionKey: string, id: string): Promise<T | null>;
  /** Every stored document of every container, keyed by container (secrets, snapshots). */
  allDocuments(): Promise<Record<string, any[]>>;
  /** A query across all partitions of one container. */
  query<T = any>(container: string, query: string): Promise<T[]>;
  /** The delivered .eml files, oldest first. */
  mailbox(): Promise<(ParsedEml & { file: string; links: string[] })[]>;
  /** Stops the host; deletes the database unless another app shares it. */
  close(options?: { keepDatabase?: boolean }): Promise<void>;
}

/**
 * A second host of the app on the same database, as another instance would be, its services
 * wrapped by `decorate` (a dependency failing, a process dying between two writes), with
 * settings of its own when given (`env`, over the test defaults rather than the first host's).
 */
export function startSecondHost(
  app: TestApp,
  decorate: (services: Services) => Services,
  env: Record<string, string> = {},
): Promise<TestApp> {
  return startTestApp({
    clock: app.clock,
    env: { ...env, COSMOS_DATABASE: app.config.cosmos.database },
    decorate,
  });
}

/** Services whose partner writes throw what `failure` returns for them (nothing: they run). */
export function failingPartnerWrites(
  failure: (partnerId: string, operations: WriteOperation<PartnerDocument>[]) => Error | null,
): (services: Services) => Services {
  return (services) => ({
    ...services,
    partners: override(services.partners, {
      commit: async (partnerId, operations) => {
        const error = failure(partnerId, operations);
        if (error) throw error;
        return services.partners.commit(partnerId, operations);
      },
    }),
  });
}

/** Services that count their writes (partners and customers), and the count so far. */
export function countingWrites(): {
  decorate: (services: Services) => Services;
  count: () => number;
} {
  let writes = 0;
  return {
    count: () => writes,
    decorate: (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partnerId, operations) => {
          writes += 1;
          return services.partners.commit(partnerId, operations);
        },
      }),
      customers: override(services.customers, {
        commit: async (customerId, operations) => {
          writes += 1;
          return services.customers.commit(customerId, operations);
        },
      }),
    }),
  };
}

/** Services of a process that dies at its `n`th write (partners or customers), writing nothing. */
export function dyingAtWrite(n: number): (services: Services) => Services {
  let writes = 0;
  const die = () => {
    writes += 1;
    if (writes >= n) throw new Error('process killed');
  };
  return (services) => ({
    ...services,
    partners: override(services.partners, {
      commit: async (partnerId, operations) => {
        die();
        return services.partners.commit(partnerId, operations);
      },
    }),
    customers: override(services.customers, {
      commit: async (customerId, operations) => {
        die();
        return services.customers.commit(customerId, operations);
      },
    }),
  });
}

/**
 * Services as `decorate` makes them, in the process and in each invocation (the repositories an
 * invocation gets, bound to it, are decorated the same way), and every problem a test app answers
 * recorded for test/contract.
 */
function decorated(built: Services, decorate: (services: Services) => Services): Services {
  const finish = (services: Services): Services => ({ ...decorate(services), recordProblem });
  return {
    ...finish(built),
    forInvocation: (invocation) => finish(built.forInvocation(invocation)),
  };
}

/**
 * A point where a host's call waits for the test, to race two hosts deterministically with
 * their guard document already there: the slow host reads it (`hold` after its read), the test
 * lets the other host change it, then `open`s. `reached` resolves when the slow host waits.
 */
export interface Gate {
  reached: Promise<void>;
  /** Called by the held host once, after its read: waits until the test opens the gate. */
  hold(): Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let arrive: () => void = () => undefined;
  let release: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const opened = new Promise<void>((resolve) => (release = resolve));
  return {
    reached,
    hold() {
      arrive();
      return opened;
    },
    open: () => release(),
  };
}

/** The same object with some methods replaced (prototype methods included). */
export function override<T extends object>(target: T, replacements: Partial<T>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (property in replacements) return (replacements as Record<PropertyKey, unknown>)[property];
      const value = Reflect.get(object, property, receiver) as unknown;
      return typeof value === 'function'
        ? (value as (...args: unknown[]) => unknown).bind(object)
        : value;
    },
  });
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: ManualClock;
  emailSender?: EmailSender;
  tokens?: TokenVerifier;
  table?: readonly FunctionDefinition[];
  /** Wraps the built services, e.g. to inject a failing dependency. */
  decorate?: (services: Services) => Services;
  /** Name resolution for webhook URLs (a public-looking name that resolves to a private address). */
  webhookLookup?: LookupAll;
  /** Records every request the app sends to Cosmos DB (round-trip budgets). */
  countCosmosRequests?: boolean;
  /** Connection policy settings over the app's own (e.g. endpoint discovery on, as on Azure). */
  cosmosConnectionPolicy?: CosmosClientOptions['connectionPolicy'];
}

/**
 * Tests reach no DNS server: names resolve here, loopback names to loopback and every other
 * name to a public address (tests of the address guard give their own resolver).
 */
const testLookup: LookupAll = async (hostname) =>
  /^(localhost|.*\.localhost)$/i.test(hostname)
    ? [{ address: '127.0.0.1', family: 4 }]
    : [{ address: '20.50.2.10', family: 4 }];

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

let workerKey: Promise<{ key: DevKey; file: string }> | undefined;

/** One development key per test worker, in a temporary directory. */
function devKeyForWorker(): Promise<{ key: DevKey; file: string }> {
  workerKey ??= (async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'pt-key-'));
    const file = path.join(directory, 'dev-signing-key.json');
    return { key: await loadOrCreateDevKey(file), file };
  })();
  return workerKey;
}

/**
 * The app as a portal sees it: the real handlers behind the local host on 127.0.0.1, a
 * database of its own in the embedded Cosmos emulator, dev tokens, a clock the test controls,
 * and a file outbox in a temporary directory.
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const clock = options.clock ?? new ManualClock();
  const { key: devKey, file: devKeyFile } = await devKeyForWorker();
  const outboxDir = await mkdtemp(path.join(os.tmpdir(), 'pt-outbox-'));
  const port = await freePort();
  // A database of its own, unless the test shares one with another app (a second host).
  const shared = options.env?.COSMOS_DATABASE;
  const database =
    shared ?? `test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const config = loadConfig({
    AUTH_MODE: 'dev',
    COSMOS_ENDPOINT: inject('cosmosEndpoint'),
    // npm run test:cosmos: a real account's or the official emulator's key, if one is given.
    ...(process.env.COSMOS_KEY ? { COSMOS_KEY: process.env.COSMOS_KEY } : {}),
    COSMOS_DATABASE: database,
    DEV_KEY_FILE: devKeyFile,
    IDEMPOTENCY_SECRET_FILE: path.join(path.dirname(devKeyFile), 'idempotency-secret'),
    EMAIL_OUTBOX_DIR: outboxDir,
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    // Tests of other rules send more than an ACS quota within one test hour; the send budget's
    // own tests (email-delivery.test.ts) set the limits they hold the app to.
    EMAIL_SENDS_PER_MINUTE: '100000',
    EMAIL_SENDS_PER_HOUR: '1000000',
    // The ManualClock does not refill buckets by itself: tests of other things are not
    // limited; rate-limit.test.ts sets small limits.
    RATE_LIMIT_TENANT_BURST: '10000000',
    RATE_LIMIT_LINK_LOOKUPS_BURST: '10000000',
    // Tests run deliverEvents themselves, so nothing delivers behind their back; the prompt
    // delivery has its own test (events.test.ts).
    EVENTS_PROMPT_DELIVERY: 'false',
    ...options.env,
  });
  const cosmosRequests = options.countCosmosRequests ? new CosmosRequestLog() : null;
  const client = await createCosmosClient(config.cosmos, {
    ...(cosmosRequests ? { httpClient: cosmosRequests.httpClient } : {}),
    ...(options.cosmosConnectionPolicy ? { connectionPolicy: options.cosmosConnectionPolicy } : {}),
  });
  await ensureDatabase(client, database);
  const built = await createServices(config, {
    clock,
    cosmosClient: client,
    checkResponses: true,
    ...(options.emailSender ? { emailSender: options.emailSender } : {}),
    ...(options.tokens ? { tokens: options.tokens } : {}),
    webhookLookup: options.webhookLookup ?? testLookup,
  });
  const services = decorated(built, options.decorate ?? ((same) => same));
  const logs: LogEntry[] = [];
  const host: LocalHost = await startLocalHost({
    table: options.table ?? functionTable,
    services,
    port,
    runTimers: false,
    log: (entry) => logs.push(entry),
  });

  const token = (claims: TokenOptions): Promise<string> => {
    const named = devRoleClaims(claims.roles ?? []);
    return signDevToken(
      devKey,
      {
        tenantId: claims.tenant,
        roles: [...named.roles, ...(claims.appRoles ?? [])],
        wids: [...named.wids, ...(claims.wids ?? [])],
        userId: claims.oid ?? newTenantId(),
        name: claims.name ?? 'Test User',
        email: claims.email ?? 'test.user@example.com',
        ...(claims.app ? { app: true } : {}),
        scopes: claims.scopes ?? [config.auth.scope],
        ...(claims.extra ? { extra: claims.extra } : {}),
      },
      {
        audience: claims.audience ?? config.auth.audience ?? devAudience,
        issuerTemplate: config.auth.issuerTemplate,
        now: clock.now(),
        // Tests move the clock by days and months; their tokens outlive that.
        lifetimeSeconds: 2 * 365 * 24 * 3600,
      },
    );
  };

  const query = async <T = any>(container: string, text: string): Promise<T[]> => {
    const { resources } = await client
      .database(database)
      .container(container)
      .items.query(text)
      .fetchAll();
    return resources as T[];
  };

  return {
    url: host.url,
    clock,
    config,
    services,
    logs,
    outboxDir,
    devKey,
    cosmosRequests,
    token,
    operatorToken: () =>
      token({ tenant: operatorTenantId, roles: ['Operator'], name: 'Olive Operator' }),
    async api(method, route, request = {}) {
      const headers: Record<string, string> = { ...request.headers };
      if (request.token) headers.authorization = `Bearer ${request.token}`;
      let body: string | Buffer | undefined;
      if (request.rawBody !== undefined) body = request.rawBody;
      else if (request.body !== undefined) {
        body = JSON.stringify(request.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${host.url}${route}`, {
        method,
        headers,
        body,
        redirect: 'manual',
      });
      const text = await response.text();
      let parsed: unknown = text;
      if (/json/.test(response.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
      return { status: response.status, headers: response.headers, body: parsed as never, text };
    },
    runTimer: (name) => host.runTimer(name),
    async documents(partnerId, type) {
      const container = client.database(database).container('partners');
      const query = type
        ? {
            query: 'SELECT * FROM c WHERE c.partnerId = @partnerId AND c.type = @type',
            parameters: [
              { name: '@partnerId', value: partnerId },
              { name: '@type', value: type },
            ],
          }
        : {
            query: 'SELECT * FROM c WHERE c.partnerId = @partnerId',
            parameters: [{ name: '@partnerId', value: partnerId }],
          };
      const { resources } = await container.items
        .query(query, { partitionKey: partnerId })
        .fetchAll();
      return resources;
    },
    query,
    async pointRead(partitionKey, id) {
      const { resource, statusCode } = await client
        .database(database)
        .container('partners')
        .item(id, partitionKey)
        .read();
      return statusCode === 404 ? null : (resource ?? null);
    },
    async allDocuments() {
      const entries = await Promise.all(
        containerDefinitions.map(
          async ({ id }) => [id, await query(id, 'SELECT * FROM c')] as const,
        ),
      );
      return Object.fromEntries(entries);
    },
    async mailbox() {
      const names = (await readdir(outboxDir)).filter((name) => name.endsWith('.eml'));
      const emails = await Promise.all(
        names.map(async (name) => {
          const file = path.join(outboxDir, name);
          const email = parseEml(await readFile(file, 'utf8'));
          return { ...email, file, links: linksIn(email.text) };
        }),
      );
      return emails.sort(
        (a, b) => Date.parse(a.date) - Date.parse(b.date) || a.file.localeCompare(b.file),
      );
    },
    async close(closing = {}) {
      await host.close();
      if (shared === undefined && !closing.keepDatabase) {
        await client
          .database(database)
          .delete()
          .catch(() => undefined);
      }
      client.dispose();
      await rm(outboxDir, { recursive: true, force: true });
    },
  };
}
