import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { timerFunctions } from '../../functions/timers';
import { loadConfig } from '../../shared/config';
import { hostBodyLimitBytes, maxBodyBytes } from '../../shared/http/define';
import { loggedFields } from '../support/logged-fields';
import {
  allResources,
  buildParams,
  compiledMain,
  moduleTemplate,
  resourcesOf,
  snapshot,
  temporaryBicep,
  withVariables,
  type ArmResource,
  type ArmTemplate,
  type BicepResult,
  type PlacedResource,
  type Snapshot,
} from '../support/arm';
import { runHook, startFakeAzure } from '../support/fake-azure';

// infra/ as the real Bicep CLI compiles it (npm run infra:build lints it clean first): what
// Azure receives, and what Bicep refuses before anything is deployed.
const root = path.resolve(__dirname, '../..');

let template: ArmTemplate;
let resources: PlacedResource[];
beforeAll(() => {
  template = compiledMain();
  resources = allResources(template);
});

const ofType = (type: string): PlacedResource[] =>
  resources.filter((resource) => resource.type.toLowerCase() === type.toLowerCase());
const appSettings = (): Record<string, string> => {
  const [config] = ofType('Microsoft.Web/sites/config');
  if (!config) throw new Error('no Microsoft.Web/sites/config');
  return config.properties as Record<string, string>;
};
const roleAssignments = (): PlacedResource[] => ofType('Microsoft.Authorization/roleAssignments');
const roleIdOf = (assignment: PlacedResource): string =>
  withVariables(String(assignment.properties.roleDefinitionId), assignment.template);
const deploymentOf = (name: string): ArmResource => {
  const found = resourcesOf(template).find(
    (resource) => resource.type === 'Microsoft.Resources/deployments' && resource.name === name,
  );
  if (!found) throw new Error(`no module ${name}`);
  return found;
};
/** The modules a module waits for (its dependsOn, symbolic names, read as module names). */
const modulesBefore = (name: string): string[] => {
  const byName = template.resources as Record<string, ArmResource>;
  return ((deploymentOf(name).dependsOn ?? []) as string[])
    .map((symbol) => byName[symbol])
    .filter((resource) => resource?.type === 'Microsoft.Resources/deployments')
    .map((resource) => resource!.name);
};

/** Every parameter azd must give, valid: the lines of a .bicepparam for main.bicep. */
const validParameters = [
  "param environmentName = 'test'",
  "param location = 'westeurope'",
  "param authAudience = '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b'",
  "param operatorTenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47'",
  "param reviewersEmail = 'reviewers@contoso.example'",
  "param alertEmail = 'operators@contoso.example'",
];
const withParameter = (line: string): string[] => {
  const name = line.split(' ')[1];
  return [...validParameters.filter((valid) => valid.split(' ')[1] !== name), line];
};
let deployed: Snapshot;
beforeAll(() => {
  const result = snapshot(validParameters);
  if (!result.snapshot) throw new Error(`bicep snapshot failed:\n${result.output}`);
  deployed = result.snapshot;
});
const predicted = (type: string): ArmResource[] =>
  deployed.predictedResources.filter((resource) => resource.type === type);

