import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { timerFunctions } from '../../functions/timers';
import { BicepFile, stringValue } from '../support/bicep';
import {
  signedInObjectId,
  startFakeAzure,
  runHook,
  type Call,
  type FakeAzure,
  type Route,
} from '../support/fake-azure';

// The azd hooks of azure.yaml (infra/hooks), each run with node as azd runs it, against a
// stand-in for Resource Manager and Key Vault that answers as their REST APIs do.
const root = path.resolve(__dirname, '../..');
const subscription = '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const group = `/subscriptions/${subscription}/resourceGroups/rg-test`;
const site = `${group}/providers/Microsoft.Web/sites/func-abc`;
const vault = `${group}/providers/Microsoft.KeyVault/vaults/kv-abc`;

let azure: FakeAzure | undefined;
afterEach(async () => {
  await azure?.close();
  azure = undefined;
});

const environment = (url: string) => ({
  AZURE_SUBSCRIPTION_ID: subscription,
  AZURE_ENV_NAME: 'test',
  AZURE_LOCATION: 'westeurope',
  AZURE_RESOURCE_GROUP: 'rg-test',
  AZURE_FUNCTION_APP_NAME: 'func-abc',
  AZURE_KEY_VAULT_NAME: 'kv-abc',
  AZURE_KEY_VAULT_ENDPOINT: `${url}/`,
  API_URL: `${url}/app`,
});

const hookModule = async (file: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(path.join(root, 'infra', 'hooks', file)).href)) as Record<
    string,
    unknown
  >;

/** Key Vault secrets through Resource Manager, as the hooks see them: never a value back. */
function armSecrets(secrets: Map<string, string>): Route[] {
  const pattern = new RegExp(`^${vault}/secrets/([\\w-]+)$`);
  return [
    [
      'GET',
      pattern,
      (_call, [, name]) =>
        secrets.has(name!) ? [200, { name, properties: { contentType: 'text/plain' } }] : [404],
    ],
    [
      'PUT',
      pattern,
      (call, [, name]) => {
        secrets.set(name!, call.body.properties.value as string);
        return [200, { name, properties: { contentType: 'text/plain' } }];
      },
    ],
  ];
}

/** The app's Key Vault references: resolved once refreshed `after` times, or never. */
function references(status: (refreshes: number) => string): Route[] {
  let refreshes = 0;
  return [
    [
      'POST',
      new RegExp(`^${site}/config/configreferences/appsettings/refresh$`),
      () => {
        refreshes += 1;
        return [200, {}];
      },
    ],
    [
      'GET',
      new RegExp(`^${site}/config/configreferences/appsettings$`),
      () => [
        200,
        {
          value: ['IDEMPOTENCY_SECRET', 'IDEMPOTENCY_SECRET_PREVIOUS', 'OTHER'].map((name) => ({
            name: `func-abc/${name}`,
            properties: {
              status: name === 'OTHER' ? 'Resolved' : status(refreshes),
              details: status(refreshes) === 'Resolved' ? undefined : 'Access to the vault denied',
            },
          })),
        },
      ],
    ],
  ];
}

