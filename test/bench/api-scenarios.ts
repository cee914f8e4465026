import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { ensureDatabase } from '../../shared/adapters/cosmos/schema';
import { loadOrCreateDevKey } from '../../shared/adapters/identity/dev-keys';
import { loadConfig } from '../../shared/config';
import { startChild, type Child } from './child-process';
import type { CpuProfile } from './cpu-profile';
import { requestBreakdown } from './request-breakdown';
import {
  notSelected,
  skipped,
  type HttpScenario,
  type Scenario,
  type ScenarioRunner,
} from './scenarios';
import { benchPartners, seedCustomerRelationships, seedPartners } from './seed';
import { apiAt, arrangeWorld, tokenSigner } from './world';

export const loadScenarioNames = [
  'raw-point-read',
  'get-me',
  'http-floor',
  'raw-page-query',
  'list-customers',
  'create-customer-invitation',
];

export interface ApiScenarioOptions {
  endpoint: string;
  devKeyFile: string;
  workDir: string;
  partners: number;
  customers: number;
  /** The bundled host's script, and where to record its process id. */
  hostScript: string;
  /** The bare HTTP server around the raw read (./floor-process.ts), `http-floor`'s. */
  floorScript: string;
  /**
   * Where to write a CPU profile of the host under `get-me`'s load (a second run, after the
   * measured one), whose breakdown by part goes into get-me's row; null for none.
   */
  profileDir: string | null;
  /** The process serving the scenario under load, whose CPU is counted as `host`. */
  onHost(pid: number | undefined): void;
  log(line: string): void;
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * The API against its raw baselines, in one database of the emulator: the bundled host in a
 * process of its own, a reseller made through the routes, then 1,000 partners and the
 * reseller's 10,000 customers written with the SDK in bulk. Each baseline runs right before
 * the API scenario compared with it.
 */
export async function apiScenarios(
  runner: ScenarioRunner,
  options: ApiScenarioOptions,
): Promise<Scenario[]> {
  if (!loadScenarioNames.some(runner.wanted)) {
    return loadScenarioNames.map((name) => skipped(name, notSelected));
  }
  const env = {
    PATH: process.env.PATH,
    AUTH_MODE: 'dev',
    COSMOS_ENDPOINT: options.endpoint,
    COSMOS_DATABASE: 'bench-api',
    DEV_KEY_FILE: options.devKeyFile,
    EMAIL_OUTBOX_DIR: path.join(options.workDir, 'outbox'),
    // The bench measures throughput, not the abuse limits on invitations and requests.
    INVITATION_RATE_LIMIT_PER_HOUR: '100000',
    RATE_LIMIT_TENANT_PER_MINUTE: '10000000',
    RATE_LIMIT_TENANT_BURST: '10000000',
  };
  const config = loadConfig(env);
  const client = await createCosmosClient(config.cosmos);
  const partners = (await ensureDatabase(client, config.cosmos.database)).container('partners');
  let host: Child<{ url: string }> | undefined;
  try {
    host = await startChild<{ url: string }>(options.hostScript, env);
    options.onHost(host.process.pid);
    const hostUrl = host.details.url;
    const sign = tokenSigner(
      await loadOrCreateDevKey(options.devKeyFile),
      config.auth.issuerTemplate,
    );
    const world = await arrangeWorld(apiAt(hostUrl), sign);
    const now = new Date();
    const seeded = benchPartners(options.partners - 2, now);
    const seedStarted = Date.now();
    await seedPartners(partners, seeded);
    await seedCustomerRelationships(
      partners,
      world.reseller,
      world.provider,
      options.customers,
      now,
    );
    options.log(
      `seeded ${options.partners} partners, ${options.customers} customers of ${world.reseller.companyName} (${((Date.now() - seedStarted) / 1000).toFixed(1)} s)`,
    );
    const tokens = await Promise.all(seeded.map((partner) => sign(partner.partnerId, [])));
    const reseller = bearer(world.reseller.adminToken);

    const rawPointRead = await runner.raw('raw-point-read', async (iteration) => {
      const { partnerId } = seeded[iteration % seeded.length]!;
      const { statusCode } = await partners.item(partnerId, partnerId).read();
      if (statusCode !== 200) throw new Error(`point read answered ${statusCode}`);
    });
    const getMeScenario: HttpScenario = {
      name: 'get-me',
      method: 'GET',
      route: 'me',
      requests: tokens.map((token) => ({ path: '/api/me', headers: bearer(token) })),
      expectedStatus: 200,
      baseline: rawPointRead,
    };
    const getMe = await runner.http(hostUrl, getMeScenario);
    if (options.profileDir !== null && getMe.rps !== null) {
      const hostCpu = getMe.cpuSeconds?.host;
      if (hostCpu && getMe.requests) {
        const file = path.resolve(options.profileDir, 'get-me.cpuprofile');
        await mkdir(options.profileDir, { recursive: true });
        options.log(`get-me: again, the host's CPU profiled, into ${file}`);
        await host.ask({ profile: 'start' });
        await runner.http(hostUrl, getMeScenario);
        await host.ask({ profile: 'stop', file });
        const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
        getMe.breakdown = requestBreakdown(profile, Math.round((hostCpu * 1e6) / getMe.requests));
      } else {
        options.log("get-me: not profiled, the host's CPU is not known here (Linux only)");
      }
    }

    // The floor under get-me (./floor-process.ts): the same read behind a bare node:http server.
    const httpFloor = runner.wanted('http-floor')
      ? await floorScenario(runner, options, env, seeded, rawPointRead)
      : skipped('http-floor', notSelected, rawPointRead);
    options.onHost(host.process.pid);

    // The first page of a partner's customers, by sortName then id. The ORDER BY leads with
    // the equality-filtered type: a multi-property ORDER BY is served only by a composite index
    // with exactly its paths, here (type, sortName, id) from containers.json.
    const pageQuery = {
      query:
        "SELECT * FROM c WHERE c.partnerId = @partitionKey AND c.type = 'customer-relationship' ORDER BY c.type ASC, c.sortName ASC, c.id ASC",
      parameters: [{ name: '@partitionKey', value: world.reseller.partnerId }],
    };
    const rawPageQuery = await runner.raw('raw-page-query', async () => {
      const page = await partners.items
        .query(pageQuery, { partitionKey: world.reseller.partnerId, maxItemCount: 50 })
        .fetchNext();
      if (page.resources.length !== 50) throw new Error(`page of ${page.resources.length}`);
    });
    const listCustomers = await runner.http(hostUrl, {
      name: 'list-customers',
      method: 'GET',
      route: 'me/customers',
      requests: [{ path: '/api/me/customers?pageSize=50', headers: reseller }],
      expectedStatus: 200,
      baseline: rawPageQuery,
    });
    // Last: every invitation adds documents to the reseller's partition.
    const createCustomerInvitation = await runner.http(hostUrl, {
      name: 'create-customer-invitation',
      method: 'POST',
      route: 'me/customer-invitations',
      requests: [
        {
          path: '/api/me/customer-invitations',
          headers: { ...reseller, 'content-type': 'application/json' },
          body: JSON.stringify({ providerId: world.provider.partnerId }),
        },
      ],
      expectedStatus: 201,
    });
    return [rawPointRead, getMe, httpFloor, rawPageQuery, listCustomers, createCustomerInvitation];
  } finally {
    await host?.stop();
    client.dispose();
  }
}

/** `http-floor`: the bare server of ./floor-process.ts under get-me's load, one partner a request. */
async function floorScenario(
  runner: ScenarioRunner,
  options: ApiScenarioOptions,
  env: Record<string, string | undefined>,
  seeded: readonly { partnerId: string }[],
  baseline: Scenario,
): Promise<Scenario> {
  const floor = await startChild<{ url: string }>(options.floorScript, env);
  try {
    options.onHost(floor.process.pid);
    return await runner.http(floor.details.url, {
      name: 'http-floor',
      method: 'GET',
      route: null,
      requests: seeded.map(({ partnerId }) => ({
        path: `/floor/${encodeURIComponent(partnerId)}`,
        headers: {},
      })),
      expectedStatus: 200,
      baseline,
    });
  } finally {
    await floor.stop();
  }
}