describe('the email domain (infra/modules/communication.bicep)', () => {
  it('creates a customer-managed domain when emailCustomDomain is given, and outputs the DNS records to create', () => {
    const domains = ofType('Microsoft.Communication/emailServices/domains');
    const own = domains.find((domain) => domain.properties.domainManagement === 'CustomerManaged');
    expect(own, 'a CustomerManaged domain').toBeDefined();
    expect(String(own!.condition)).toContain("parameters('customDomain')");
    expect(template.parameters.emailCustomDomain).toMatchObject({
      type: 'string',
      defaultValue: '',
    });
    expect(template.outputs.EMAIL_DNS_RECORDS).toMatchObject({ type: 'object' });
    const communication = moduleTemplate(template, 'communication');
    expect(String(communication.outputs.dnsRecords.value)).toContain('verificationRecords');
  });

  it('sends as DoNotReply, the sender every domain comes with: no sender username on a domain not yet verified', () => {
    expect(ofType('Microsoft.Communication/emailServices/domains/senderUsernames')).toEqual([]);
    const sender = String(moduleTemplate(template, 'communication').outputs.senderAddress.value);
    expect(sender).toMatch(/^\[format\('DoNotReply@\{0\}', if\(variables\('useCustomDomain'\),/);
    const [config] = predicted('Microsoft.Web/sites/config');
    expect(config!.properties.EMAIL_SENDER).toMatch(
      /^\[format\('DoNotReply@\{0\}', reference\('.*\/domains\/AzureManagedDomain', '[\d-]+'\)\.mailFromSenderDomain\)\]$/,
    );
  });

  it('sends from the custom domain once it is verified, and from the Azure-managed one (trials) until then', () => {
    const [service] = ofType('Microsoft.Communication/communicationServices');
    const linked = JSON.stringify(service!.properties.linkedDomains);
    expect(linked).toContain("variables('useCustomDomain')");
    const managed = ofType('Microsoft.Communication/emailServices/domains').find(
      (domain) => domain.properties.domainManagement === 'AzureManaged',
    );
    expect(String(managed!.condition)).toContain("not(variables('useCustomDomain'))");
    expect(template.parameters.emailCustomDomainVerified).toMatchObject({
      type: 'bool',
      defaultValue: false,
    });
  });
});

describe('telemetry (infra/modules/monitoring.bicep)', () => {
  it('accepts Application Insights telemetry only with Entra ID: local auth off, the host signs in, no key anywhere', () => {
    const [component] = ofType('Microsoft.Insights/components');
    expect(component!.properties.DisableLocalAuth).toBe(true);
    const settings = appSettings();
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      "[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
    );
    expect(Object.keys(settings).filter((name) => /INSTRUMENTATIONKEY/i.test(name))).toEqual([]);
    const publisher = roleAssignments().find((assignment) =>
      roleIdOf(assignment).includes('3913510d-42f4-4e42-8a64-420c390055eb'),
    );
    expect(publisher, 'Monitoring Metrics Publisher').toBeDefined();
    expect(String(publisher!.scope)).toContain('Microsoft.Insights/components');
  });
});

describe('parameters Azure would refuse at deploy time', () => {
  let refused: BicepResult;
  let accepted: BicepResult;
  beforeAll(() => {
    refused = buildParams([
      ...withParameter("param location = 'westindia'").filter(
        (line) => !line.startsWith('param authAudience'),
      ),
      'param cosmosAutoscaleMaxThousandRUs = -1',
      "param authAudience = 'api://5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b'",
    ]);
    accepted = buildParams([...validParameters, 'param cosmosAutoscaleMaxThousandRUs = 4']);
  });

  it('are refused by Bicep: a region without Flex Consumption', () => {
    expect(refused.status).not.toBe(0);
    expect(refused.diagnostics.some((line) => /BCP033.*'westindia'/.test(line))).toBe(true);
  });

  it('are refused by Bicep: an autoscale maximum under 1000 RU/s or not a multiple of 1000 cannot be written', () => {
    expect(refused.diagnostics.some((line) => /BCP328/.test(line))).toBe(true);
    expect(template.parameters.cosmosAutoscaleMaxThousandRUs).toMatchObject({
      type: 'int',
      minValue: 0,
    });
    const deployment = resourcesOf(template).find((resource) => resource.name === 'cosmos')!;
    expect(deployment.properties.parameters.autoscaleMaxThroughput.value).toBe(
      "[mul(parameters('cosmosAutoscaleMaxThousandRUs'), 1000)]",
    );
  });

  it('are refused by Bicep: an Application ID URI where AUTH_AUDIENCE takes a client id (36 characters)', () => {
    expect(
      refused.diagnostics.some((line) => /BCP332.*maximum allowable length is 36/.test(line)),
    ).toBe(true);
  });

  it('accepts a Flex Consumption region and an autoscale maximum in thousands', () => {
    expect(accepted.diagnostics).toEqual([]);
    expect(accepted.status).toBe(0);
  });
});

describe('settings refused before anything is created (infra/checks.bicep)', () => {
  // Each setting azd passes, its Bicep parameter, and the config rule it must hold to.
  const checkedSettings = [
    ['AUTH_AUDIENCE', 'authAudience', 'isGuid'],
    ['OPERATOR_TENANT_ID', 'operatorTenantId', 'isGuid'],
    ['REVIEWERS_EMAIL', 'reviewersEmail', 'isEmail'],
    ['ALERT_EMAIL', 'alertEmail', 'isEmail'],
    ['PORTAL_BASE_URL', 'portalBaseUrl', 'isHttpsUrl'],
    ['CORS_ORIGINS', 'corsOrigins', 'isOrigin'],
    ['EMAIL_CUSTOM_DOMAIN', 'emailCustomDomain', 'isDomainName'],
    ['EMAIL_CUSTOM_DOMAIN_VERIFIED', 'emailCustomDomainVerified', ''],
  ] as const;
  const samples = [
    '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
    '5B1E9F3A-2C4D-4E6F-8A0B-1C2D3E4F5A6B',
    '00000000-0000-0000-0000-000000000000',
    '00000000-0000-0000-0000-0000000000ff',
    '5b1e9f3a-2c4d-0e6f-8a0b-1c2d3e4f5a6b',
    '5b1e9f3a-2c4d-4e6f-0a0b-1c2d3e4f5a6b',
    '5b1e9f3a2c4d4e6f8a0b1c2d3e4f5a6b',
    '{5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6}',
    'api://5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
    'reviewers@contoso.example',
    'first.last+tag@mail.contoso.com',
    "o'brien@contoso.com",
    "obrien'@contoso.com",
    'a@b-.com',
    'a@-b.com',
    'a..b@contoso.com',
    '.a@contoso.com',
    'a@contoso',
    'a@contoso.c',
    'a b@contoso.com',
    'a@b@contoso.com',
    'é@contoso.com',
    'mail.contoso.com',
    'contoso',
    '-mail.contoso.com',
    'https://portal.contoso.example',
    'https://portal.contoso.example:8443/partners/',
    'http://portal.contoso.example',
    'https://*.contoso.example',
    'http://localhost:3000',
    'https://',
    '',
  ];
  let evaluated: Record<string, boolean[]>;
  beforeAll(() => {
    const checks = path.join(root, 'infra', 'checks.bicep');
    const file = temporaryBicep([]);
    const using = path.relative(path.dirname(file), checks).split(path.sep).join('/');
    writeFileSync(
      file,
      [
        `import { isDomainName, isEmail, isGuid, isHttpsUrl, isOrigin } from '${using}'`,
        'param samples string[]',
        ...['isGuid', 'isEmail', 'isHttpsUrl', 'isOrigin', 'isDomainName'].map(
          (check) => `output ${check} array = map(samples, sample => ${check}(sample))`,
        ),
      ].join('\n'),
    );
    // Bicep string literals: ' and \ escaped with a backslash.
    const literal = (value: string): string => `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
    const result = snapshot([`param samples = [${samples.map(literal).join(', ')}]`], file);
    if (!result.snapshot) throw new Error(`bicep snapshot failed:\n${result.output}`);
    evaluated = result.snapshot.outputs as Record<string, boolean[]>;
  });
  const accepted = (check: string): string[] =>
    samples.filter((_sample, index) => evaluated[check]![index]);
  const configAccepts = (settings: Record<string, string>): boolean => {
    try {
      loadConfig({
        COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
        AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
        IDEMPOTENCY_SECRET: 'x'.repeat(43),
        ...settings,
      });
      return true;
    } catch {
      return false;
    }
  };

  it('take as a GUID exactly what shared/config.ts takes for AUTH_AUDIENCE and OPERATOR_TENANT_ID', () => {
    expect(accepted('isGuid')).toEqual(
      samples.filter((sample) => configAccepts({ AUTH_AUDIENCE: sample })),
    );
    expect(accepted('isGuid')).toEqual(
      samples.filter((sample) => configAccepts({ OPERATOR_TENANT_ID: sample })),
    );
    expect(accepted('isGuid')).toContain('5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b');
  });

  it('take as an email address exactly what shared/config.ts takes for REVIEWERS_EMAIL', () => {
    expect(accepted('isEmail')).toEqual(
      samples.filter((sample) => configAccepts({ REVIEWERS_EMAIL: sample })),
    );
    expect(accepted('isEmail')).toEqual(
      samples.filter((sample) => z.email().safeParse(sample).success),
    );
    expect(accepted('isEmail')).toContain("o'brien@contoso.com");
  });

  it('take as PORTAL_BASE_URL only https addresses shared/config.ts takes too', () => {
    expect(accepted('isHttpsUrl')).toEqual([
      'https://portal.contoso.example',
      'https://portal.contoso.example:8443/partners/',
    ]);
    for (const url of accepted('isHttpsUrl'))
      expect(configAccepts({ PORTAL_BASE_URL: url }), url).toBe(true);
  });

  it('take as a CORS origin https://host[:port] or http://localhost[:port], no path, no wildcard', () => {
    expect(accepted('isOrigin')).toEqual([
      'https://portal.contoso.example',
      'http://localhost:3000',
    ]);
  });

  it('take as EMAIL_CUSTOM_DOMAIN a domain name only', () => {
    expect(accepted('isDomainName')).toEqual(['mail.contoso.com']);
  });

  it('run on every setting before its value is used: each goes through its check and a fail() naming it', () => {
    const checked = template.variables?.checked as Record<string, string>;
    for (const [setting, parameter, check] of checkedSettings) {
      const expression = checked[parameter]!;
      expect(expression, parameter).toMatch(/^\[if\(/);
      if (check) expect(expression, parameter).toContain(`__bicep.${check}(`);
      expect(expression, parameter).toContain(`fail('${setting} `);
    }
    // The modules read the checked values only, never a parameter as given.
    for (const resource of resourcesOf(template).filter(
      (candidate) => candidate.type === 'Microsoft.Resources/deployments',
    )) {
      const given = JSON.stringify(resource.properties.parameters ?? {});
      for (const [, parameter] of checkedSettings)
        expect(given, `${resource.name} reads ${parameter}`).not.toContain(
          `parameters('${parameter}')`,
        );
    }
  });

  it.each([
    ['AUTH_AUDIENCE', "param authAudience = '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6g'"],
    [
      'CORS_ORIGINS',
      "param corsOrigins = 'https://portal.contoso.example, https://*.contoso.example'",
    ],
    ['EMAIL_CUSTOM_DOMAIN_VERIFIED', 'param emailCustomDomainVerified = true'],
  ])(
    'stop a deployment with %s malformed, naming it, before anything is created',
    (setting, line) => {
      const result = snapshot(withParameter(line));
      expect(result.status).not.toBe(0);
      expect(result.snapshot).toBeUndefined();
      expect(result.output).toContain(`The template variable 'checked' is not valid: ${setting} `);
    },
  );
});

describe('the Function App settings', () => {
  it("set the host's body limit well above the app's, so a body over 64 KiB reaches the app and gets its 413 problem+json, not the host's empty 500", () => {
    expect(appSettings().FUNCTIONS_REQUEST_BODY_SIZE_LIMIT).toBe(String(hostBodyLimitBytes));
    expect(hostBodyLimitBytes).toBeGreaterThanOrEqual(64 * maxBodyBytes);
  });

  it('pass no worker arguments, which would restart the pre-warmed worker at each cold start', () => {
    expect(Object.keys(appSettings()).filter((name) => /^languageWorkers__/i.test(name))).toEqual(
      [],
    );
  });
});

describe("the app identity's roles", () => {
  it('are only those the app uses: host blobs and tables, telemetry, sending email, its secrets (no queue)', () => {
    const roles = roleAssignments().map(roleIdOf).join('\n');
    expect(roles).toContain('b7e6dc6d-f1e8-4753-8033-0f276bb0955b'); // Storage Blob Data Owner
    expect(roles).toContain('0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'); // Storage Table Data Contributor
    expect(roles).toContain('3913510d-42f4-4e42-8a64-420c390055eb'); // Monitoring Metrics Publisher
    expect(roles).toContain("parameters('emailSenderRoleId')"); // the custom email sender role
    expect(roles).toContain('4633458b-17de-408a-b874-0445c86b69e6'); // Key Vault Secrets User
    expect(roleAssignments()).toHaveLength(5);
    // Anywhere: a role id kept in a variable for later would show up here too.
    const everything = JSON.stringify(template);
    expect(everything).not.toContain('974c5e8b-45b9-4653-ba55-5f855dd0fb88'); // Storage Queue Data Contributor
    expect(everything).not.toContain('09976791-48a7-449e-bb21-39d1a415f350'); // Communication and Email Service Owner
  });

  it('send email with a custom role holding only the three actions Microsoft documents for it, assignable in the resource group alone', () => {
    const [role] = ofType('Microsoft.Authorization/roleDefinitions');
    expect(role!.properties.permissions).toEqual([
      {
        actions: [
          'Microsoft.Communication/CommunicationServices/Read',
          'Microsoft.Communication/CommunicationServices/Write',
          'Microsoft.Communication/EmailServices/write',
        ],
        notActions: [],
      },
    ]);
    expect(role!.properties.assignableScopes).toEqual(["[parameters('resourceGroupId')]"]);
    expect(deploymentOf('email-sender-role').properties.parameters.resourceGroupId.value).toBe(
      "[subscriptionResourceId('Microsoft.Resources/resourceGroups', if(not(empty(parameters('resourceGroupName'))), parameters('resourceGroupName'), format('rg-{0}', parameters('environmentName'))))]",
    );
    const [assignment] = predicted('Microsoft.Authorization/roleDefinitions');
    expect(assignment!.properties.roleName).toMatch(/^Email sender of acs-[a-z0-9]{13}$/);
    expect(deploymentOf('access').properties.parameters.emailSenderRoleId.value).toBe(
      "[reference('emailSenderRole').outputs.id.value]",
    );
  });

  it('are all granted to the user-assigned identity, created first, and held before the Function App exists', () => {
    expect(modulesBefore('identity')).toEqual([]);
    expect(modulesBefore('access')).toContain('identity');
    expect(modulesBefore('access')).not.toContain('function-app');
    expect(modulesBefore('function-app')).toContain('access');
    expect(deploymentOf('access').properties.parameters.principalId.value).toContain(
      "[reference('identity').outputs.principalId.value]",
    );
    for (const assignment of [
      ...roleAssignments(),
      ...ofType('Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments'),
    ])
      expect(assignment.properties.principalId, assignment.name).toBe(
        "[parameters('principalId')]",
      );
    for (const assignment of roleAssignments())
      expect(assignment.properties.principalType).toBe('ServicePrincipal');
  });
});

describe('the Function App signs in with the user-assigned identity', () => {
  const site = (): ArmResource => predicted('Microsoft.Web/sites')[0]!;
  const settings = (): Record<string, string> =>
    predicted('Microsoft.Web/sites/config')[0]!.properties as Record<string, string>;
  const identityClientId =
    /^\[reference\('\/subscriptions\/[^']+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/id-[a-z0-9]{13}', '[\d-]+'\)\.clientId\]$/;

  it('as its only identity, for its Key Vault references too', () => {
    expect(site().identity.type).toBe('UserAssigned');
    expect(Object.keys(site().identity.userAssignedIdentities as object)).toEqual([
      expect.stringMatching(/\/userAssignedIdentities\/id-[a-z0-9]{13}$/),
    ]);
    expect(site().properties.keyVaultReferenceIdentity).toMatch(
      /\/userAssignedIdentities\/id-[a-z0-9]{13}$/,
    );
  });

  it('to read the package Flex Consumption deploys, and the host storage: blobs and tables', () => {
    expect(site().properties.functionAppConfig.deployment.storage.authentication).toEqual({
      type: 'UserAssignedIdentity',
      userAssignedIdentityResourceId: expect.stringMatching(
        /\/userAssignedIdentities\/id-[a-z0-9]{13}$/,
      ),
    });
    expect(settings().AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(settings().AzureWebJobsStorage__clientId).toMatch(identityClientId);
    expect(settings().AzureWebJobsStorage__blobServiceUri).toMatch(/\.primaryEndpoints\.blob\]$/);
    expect(settings().AzureWebJobsStorage__tableServiceUri).toMatch(/\.primaryEndpoints\.table\]$/);
  });

  it('for its own calls (AZURE_CLIENT_ID) and its telemetry', () => {
    expect(settings().AZURE_CLIENT_ID).toMatch(identityClientId);
    expect(settings().APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toMatch(
      /^\[format\('ClientId=\{0\};Authorization=AAD', reference\('.*\/userAssignedIdentities\/id-[a-z0-9]{13}', '[\d-]+'\)\.clientId\)\]$/,
    );
  });

  it('on the Node.js major the tests run on', () => {
    expect(site().properties.functionAppConfig.runtime).toEqual({
      name: 'node',
      version: process.versions.node.split('.')[0],
    });
  });
});

describe('IDEMPOTENCY_SECRET in Key Vault', () => {
  it('is never in the template: no parameter, no secret resource, so a provision cannot rewrite it', () => {
    expect(Object.keys(template.parameters).filter((name) => /secret/i.test(name))).toEqual([]);
    expect(ofType('Microsoft.KeyVault/vaults/secrets')).toEqual([]);
    expect(
      Object.values(template.parameters).filter((parameter) => /secure/.test(parameter.type)),
    ).toEqual([]);
  });

  it('is read by the app, with the secret before its rotation, through Key Vault references without a version', () => {
    const [config] = predicted('Microsoft.Web/sites/config');
    for (const [setting, secret] of [
      ['IDEMPOTENCY_SECRET', 'idempotency-secret'],
      ['IDEMPOTENCY_SECRET_PREVIOUS', 'idempotency-secret-previous'],
    ] as const) {
      const value = String(config!.properties[setting]);
      expect(value).toMatch(/^\[format\('@Microsoft\.KeyVault\(SecretUri=\{0\}\)', /);
      expect(value).toMatch(
        new RegExp(`/vaults/kv-[a-z0-9]{13}', '[\\d-]+'\\)\\.vaultUri, '${secret}'\\)\\)\\]$`),
      );
    }
  });

  it('lives in a vault the hooks find by the outputs azd saves', () => {
    expect(template.outputs).toMatchObject({
      AZURE_KEY_VAULT_NAME: { type: 'string' },
      AZURE_KEY_VAULT_ENDPOINT: { type: 'string' },
      AZURE_FUNCTION_APP_NAME: { type: 'string' },
      AZURE_RESOURCE_GROUP: { type: 'string' },
    });
    const [vault] = ofType('Microsoft.KeyVault/vaults');
    expect(vault!.properties).toMatchObject({
      enableRbacAuthorization: true,
      enableSoftDelete: true,
      softDeleteRetentionInDays: 7,
    });
    expect(vault!.properties.enablePurgeProtection).toBeUndefined();
  });
});

describe('the azd hooks (azure.yaml)', () => {
  it('are declared for posix and windows, each one script run with node', () => {
    const azureYaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');
    const hooks = azureYaml.split(/^hooks:$/m)[1] ?? '';
    const declared = [...hooks.matchAll(/^ {2}(\w+):\n((?: {4,}.*\n?)*)/gm)].map(
      ([, name, body]) => [name, [...body!.matchAll(/^ +run: (.+)$/gm)].map((run) => run[1])],
    );
    expect(declared).toEqual(
      ['preprovision', 'postprovision', 'postdeploy'].map((name) => [
        name,
        [`node infra/hooks/${name}.mjs`, `node infra/hooks/${name}.mjs`],
      ]),
    );
  });

  it('register, before provisioning, every resource provider the template uses, Microsoft.App (Flex Consumption) included', async () => {
    // Microsoft.App and Microsoft.Communication never registered on this subscription.
    const state = new Map<string, string>();
    const azure = await startFakeAzure([
      [
        'GET',
        /^\/subscriptions\/sub-1\/providers\/([\w.]+)$/,
        (_call, [, namespace]) => [
          200,
          {
            namespace,
            registrationState:
              state.get(namespace!) ??
              (['Microsoft.App', 'Microsoft.Communication'].includes(namespace!)
                ? 'NotRegistered'
                : 'Registered'),
          },
        ],
      ],
      [
        'POST',
        /^\/subscriptions\/sub-1\/providers\/([\w.]+)\/register$/,
        (_call, [, namespace]) => {
          state.set(namespace!, 'Registered');
          return [200, {}];
        },
      ],
    ]);
    try {
      const run = await runHook('preprovision.mjs', azure, { AZURE_SUBSCRIPTION_ID: 'sub-1' });
      expect(run.stderr).toBe('');
      expect(azure.seen('POST').sort()).toEqual([
        'POST /subscriptions/sub-1/providers/Microsoft.App/register',
        'POST /subscriptions/sub-1/providers/Microsoft.Communication/register',
      ]);
      expect(run.stdout).toContain('Microsoft.App: registered');
      const read = new Set(azure.seen('GET').map((call) => call.split('/')[4]!.toLowerCase()));
      const used = new Set(
        resources
          .map((resource) => resource.type.split('/')[0]!.toLowerCase())
          .filter(
            (namespace) => !['microsoft.resources', 'microsoft.authorization'].includes(namespace),
          ),
      );
      for (const namespace of [...used, 'microsoft.app'])
        expect(read, namespace).toContain(namespace);
    } finally {
      await azure.close();
    }
  });
});

describe('the send budget in Azure', () => {
  it('is the ACS quota of the domain sent from, unless raised: 5 and 10 on the Azure-managed domain, 30 and 100 on a custom one', () => {
    const settings = appSettings();
    expect(settings.EMAIL_SENDS_PER_MINUTE).toBe("[string(parameters('emailSendsPerMinute'))]");
    expect(settings.EMAIL_SENDS_PER_HOUR).toBe("[string(parameters('emailSendsPerHour'))]");
    expect(template.variables).toMatchObject({
      customDomainQuota: { perMinute: 30, perHour: 100 },
      managedDomainQuota: { perMinute: 5, perHour: 10 },
    });
    expect(template.variables?.emailQuota).toBe(
      "[if(variables('checked').emailCustomDomainVerified, variables('customDomainQuota'), variables('managedDomainQuota'))]",
    );
    const functionApp = resourcesOf(template).find((resource) => resource.name === 'function-app')!;
    expect(functionApp.properties.parameters.emailSendsPerMinute).toBe(
      "[if(greater(parameters('emailSendsPerMinute'), 0), createObject('value', parameters('emailSendsPerMinute')), createObject('value', variables('emailQuota').perMinute))]",
    );
  });
});

describe('alerts (infra/modules/alerts.bicep)', () => {
  interface AlertRule {
    key: string;
    displayName: string;
    frequency: string;
    window: string;
    lookback: string;
    query: string[];
  }
  const minutes = (duration: string): number => {
    const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(duration);
    if (!match) throw new Error(`not an ISO 8601 duration: ${duration}`);
    const [, days, hours, mins] = match.map((part) => Number(part ?? 0));
    return days! * 1440 + hours! * 60 + mins!;
  };
  const rule = (key: string): AlertRule => rules().find((candidate) => candidate.key === key)!;
  const alerts = () => moduleTemplate(template, 'alerts');
  /** The rules as compiled: alert-rules.json, inlined by loadJsonContent as a literal. */
  const rules = (): AlertRule[] =>
    (
      Object.values(alerts().variables ?? {}).find((value): value is { rules: AlertRule[] } =>
        Array.isArray(value?.rules),
      ) ?? { rules: [] }
    ).rules;
  const queryOf = (rule: AlertRule): string => rule.query.join('\n');

  it('has a scheduled-query rule for a stale timer, emails and events failed for good, a backed-up outbox, the 5xx rate and Cosmos throttling', () => {
    expect(
      rules()
        .map((rule) => rule.key)
        .sort(),
    ).toEqual(
      [
        'stale-timer',
        'emails-failed',
        'events-failed',
        'emails-backed-up',
        'events-backed-up',
        'http-5xx',
        'cosmos-throttling',
      ].sort(),
    );
    const [rule] = ofType('Microsoft.Insights/scheduledQueryRules');
    expect(rule!.copy).toEqual({ name: 'alertRules', count: "[length(variables('rules'))]" });
    expect(rule!.properties.criteria.allOf[0].query).toBe(
      "[replace(join(variables('rules')[copyIndex()].query, '\n'), '{deployedAt}', parameters('deployedAt'))]",
    );
    expect(rule!.properties.scopes).toEqual(["[parameters('applicationInsightsId')]"]);
    const deployment = resourcesOf(template).find((resource) => resource.name === 'alerts')!;
    expect(deployment.properties.parameters.applicationInsightsId.value).toContain(
      'applicationInsightsId',
    );
  });

  it('emails the operators at the alertEmail parameter through one action group', () => {
    const [group] = ofType('Microsoft.Insights/actionGroups');
    expect(group!.properties.emailReceivers).toEqual([
      expect.objectContaining({ emailAddress: "[parameters('alertEmail')]" }),
    ]);
    expect(template.parameters.alertEmail).toMatchObject({ type: 'string' });
    const [rule] = ofType('Microsoft.Insights/scheduledQueryRules');
    expect(JSON.stringify(rule!.properties.actions)).toContain('Microsoft.Insights/actionGroups');
  });

  it('reads in each query only fields the app logs on the line it names', async () => {
    const logged = await loggedFields();
    const problems: string[] = [];
    for (const rule of rules()) {
      const query = queryOf(rule);
      const prefixes = [...query.matchAll(/message startswith "([a-z ]+) \{"/g)].map((m) => m[1]!);
      expect(prefixes.length, rule.key).toBeGreaterThan(0);
      for (const prefix of prefixes) {
        const fields = logged.get(prefix);
        if (!fields) {
          problems.push(`${rule.key}: the app logs no "${prefix} {...}" line`);
          continue;
        }
        for (const [, field] of query.matchAll(/\be\.(\w+)/g))
          if (!fields.has(field!)) problems.push(`${rule.key}: "${prefix}" lines have no ${field}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('watches every timer of the function table, with its period, even one that logs nothing', () => {
    const stale = rules().find((rule) => rule.key === 'stale-timer')!;
    const table = /datatable\(timerName: string, periodSeconds: int\) \[([^\]]*)\]/.exec(
      queryOf(stale),
    );
    const listed = [...table![1]!.matchAll(/"(\w+)", (\d+)/g)].map(([, name, period]) => ({
      name,
      periodSeconds: Number(period),
    }));
    expect(listed).toEqual(
      timerFunctions.map(({ name, periodSeconds }) => ({ name, periodSeconds })),
    );
  });

  it('are created without Azure validating their queries against a component minutes old, whose tables may not exist yet', () => {
    for (const created of ofType('Microsoft.Insights/scheduledQueryRules'))
      expect(created.properties.skipQueryValidation).toBe(true);
  });

  it('leave no gap between evaluations, and a failure rule reads twice its period, so a late or in-between line is still seen', () => {
    for (const { key, frequency, window, lookback } of rules()) {
      expect(minutes(window), key).toBeGreaterThanOrEqual(minutes(frequency));
      expect(minutes(lookback), key).toBeGreaterThanOrEqual(minutes(window));
    }
    for (const key of ['emails-failed', 'events-failed']) {
      const { frequency, window, lookback } = rule(key);
      expect(minutes(window), key).toBe(2 * minutes(frequency));
      expect(minutes(lookback), key).toBe(minutes(window));
    }
    // Stateful: a line seen by two evaluations in a row notifies once, and resolves by itself.
    for (const created of ofType('Microsoft.Insights/scheduledQueryRules'))
      expect(created.properties.autoMitigate).toBe(true);
  });

  it('count what each line stands for (the sum of itemCount), never rows', () => {
    for (const current of rules()) {
      const query = queryOf(current);
      expect(query, current.key).not.toMatch(/\bcount(if)?\(/);
      if (/\bsummarize\b[^|]*\b(total|failed|throttled)\b/.test(query))
        expect(query, current.key).toMatch(/sum\(itemCount\)/);
    }
    expect(queryOf(rule('http-5xx'))).toContain(
      'summarize total = sum(itemCount), failed = sumif(itemCount, toint(e.status) >= 500)',
    );
    expect(queryOf(rule('cosmos-throttling'))).toContain(
      'summarize total = sum(itemCount), throttled = sumif(itemCount, toint(e.cosmosThrottled) > 0)',
    );
  });

  it('count a timer that never ran stale only three of its periods after the app first logged, or an hour after the deployment while it has logged nothing', () => {
    const stale = queryOf(rule('stale-timer'));
    expect(stale).toContain('let appFirstLine = toscalar(traces | summarize min(timestamp));');
    expect(stale).toContain(
      '| extend since = coalesce(lastSuccess, appFirstLine, datetime({deployedAt}) + 1h)',
    );
    expect(stale).toMatch(/\| where since < now\(\) - 3 \* periodSeconds \* 1s$/);
    expect(alerts().parameters.deployedAt).toEqual({
      type: 'string',
      defaultValue: "[utcNow('yyyy-MM-ddTHH:mm:ssZ')]",
      metadata: expect.anything(),
    });
    // main.bicep leaves it to its default: the time of each deployment.
    expect(deploymentOf('alerts').properties.parameters.deployedAt).toBeUndefined();
  });
});