describe('the postprovision hook', () => {
  it('creates IDEMPOTENCY_SECRET once, in Key Vault, when the vault has none: random, never printed', async () => {
    const secrets = new Map<string, string>();
    azure = await startFakeAzure([...armSecrets(secrets), ...references(() => 'Resolved')]);
    const run = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const created = secrets.get('idempotency-secret')!;
    expect(created).toMatch(/^[A-Za-z0-9_-]{64}$/);
    // No rotation yet: the previous secret is the same one, which the app takes for none.
    expect(secrets.get('idempotency-secret-previous')).toBe(created);
    expect(run.stdout).toContain('IDEMPOTENCY_SECRET: created in Key Vault, once');
    expect(run.stdout + run.stderr).not.toContain(created);

    // A second provision, from another machine: nothing is written.
    const again = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(again.code).toBe(0);
    expect(secrets.get('idempotency-secret')).toBe(created);
    expect(azure.seen('PUT')).toHaveLength(2);
    expect(again.stdout).toContain('IDEMPOTENCY_SECRET: kept as it is in Key Vault');
  });

  it('keeps the secret of a deployment made before the previous one existed, and adds a previous one that opens nothing', async () => {
    const secrets = new Map([['idempotency-secret', 'x'.repeat(44)]]);
    azure = await startFakeAzure([...armSecrets(secrets), ...references(() => 'Resolved')]);
    const run = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(run.code).toBe(0);
    expect(secrets.get('idempotency-secret')).toBe('x'.repeat(44));
    expect(secrets.get('idempotency-secret-previous')).toMatch(/^[A-Za-z0-9_-]{64}$/);
  });

  it('has the Key Vault references resolved now, refreshing until they are', async () => {
    azure = await startFakeAzure([
      ...armSecrets(
        new Map([
          ['idempotency-secret', 'a'.repeat(64)],
          ['idempotency-secret-previous', 'a'.repeat(64)],
        ]),
      ),
      ...references((refreshes) => (refreshes < 3 ? 'AccessToKeyVaultDenied' : 'Resolved')),
    ]);
    const run = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(run.code).toBe(0);
    expect(azure.seen('POST')).toEqual(
      Array(3).fill(`POST ${site}/config/configreferences/appsettings/refresh`),
    );
    expect(run.stdout).toContain(
      'Key Vault references resolved: IDEMPOTENCY_SECRET, IDEMPOTENCY_SECRET_PREVIOUS',
    );
  });

  it('goes on when the app has not started yet: its references are resolved at its first start, with the roles in place', async () => {
    azure = await startFakeAzure([...armSecrets(new Map()), ...references(() => 'Initialized')]);
    const run = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      "Key Vault references resolved: none yet; IDEMPOTENCY_SECRET, IDEMPOTENCY_SECRET_PREVIOUS at the app's first start",
    );
  });

  it('fails, naming each setting and why, when a reference never resolves', async () => {
    azure = await startFakeAzure([
      ...armSecrets(
        new Map([
          ['idempotency-secret', 'a'.repeat(64)],
          ['idempotency-secret-previous', 'a'.repeat(64)],
        ]),
      ),
      ...references(() => 'AccessToKeyVaultDenied'),
    ]);
    const run = await runHook('postprovision.mjs', azure, environment(azure.url));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'postprovision: resolving the Key Vault references of the app settings: not done after 3 s (IDEMPOTENCY_SECRET: AccessToKeyVaultDenied, Access to the vault denied; IDEMPOTENCY_SECRET_PREVIOUS: AccessToKeyVaultDenied',
    );
  });

  it('writes to the vault infra/modules/key-vault.bicep names, the secrets it names', async () => {
    const bicep = new BicepFile(path.join(root, 'infra', 'modules', 'key-vault.bicep'));
    const names = Object.fromEntries(
      bicep
        .declarations('var')
        .map((statement) => [statement.name, stringValue(bicep.valueOf(statement))]),
    );
    const { secretNames, referencingSettings } = await hookModule('idempotency-secret.mjs');
    expect(secretNames).toEqual({
      current: names.idempotencySecretName,
      previous: names.idempotencySecretPreviousName,
    });
    expect(referencingSettings).toEqual(['IDEMPOTENCY_SECRET', 'IDEMPOTENCY_SECRET_PREVIOUS']);
  });
});

/** The app's functions as Resource Manager lists them; the timers only once `synced` says. */
function functionsOf(site: string, listed: (syncs: number) => string[]): Route[] {
  let syncs = 0;
  return [
    [
      'POST',
      new RegExp(`^${site}/host/default/sync$`),
      () => {
        syncs += 1;
        return [200];
      },
    ],
    [
      'GET',
      new RegExp(`^${site}/functions$`),
      () => [
        200,
        {
          value: [
            { name: 'func-abc/health', bindings: ['httpTrigger'] },
            ...listed(syncs).map((name) => ({
              name: `func-abc/${name}`,
              bindings: ['timerTrigger'],
            })),
          ].map(({ name, bindings }) => ({
            name,
            type: 'Microsoft.Web/sites/functions',
            properties: {
              name: name.split('/')[1],
              config: { bindings: bindings.map((type) => ({ type, direction: 'in' })) },
            },
          })),
        },
      ],
    ],
  ];
}

const healthy = (answers: number[]): Route => {
  let asked = 0;
  return [
    'GET',
    /^\/app\/api\/health$/,
    () => {
      const status = answers[Math.min(asked++, answers.length - 1)]!;
      return [status, { status: status === 200 ? 'ok' : 'unavailable', degraded: [] }];
    },
  ];
};

const timerNames = timerFunctions.map(({ name }) => name);

