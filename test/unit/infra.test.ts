import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { azureHostMarkers, requiredSettingNames, settingNames } from '../../shared/config';
import {
  BicepFile,
  flatten,
  objectEntries,
  stringValue,
  valueAt,
  type Statement,
  type Token,
} from '../support/bicep';

// infra/ held to the code by reading the Bicep text; infra-compiled.test.ts reads what the real
// Bicep CLI compiles it to (npm run infra:build lints and compiles it first).
const root = path.resolve(__dirname, '../..');
const infra = path.join(root, 'infra');
const main = new BicepFile(path.join(infra, 'main.bicep'));

const moduleStatements = main.declarations('module');
const modulePath = (statement: Statement): string => path.resolve(infra, main.targetOf(statement));
const modules = new Map(
  moduleStatements
    .filter((statement) => existsSync(modulePath(statement)))
    .map((statement) => [statement.name, new BicepFile(modulePath(statement))]),
);

/** How main.bicep uses modules/<file>: its module statement and the module itself. */
function moduleUse(file: string): { statement: Statement; module: BicepFile } {
  const statement = moduleStatements.find(
    (candidate) => modulePath(candidate) === path.join(infra, 'modules', file),
  );
  const module = statement && modules.get(statement.name);
  if (!statement || !module) throw new Error(`main.bicep does not use modules/${file}`);
  return { statement, module };
}
const moduleFile = (file: string): BicepFile => moduleUse(file).module;
/** The tokens main.bicep passes to a module parameter. */
const passedTo = (file: string, parameter: string): Token[] | undefined =>
  valueAt(main.valueOf(moduleUse(file).statement), ['params', parameter]);
const everyFile = (): BicepFile[] => [main, ...modules.values()];
const relative = (file: string): string => path.relative(root, file);

const text = (tokens: Token[] | undefined): string =>
  (tokens ?? [])
    .map((token) => (token.kind === 'string' ? `'${token.text}'` : token.text))
    .join('');

/** The Function App's app settings: the properties of its `sites/config` 'appsettings'. */
function appSettings(): Map<string, Token[]> {
  const functionApp = moduleFile('function-app.bicep');
  const config = functionApp
    .resourcesOfType('Microsoft.Web/sites/config')
    .find(
      (statement) =>
        stringValue(valueAt(functionApp.valueOf(statement), ['name'])) === 'appsettings',
    );
  if (!config) throw new Error('function-app.bicep: no Microsoft.Web/sites/config appsettings');
  const properties = valueAt(functionApp.valueOf(config), ['properties'])!;
  return objectEntries(properties, 0);
}

describe('the Bicep reader the checks rely on', () => {
  it('finds an identifier read but never declared', () => {
    const file = new BicepFile(
      'inline.bicep',
      "param name string\nresource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: name\n  location: location\n  tags: { owner: owner }\n}\n",
    );
    expect(file.undeclaredReferences().sort()).toEqual(['location', 'owner']);
  });

  it('does not take property names, members, functions, loop variables or lambdas for references', () => {
    const file = new BicepFile(
      'inline.bicep',
      [
        "param items array\nparam csv string = ''",
        "var names = filter(map(split(csv, ','), item => trim(item)), (item, i) => !empty(item))",
        "resource all 'A/b@1' = [for (entry, index) in items: {",
        "  name: '${entry.name}-${index}'",
        '  properties: { size: entry.?size ?? 0, first: names[0], list: az.resourceGroup().id }',
        '}]',
      ].join('\n'),
    );
    expect(file.undeclaredReferences()).toEqual([]);
  });

  it('takes imported names and functions for declarations, and reads nothing in them', () => {
    const file = new BicepFile(
      'inline.bicep',
      [
        "import { isGuid, isEmail } from 'checks.bicep'",
        "func twice(value string) string => '${value}${value}'",
        'param id string',
        "var checked = isGuid(id) ? twice(id) : fail('not a GUID')",
        'output ok bool = isEmail(checked)',
      ].join('\n'),
    );
    expect(file.undeclaredReferences()).toEqual([]);
    expect(file.unusedParameters()).toEqual([]);
    expect(
      file.statements.filter((statement) => statement.keyword === 'import').map(({ name }) => name),
    ).toEqual(['isGuid', 'isEmail']);
  });

  it('reads nested property values and parameter defaults', () => {
    const file = new BicepFile(
      'inline.bicep',
      "param size int = 0\nparam name string\nresource x 'A/b@1' = {\n  properties: {\n    inner: { flag: true }\n  }\n}\n",
    );
    expect(
      text(
        valueAt(file.valueOf(file.declarations('resource')[0]!), ['properties', 'inner', 'flag']),
      ),
    ).toBe('true');
    expect(file.parameters().get('size')).toMatchObject({ hasDefault: true });
    expect(file.parameters().get('name')).toMatchObject({ hasDefault: false });
  });
});

