import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { timerFunctions } from '../../functions/timers';
import { hostBodyLimitBytes, maxBodyBytes } from '../../shared/http/define';
import { loggedFields } from '../support/logged-fields';
import {
  allResources,
  buildParams,
  compiledMain,
  moduleTemplate,
  withVariables,
  type ArmResource,
  type ArmTemplate,
  type BicepResult,
  type PlacedResource,
} from '../support/arm';

// infra/ as the real Bicep CLI compiles it (npm run infra:build lints it clean first): what
// Azure receives, and what Bicep refuses before anything is deployed.
const root = path.resolve(__dirname, '../..');
const run = promisify(execFile);

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
    expect(settings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe('Authorization=AAD');
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
  const required = [
    "param environmentName = 'test'",
    "param authAudience = '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b'",
    "param idempotencySecret = 'a-test-secret-of-at-least-thirty-two-chars'",
    "param operatorTenantId = '00000000-0000-0000-0000-0000000000ff'",
    "param reviewersEmail = 'reviewers@contoso.example'",
    "param alertEmail = 'operators@contoso.example'",
  ];
  beforeAll(() => {
    refused = buildParams([
      ...required,
      "param location = 'westindia'",
      'param cosmosAutoscaleMaxThousandRUs = -1',
    ]);
    accepted = buildParams([
      ...required,
      "param location = 'westeurope'",
      'param cosmosAutoscaleMaxThousandRUs = 4',
    ]);
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
    const deployment = (template.resources as ArmResource[]).find(
      (resource) => resource.name === 'cosmos',
    )!;
    expect(deployment.properties.parameters.autoscaleMaxThroughput.value).toBe(
      "[mul(parameters('cosmosAutoscaleMaxThousandRUs'), 1000)]",
    );
  });

  it('accepts a Flex Consumption region and an autoscale maximum in thousands', () => {
    expect(accepted.diagnostics).toEqual([]);
    expect(accepted.status).toBe(0);
  });
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
  it('are only those the app uses: blobs, telemetry, email and its one secret (no queue or table data)', () => {
    const roles = roleAssignments().map(roleIdOf).join('\n');
    expect(roles).toContain('b7e6dc6d-f1e8-4753-8033-0f276bb0955b'); // Storage Blob Data Owner
    expect(roles).toContain('3913510d-42f4-4e42-8a64-420c390055eb'); // Monitoring Metrics Publisher
    expect(roles).toContain('09976791-48a7-449e-bb21-39d1a415f350'); // Communication and Email Service Owner
    expect(roles).toContain('4633458b-17de-408a-b874-0445c86b69e6'); // Key Vault Secrets User
    expect(roleAssignments()).toHaveLength(4);
    // Anywhere: a role id kept in a variable for later would show up here too.
    const everything = JSON.stringify(template);
    expect(everything).not.toContain('974c5e8b-45b9-4653-ba55-5f855dd0fb88'); // Storage Queue Data Contributor
    expect(everything).not.toContain('0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'); // Storage Table Data Contributor
  });
});

describe('the azd preprovision hook', () => {
  it('registers every resource provider the template uses, Microsoft.App (Flex Consumption) included', async () => {
    const azureYaml = readFileSync(path.join(root, 'azure.yaml'), 'utf8');
    const hook = azureYaml.split(/^hooks:$/m)[1] ?? '';
    expect(hook).toMatch(/^ {2}preprovision:$/m);
    const runs = [...hook.matchAll(/^ +run: (.+)$/gm)].map((match) => match[1]);
    expect(runs).toEqual([
      'node infra/hooks/register-providers.mjs',
      'node infra/hooks/register-providers.mjs',
    ]);

    // ARM as a local server: Microsoft.App and Microsoft.Communication never registered.
    const state = new Map<string, string>();
    const calls: string[] = [];
    const server = http.createServer((request, response) => {
      const match = /^\/subscriptions\/sub-1\/providers\/([^/?]+)(\/register)?\?api-version=/.exec(
        request.url ?? '',
      );
      calls.push(`${request.method} ${match?.[1]}${match?.[2] ?? ''}`);
      if (!match || request.headers.authorization !== 'Bearer token-from-azd') {
        response.writeHead(401).end();
        return;
      }
      const namespace = match[1]!;
      if (match[2]) state.set(namespace, 'Registered');
      const registrationState =
        state.get(namespace) ??
        (['Microsoft.App', 'Microsoft.Communication'].includes(namespace)
          ? 'NotRegistered'
          : 'Registered');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ namespace, registrationState }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bin = mkdtempSync(path.join(tmpdir(), 'fake-azd-'));
    writeFileSync(
      path.join(bin, 'azd'),
      '#!/bin/sh\necho \'{"token":"token-from-azd","expiresOn":"2026-03-02T10:00:00Z"}\'\n',
    );
    chmodSync(path.join(bin, 'azd'), 0o755);
    try {
      const { port } = server.address() as AddressInfo;
      const { stdout } = await run(
        process.execPath,
        [path.join(root, 'infra/hooks/register-providers.mjs')],
        {
          env: {
            PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
            AZURE_SUBSCRIPTION_ID: 'sub-1',
            AZURE_RESOURCE_MANAGER_ENDPOINT: `http://127.0.0.1:${port}`,
          },
        },
      );
      expect(calls.filter((call) => call.startsWith('POST')).sort()).toEqual([
        'POST Microsoft.App/register',
        'POST Microsoft.Communication/register',
      ]);
      expect(stdout).toContain('Microsoft.App: registered');
      const read = new Set(calls.map((call) => call.split(' ')[1]!.toLowerCase()));
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
      await new Promise((resolve) => server.close(resolve));
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
      "[if(and(not(empty(parameters('emailCustomDomain'))), parameters('emailCustomDomainVerified')), variables('customDomainQuota'), variables('managedDomainQuota'))]",
    );
    const functionApp = (template.resources as ArmResource[]).find(
      (resource) => resource.name === 'function-app',
    )!;
    expect(functionApp.properties.parameters.emailSendsPerMinute).toBe(
      "[if(greater(parameters('emailSendsPerMinute'), 0), createObject('value', parameters('emailSendsPerMinute')), createObject('value', variables('emailQuota').perMinute))]",
    );
  });
});

describe('alerts (infra/modules/alerts.bicep)', () => {
  interface AlertRule {
    key: string;
    displayName: string;
    query: string[];
  }
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
      "[join(variables('rules')[copyIndex()].query, '\n')]",
    );
    expect(rule!.properties.scopes).toEqual(["[parameters('applicationInsightsId')]"]);
    const deployment = (template.resources as ArmResource[]).find(
      (resource) => resource.name === 'alerts',
    )!;
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
});