describe('the postdeploy hook', () => {
  it('syncs the triggers again until Azure lists the five timers, then waits for /api/health', async () => {
    azure = await startFakeAzure([
      ...functionsOf(site, (syncs) => (syncs < 2 ? [] : timerNames)),
      ...references(() => 'Resolved'),
      healthy([503, 200]),
    ]);
    const run = await runHook('postdeploy.mjs', azure, environment(azure.url));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(azure.seen('POST')).toEqual([
      `POST ${site}/host/default/sync`,
      `POST ${site}/host/default/sync`,
      // The references resolved again, now that the app has code to start with.
      `POST ${site}/config/configreferences/appsettings/refresh`,
    ]);
    expect(run.stdout).toContain(
      `Triggers synced: the 5 timers are listed (${timerNames.join(', ')})`,
    );
    expect(run.stdout).toContain(`${azure.url}/app/api/health: ok`);
  });

  it('fails, naming it, when Azure never lists a timer', async () => {
    const missing = 'escalatePendingEnrollments';
    azure = await startFakeAzure([
      ...functionsOf(site, () => timerNames.filter((name) => name !== missing)),
      ...references(() => 'Resolved'),
      healthy([200]),
    ]);
    const run = await runHook('postdeploy.mjs', azure, environment(azure.url));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `postdeploy: listing the timers after syncing the triggers: not done after 3 s (not listed: ${missing})`,
    );
  });

  it('checks the timers of the function table, no more, no fewer', async () => {
    const { timers } = await hookModule('function-app.mjs');
    expect(timers).toEqual(timerNames);
  });

  it('fails when the app never answers /api/health with 200', async () => {
    azure = await startFakeAzure([
      ...functionsOf(site, () => timerNames),
      ...references(() => 'Resolved'),
      healthy([500]),
    ]);
    const run = await runHook('postdeploy.mjs', azure, environment(azure.url));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/postdeploy: GET .*\/app\/api\/health: not done after 3 s \(500 /);
  });
});