describe('infra/main.bicep and its modules', () => {
  it('uses only module files that exist, and every file in infra/modules', () => {
    for (const statement of moduleStatements)
      expect(
        existsSync(modulePath(statement)),
        `module ${statement.name}: ${main.targetOf(statement)}`,
      ).toBe(true);
    const onDisk = readdirSync(path.join(infra, 'modules'))
      .filter((file) => file.endsWith('.bicep'))
      .map((file) => path.join(infra, 'modules', file));
    expect(onDisk.sort()).toEqual([...new Set(moduleStatements.map(modulePath))].sort());
  });

  it('declares every identifier it reads (parameters, variables, resources, modules)', () => {
    for (const file of everyFile())
      expect(file.undeclaredReferences(), `undeclared in ${relative(file.path)}`).toEqual([]);
  });

  it('reads every parameter it declares', () => {
    for (const file of everyFile())
      expect(file.unusedParameters(), `unused in ${relative(file.path)}`).toEqual([]);
  });

  it('passes each module its required parameters, and only parameters it declares', () => {
    for (const statement of moduleStatements) {
      const module = modules.get(statement.name)!;
      const passed = [...objectEntries(valueAt(main.valueOf(statement), ['params'])!, 0).keys()];
      const declared = module.parameters();
      const required = [...declared]
        .filter(([, { hasDefault }]) => !hasDefault)
        .map(([name]) => name);
      expect(
        passed.filter((name) => !declared.has(name)),
        `unknown to ${statement.name}`,
      ).toEqual([]);
      expect(
        required.filter((name) => !passed.includes(name)),
        `missing for ${statement.name}`,
      ).toEqual([]);
    }
  });

  it('is given, by main.parameters.json, every parameter without a default, and no other', () => {
    const file = JSON.parse(readFileSync(path.join(infra, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const given = Object.keys(file.parameters);
    const declared = main.parameters();
    expect(given.filter((name) => !declared.has(name))).toEqual([]);
    const required = [...declared]
      .filter(([, { hasDefault }]) => !hasDefault)
      .map(([name]) => name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
  });

  it('loads JSON only from files that exist', () => {
    for (const file of everyFile())
      for (const args of file.callsTo('loadJsonContent')) {
        const target = stringValue(args);
        expect(target, `${relative(file.path)}: loadJsonContent of a literal path`).toBeDefined();
        expect(existsSync(path.resolve(path.dirname(file.path), target!)), target).toBe(true);
      }
  });

  it('declares every resource the app runs on', () => {
    const types = new Set(
      everyFile().flatMap((file) =>
        file.declarations('resource').map((statement) => file.targetOf(statement).split('@')[0]),
      ),
    );
    for (const type of [
      'Microsoft.Resources/resourceGroups',
      'Microsoft.ManagedIdentity/userAssignedIdentities',
      'Microsoft.Web/serverfarms',
      'Microsoft.Web/sites',
      'Microsoft.Web/sites/config',
      'Microsoft.Storage/storageAccounts',
      'Microsoft.Storage/storageAccounts/blobServices/containers',
      'Microsoft.OperationalInsights/workspaces',
      'Microsoft.Insights/components',
      'Microsoft.Insights/scheduledQueryRules',
      'Microsoft.Insights/actionGroups',
      'Microsoft.DocumentDB/databaseAccounts',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases',
      'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers',
      'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments',
      'Microsoft.Communication/emailServices',
      'Microsoft.Communication/emailServices/domains',
      'Microsoft.Communication/communicationServices',
      'Microsoft.Authorization/roleAssignments',
      'Microsoft.Authorization/roleDefinitions',
      'Microsoft.KeyVault/vaults',
    ])
      expect(types, type).toContain(type);
  });

  it("outputs the app's URL, the Cosmos endpoint and the sender address", () => {
    const outputs = main.declarations('output').map((statement) => statement.name);
    expect(outputs).toEqual(expect.arrayContaining(['API_URL', 'COSMOS_ENDPOINT', 'EMAIL_SENDER']));
  });

  it('never reads an account key or connection string (no list* call)', () => {
    for (const file of everyFile()) {
      const tokens = flatten(file.tokens);
      const listCalls = tokens.filter(
        (token, index) =>
          token.kind === 'identifier' &&
          /^list/.test(token.text) &&
          tokens[index - 1]?.text === '.' &&
          tokens[index + 1]?.text === '(',
      );
      expect(
        listCalls.map((token) => token.text),
        relative(file.path),
      ).toEqual([]);
    }
  });
});

describe('the Function App module (Flex Consumption)', () => {
  const valueIn = (type: string, ...keys: string[]): string => {
    const functionApp = moduleFile('function-app.bicep');
    const [resource] = functionApp.resourcesOfType(type);
    if (!resource) throw new Error(`function-app.bicep declares no ${type}`);
    return text(valueAt(functionApp.valueOf(resource), keys));
  };
  const siteValue = (...keys: string[]): string => valueIn('Microsoft.Web/sites', ...keys);

  it('sets every setting shared/config.ts requires', () => {
    const names = [...appSettings().keys()];
    for (const name of requiredSettingNames()) expect(names, name).toContain(name);
  });

  it('sets only settings the app reads, or the Functions platform ones', () => {
    const known = new Set(settingNames());
    const platform = (name: string): boolean =>
      name === 'APPLICATIONINSIGHTS_CONNECTION_STRING' ||
      name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING' ||
      name === 'FUNCTIONS_REQUEST_BODY_SIZE_LIMIT' ||
      /^AzureWebJobsStorage__(accountName|credential|clientId|blobServiceUri|queueServiceUri|tableServiceUri)$/.test(
        name,
      );
    const unknown = [...appSettings().keys()].filter((name) => !known.has(name) && !platform(name));
    expect(unknown).toEqual([]);
  });

  it('runs in entra mode, with host storage by identity and no secret', () => {
    const settings = appSettings();
    expect(stringValue(settings.get('AUTH_MODE'))).toBe('entra');
    expect(stringValue(settings.get('AzureWebJobsStorage__credential'))).toBe('managedidentity');
    expect(text(settings.get('AzureWebJobsStorage__clientId'))).toBe('identityClientId');
    expect(text(settings.get('AZURE_CLIENT_ID'))).toBe('identityClientId');
    for (const name of ['AzureWebJobsStorage', 'COSMOS_KEY', 'ACS_CONNECTION_STRING'])
      expect(settings.has(name), name).toBe(false);
    for (const name of azureHostMarkers)
      expect(settings.has(name), `Azure sets ${name}, not the app`).toBe(false);
  });

  it('gives the idempotency secret and the one before it as Key Vault references, never their values', () => {
    const current = text(appSettings().get('IDEMPOTENCY_SECRET'));
    expect(current).toContain('@Microsoft.KeyVault(SecretUri=');
    expect(current).toContain('idempotencySecretUri');
    const previous = text(appSettings().get('IDEMPOTENCY_SECRET_PREVIOUS'));
    expect(previous).toContain('@Microsoft.KeyVault(SecretUri=');
    expect(previous).toContain('idempotencyPreviousSecretUri');
  });

  it('is a Linux app on the Flex Consumption plan, signing in with the user-assigned identity', () => {
    expect(valueIn('Microsoft.Web/serverfarms', 'sku', 'tier')).toBe("'FlexConsumption'");
    expect(valueIn('Microsoft.Web/serverfarms', 'sku', 'name')).toBe("'FC1'");
    expect(siteValue('kind')).toBe("'functionapp,linux'");
    expect(siteValue('identity', 'type')).toBe("'UserAssigned'");
    expect(siteValue('properties', 'keyVaultReferenceIdentity')).toBe('identityId');
    expect(siteValue('properties', 'httpsOnly')).toBe('true');
    expect(siteValue('properties', 'functionAppConfig', 'runtime', 'name')).toBe("'node'");
    const storage = (...keys: string[]): string =>
      siteValue(
        'properties',
        'functionAppConfig',
        'deployment',
        'storage',
        'authentication',
        ...keys,
      );
    expect(storage('type')).toBe("'UserAssignedIdentity'");
    expect(storage('userAssignedIdentityResourceId')).toBe('identityId');
  });

  it('deploys the Node major that npm test runs on and the bundle targets', () => {
    const tested = process.versions.node.split('.')[0]!;
    expect(siteValue('properties', 'functionAppConfig', 'runtime', 'version')).toBe(`'${tested}'`);
    // The options every bundle is built with (shared/local/build.mjs uses them).
    const build = readFileSync(path.join(root, 'shared', 'local', 'functions-bundle.mjs'), 'utf8');
    expect(/target: 'node(\d+)'/.exec(build)?.[1]).toBe(tested);
  });

  it('lets only the CORS_ORIGINS origins call the API on Azure: split, trimmed, no empty one, no wildcard, no credentials', () => {
    const functionApp = moduleFile('function-app.bicep');
    expect(siteValue('properties', 'siteConfig', 'cors', 'allowedOrigins')).toBe('allowedOrigins');
    expect(siteValue('properties', 'siteConfig', 'cors', 'supportCredentials')).toBe('false');
    const [origins] = functionApp
      .declarations('var')
      .filter((statement) => statement.name === 'allowedOrigins');
    expect(text(origins && functionApp.valueOf(origins))).toBe(
      "filter(map(split(corsOrigins,','),origin=>trim(origin)),origin=>!empty(origin))",
    );
    expect(text(passedTo('function-app.bicep', 'corsOrigins'))).toBe('checked.corsOrigins');
    const parameters = JSON.parse(
      readFileSync(path.join(root, 'infra', 'main.parameters.json'), 'utf8'),
    ) as { parameters: Record<string, { value: unknown }> };
    expect(parameters.parameters.corsOrigins).toEqual({ value: '${CORS_ORIGINS}' });
    for (const file of everyFile())
      expect(
        file.tokens.filter((token) => token.kind === 'string' && token.text.includes('*')),
        relative(file.path),
      ).toEqual([]);
  });

  it('is the app azd deploys the api service of azure.yaml to', () => {
    expect(siteValue('tags')).toContain("'azd-service-name':'api'");
    expect(readFileSync(path.join(root, 'azure.yaml'), 'utf8')).toMatch(/^services:\n {2}api:$/m);
  });
});

describe('the Cosmos DB module', () => {
  const cosmos = (): BicepFile => moduleFile('cosmos.bicep');
  const resource = (type: string): Statement => {
    const [statement] = cosmos().resourcesOfType(type);
    if (!statement) throw new Error(`cosmos.bicep declares no ${type}`);
    return statement;
  };
  const accountValue = (...keys: string[]): string =>
    text(valueAt(cosmos().valueOf(resource('Microsoft.DocumentDB/databaseAccounts')), keys));

  it('creates the containers from the JSON file the code imports', () => {
    const schema = path.join(root, 'shared/adapters/cosmos/schema.ts');
    const imported = /^import \w+ from '(\.\/[^']+\.json)';$/m.exec(
      readFileSync(schema, 'utf8'),
    )?.[1];
    expect(imported, 'schema.ts imports the container definition').toBeDefined();
    const definitionVariable = cosmos()
      .declarations('var')
      .find((statement) => {
        const [call, ...args] = cosmos().valueOf(statement);
        const target = stringValue(args.slice(1, -1));
        return (
          call?.text === 'loadJsonContent' &&
          target !== undefined &&
          path.resolve(path.dirname(cosmos().path), target) ===
            path.resolve(path.dirname(schema), imported!)
        );
      });
    expect(definitionVariable, 'a var = loadJsonContent(<the same file>)').toBeDefined();

    // [for <container> in <definition>.containers: { ... }], each field read from the JSON.
    const containers = cosmos().valueOf(
      resource('Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers'),
    );
    const [open, forKeyword, loopVariable, inKeyword, source, dot, field] = containers.filter(
      (token) => token.kind !== 'newline',
    );
    expect([open, forKeyword, inKeyword, source, dot, field].map((token) => token?.text)).toEqual([
      '[',
      'for',
      'in',
      definitionVariable!.name,
      '.',
      'containers',
    ]);
    const fields = text(valueAt(containers, ['properties', 'resource']));
    for (const key of ['id', 'partitionKey', 'indexingPolicy', 'uniqueKeys', 'defaultTtl'])
      expect(fields, key).toMatch(new RegExp(`\\b${loopVariable!.text}\\.\\??${key}\\b`));
    const database = resource('Microsoft.DocumentDB/databaseAccounts/sqlDatabases');
    expect(text(valueAt(cosmos().valueOf(database), ['name']))).toBe(
      `${definitionVariable!.name}.database`,
    );
  });

  it('disables local (key) auth', () => {
    expect(accountValue('properties', 'disableLocalAuth')).toBe('true');
  });

  it('is serverless unless an autoscale throughput is given', () => {
    expect(accountValue('properties', 'capabilities')).toContain("'EnableServerless'");
    const throughput = cosmos().parameters().get('autoscaleMaxThroughput');
    expect(text(throughput?.defaultValue), 'the module defaults to 0: serverless').toBe('0');
    const passed = text(passedTo('cosmos.bicep', 'autoscaleMaxThroughput'));
    expect(passed).toBe('cosmosAutoscaleMaxThousandRUs*1000');
    expect(
      text(main.parameters().get('cosmosAutoscaleMaxThousandRUs')?.defaultValue),
      "main.bicep's cosmosAutoscaleMaxThousandRUs",
    ).toBe('0');
  });
});

describe("the app identity's access", () => {
  const literals = (): Set<string> =>
    new Set(
      flatten(moduleFile('access.bicep').tokens)
        .filter((token) => token.kind === 'string')
        .map((token) => token.text),
    );

  it.each([
    ['Storage Blob Data Owner', 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'],
    ['Storage Table Data Contributor', '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'],
    ['Monitoring Metrics Publisher', '3913510d-42f4-4e42-8a64-420c390055eb'],
    ['Cosmos DB Built-in Data Contributor', '00000000-0000-0000-0000-000000000002'],
    ['Key Vault Secrets User', '4633458b-17de-408a-b874-0445c86b69e6'],
  ])('includes %s', (_role, id) => {
    expect(literals()).toContain(id);
  });

  it('is granted to the user-assigned identity, and the app is created only once it is', () => {
    expect(text(passedTo('access.bicep', 'principalId'))).toBe('identity.outputs.principalId');
    expect(moduleUse('identity.bicep').statement.name).toBe('identity');
    const functionApp = moduleUse('function-app.bicep').statement;
    expect(text(valueAt(main.valueOf(functionApp), ['dependsOn']))).toBe('[access]');
    expect(text(passedTo('function-app.bicep', 'identityId'))).toBe('identity.outputs.id');
    expect(text(passedTo('function-app.bicep', 'identityClientId'))).toBe(
      'identity.outputs.clientId',
    );
  });
});

describe('npm run infra:build', () => {
  /** A PATH with node alone (no bicep, az or dotnet) and an empty tools folder. */
  const nothingToCompileWith = (): Record<string, string> => {
    const bin = mkdtempSync(path.join(tmpdir(), 'node-only-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    return { PATH: bin, INFRA_TOOLS_DIR: mkdtempSync(path.join(tmpdir(), 'no-bicep-')) };
  };

  it('says plainly that infra/ was not compiled when no Bicep CLI, Azure CLI or .NET SDK is found', () => {
    const result = spawnSync(process.execPath, [path.join(infra, 'build.mjs')], {
      encoding: 'utf8',
      env: nothingToCompileWith(),
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('infra:build: NOT COMPILED');
    expect(result.stdout).toContain(
      'neither the Bicep CLI (`bicep`) nor the Azure CLI (`az`) is on PATH',
    );
  });

  it('fails under CI when it cannot compile', () => {
    const result = spawnSync(process.execPath, [path.join(infra, 'build.mjs')], {
      encoding: 'utf8',
      env: { ...nothingToCompileWith(), CI: 'true' },
    });
    expect(result.status).toBe(1);
  });

  it('runs in npm test and in CI', () => {
    const scripts = (
      JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts;
    expect(scripts['test']).toContain('npm run infra:build');
    expect(readFileSync(path.join(root, '.ci/run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
