import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// infra/ as Azure receives it: compiled by the real Bicep CLI (infra/build.mjs finds or restores
// it), so the tests read the ARM template itself rather than the Bicep text.
const root = path.resolve(__dirname, '../..');
export const mainBicep = path.join(root, 'infra', 'main.bicep');

interface BicepCli {
  command: string;
  prefix: string[];
  fileFlag: string[];
}

let cli: BicepCli | undefined;

/** The Bicep CLI of this machine (bicep, az bicep, or restored from NuGet with dotnet). */
export function bicepCli(): BicepCli {
  if (cli) return cli;
  const result = spawnSync(process.execPath, [path.join(root, 'infra', 'build.mjs'), '--cli'], {
    encoding: 'utf8',
  });
  const found = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as BicepCli & {
    reason?: string;
  };
  if (found.reason || result.status !== 0)
    throw new Error(`no Bicep CLI to compile infra/ with: ${found.reason ?? result.stderr}`);
  cli = found;
  return cli;
}

export interface BicepResult {
  status: number;
  stdout: string;
  /** Each error or warning line. */
  diagnostics: string[];
}

export function bicep(verb: string, file: string, extra: string[] = []): BicepResult {
  const { command, prefix, fileFlag } = bicepCli();
  const result = spawnSync(command, [...prefix, verb, ...fileFlag, file, ...extra], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: result.status ?? 1,
    stdout: result.stdout,
    diagnostics: result.stderr
      .split('\n')
      .filter((line) => /: (Error|Warning) [A-Za-z0-9-]+:/.test(line)),
  };
}

/** A .bicepparam file for infra/main.bicep with these lines, built (and so checked) by Bicep. */
export function buildParams(lines: string[]): BicepResult {
  const folder = mkdtempSync(path.join(tmpdir(), 'bicepparam-'));
  const file = path.join(folder, 'test.bicepparam');
  const using = path.relative(folder, mainBicep).split(path.sep).join('/');
  writeFileSync(file, [`using '${using}'`, ...lines, ''].join('\n'));
  return bicep('build-params', file, ['--stdout']);
}

export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  condition?: string | boolean;
  properties?: any;
  scope?: string;
  [key: string]: any;
}

export interface ArmTemplate {
  parameters: Record<string, any>;
  variables?: Record<string, any>;
  outputs: Record<string, any>;
  resources: ArmResource[] | Record<string, ArmResource>;
}

/** infra/main.bicep compiled to its ARM template. */
export function compiledMain(): ArmTemplate {
  const result = bicep('build', mainBicep, ['--stdout']);
  if (result.status !== 0) throw new Error(`bicep build failed:\n${result.diagnostics.join('\n')}`);
  return JSON.parse(result.stdout) as ArmTemplate;
}

const resourcesOf = (template: ArmTemplate): ArmResource[] =>
  Array.isArray(template.resources) ? template.resources : Object.values(template.resources);

/** A module's template (a nested deployment named as the module). */
export function moduleTemplate(template: ArmTemplate, name: string): ArmTemplate {
  const deployment = resourcesOf(template).find(
    (resource) => resource.type === 'Microsoft.Resources/deployments' && resource.name === name,
  );
  if (!deployment) throw new Error(`no module ${name}`);
  return deployment.properties.template as ArmTemplate;
}

export type PlacedResource = ArmResource & { module: string; template: ArmTemplate };

/** Every resource of the template and of its modules, each with the module (template) it is in. */
export function allResources(template: ArmTemplate, module = 'main'): PlacedResource[] {
  return resourcesOf(template).flatMap((resource) =>
    resource.type === 'Microsoft.Resources/deployments'
      ? allResources(resource.properties.template as ArmTemplate, resource.name)
      : [{ ...resource, module, template }],
  );
}

/** An expression with each `variables('name')` holding a literal replaced by that literal. */
export function withVariables(expression: string, template: ArmTemplate): string {
  return expression.replace(/variables\('(\w+)'\)/g, (whole, name: string) => {
    const value = template.variables?.[name];
    return typeof value === 'string' && !value.startsWith('[') ? `'${value}'` : whole;
  });
}