describe('the preprovision hook', () => {
  const registered: Route = [
    'GET',
    /^\/subscriptions\/[^/]+\/providers\/Microsoft\.[A-Za-z]+$/,
    () => [200, { registrationState: 'Registered' }],
  ];

  function deletedVaults(vaults: { name: string; env: string; location: string; group: string }[]) {
    const state = new Map<string, string>();
    const routes: Route[] = [
      registered,
      [
        'GET',
        /^\/subscriptions\/[^/]+\/providers\/Microsoft\.KeyVault\/deletedVaults$/,
        () => [
          200,
          {
            value: vaults.map(({ name, env, location, group: vaultGroup }) => ({
              name,
              type: 'Microsoft.KeyVault/deletedVaults',
              properties: {
                vaultId: `/subscriptions/${subscription}/resourceGroups/${vaultGroup}/providers/Microsoft.KeyVault/vaults/${name}`,
                location,
                tags: { 'azd-env-name': env },
                deletionDate: '2026-12-01T10:00:00Z',
                scheduledPurgeDate: '2026-12-08T10:00:00Z',
              },
            })),
          },
        ],
      ],
      [
        'GET',
        /^\/subscriptions\/[^/]+\/resourcegroups\/rg-test$/,
        () => (state.has('group') ? [200, {}] : [404]),
      ],
      [
        'PUT',
        /^\/subscriptions\/[^/]+\/resourcegroups\/rg-test$/,
        () => {
          state.set('group', 'created');
          return [201, {}];
        },
      ],
      [
        'GET',
        /^\/subscriptions\/[^/]+$/,
        () => [200, { tenantId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d' }],
      ],
      [
        'PUT',
        /^\/subscriptions\/[^/]+\/resourceGroups\/rg-test\/providers\/Microsoft\.KeyVault\/vaults\/([\w-]+)$/,
        (_call, [, name]) => {
          state.set(name!, 'Succeeded');
          return [200, { name, properties: { provisioningState: 'RegisteringDns' } }];
        },
      ],
      [
        'GET',
        /^\/subscriptions\/[^/]+\/resourceGroups\/rg-test\/providers\/Microsoft\.KeyVault\/vaults\/([\w-]+)$/,
        (_call, [, name]) =>
          state.has(name!)
            ? [200, { name, properties: { provisioningState: state.get(name!) } }]
            : [404],
      ],
    ];
    return routes;
  }

  it("recovers the environment's Key Vault that `azd down` left soft-deleted, in its resource group, with its secrets", async () => {
    azure = await startFakeAzure(
      deletedVaults([
        { name: 'kv-ours', env: 'test', location: 'westeurope', group: 'rg-test' },
        { name: 'kv-other-env', env: 'prod', location: 'westeurope', group: 'rg-prod' },
        { name: 'kv-other-region', env: 'test', location: 'northeurope', group: 'rg-test' },
      ]),
    );
    const run = await runHook('preprovision.mjs', azure, environment(azure.url));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const puts = azure.calls.filter((call) => call.method === 'PUT');
    expect(puts.map(({ path: put }) => put)).toEqual([
      `/subscriptions/${subscription}/resourcegroups/rg-test`,
      `/subscriptions/${subscription}/resourceGroups/rg-test/providers/Microsoft.KeyVault/vaults/kv-ours`,
    ]);
    expect(puts[0]!.body).toEqual({ location: 'westeurope', tags: { 'azd-env-name': 'test' } });
    expect(puts[1]!.body).toEqual({
      location: 'westeurope',
      tags: { 'azd-env-name': 'test' },
      properties: {
        tenantId: '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
        sku: { family: 'A', name: 'standard' },
        createMode: 'recover',
      },
    });
    expect(run.stdout).toContain('Key Vault kv-ours: recovered');
  });

  it('recovers nothing when no vault of the environment is deleted', async () => {
    azure = await startFakeAzure(
      deletedVaults([
        { name: 'kv-other-env', env: 'prod', location: 'westeurope', group: 'rg-prod' },
      ]),
    );
    const run = await runHook('preprovision.mjs', azure, environment(azure.url));
    expect(run.code).toBe(0);
    expect(azure.seen('PUT')).toEqual([]);
  });
});

describe('rotating IDEMPOTENCY_SECRET (infra/hooks/rotate-idempotency-secret.mjs)', () => {
  function keyVault(values: Map<string, string>, deniedReads: number): Route[] {
    let reads = 0;
    const assignments = new Map<string, unknown>();
    return [
      [
        'PUT',
        new RegExp(`^${vault}/providers/Microsoft.Authorization/roleAssignments/([\\w-]+)$`),
        (call, [, id]) => {
          assignments.set(id!, call.body);
          return [201, { id }];
        },
      ],
      [
        'DELETE',
        new RegExp(`^${vault}/providers/Microsoft.Authorization/roleAssignments/([\\w-]+)$`),
        (_call, [, id]) => (assignments.delete(id!) ? [200, {}] : [404]),
      ],
      [
        'GET',
        /^\/secrets\/([\w-]+)$/,
        (call, [, name]) => {
          if (call.token !== 'key-vault-token') return [401];
          if (reads++ < deniedReads) return [403, { error: { code: 'Forbidden' } }];
          return values.has(name!) ? [200, { value: values.get(name!) }] : [404];
        },
      ],
      [
        'PUT',
        /^\/secrets\/([\w-]+)$/,
        (call, [, name]) => {
          values.set(name!, call.body.value as string);
          return [200, { id: name }];
        },
      ],
      ...references(() => 'Resolved'),
    ];
  }
  const rotate = (args: string[] = []) =>
    runHook(
      'rotate-idempotency-secret.mjs',
      azure!,
      {},
      { args, azdEnvironment: environment(azure!.url) },
    );

  it('keeps the current secret as the previous one, writes a new random one, and removes the role it granted itself', async () => {
    const values = new Map([
      ['idempotency-secret', 'c'.repeat(64)],
      ['idempotency-secret-previous', 'c'.repeat(64)],
    ]);
    azure = await startFakeAzure(keyVault(values, 2));
    const run = await rotate();
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(values.get('idempotency-secret-previous')).toBe('c'.repeat(64));
    expect(values.get('idempotency-secret')).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(values.get('idempotency-secret')).not.toBe('c'.repeat(64));
    const [grant] = azure.calls.filter(
      (call: Call) => call.method === 'PUT' && call.path.includes('roleAssignments'),
    );
    expect(grant!.body.properties).toEqual({
      roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7`,
      principalId: signedInObjectId,
    });
    const order = azure.calls
      .filter((call) => call.method !== 'GET')
      .map(
        (call) => `${call.method} ${call.path.replace(vault, '{vault}').replace(site, '{site}')}`,
      );
    expect(order).toEqual([
      `PUT {vault}/providers/Microsoft.Authorization/roleAssignments/${grant!.path.split('/').pop()}`,
      'PUT /secrets/idempotency-secret-previous',
      'PUT /secrets/idempotency-secret',
      'POST {site}/config/configreferences/appsettings/refresh',
      `DELETE {vault}/providers/Microsoft.Authorization/roleAssignments/${grant!.path.split('/').pop()}`,
    ]);
    expect(run.stdout + run.stderr).not.toContain(values.get('idempotency-secret')!);
  });

  it('refuses to discard a previous secret unless told to, and removes its role all the same', async () => {
    const values = new Map([
      ['idempotency-secret', 'c'.repeat(64)],
      ['idempotency-secret-previous', 'p'.repeat(64)],
    ]);
    azure = await startFakeAzure(keyVault(values, 0));
    const run = await rotate();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('rotating again discards the secret before it');
    expect(values.get('idempotency-secret')).toBe('c'.repeat(64));
    expect(azure.seen('DELETE')).toHaveLength(1);

    const forced = await rotate(['--discard-previous']);
    expect(forced.code).toBe(0);
    expect(values.get('idempotency-secret-previous')).toBe('c'.repeat(64));
  });
});
