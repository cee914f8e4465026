import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

const clis = new Map<string, BicepCli>();

/**
 * The Bicep CLI of this machine (bicep, az bicep, or restored from NuGet with dotnet);
 * `standalone`: never az bicep, which has no `snapshot`.
 */
export function bicepCli(standalone = false): BicepCli {
  const flag = standalone ? '--standalone-cli' : '--cli';
  const known = clis.get(flag);
  if (known) return known;
  const result = spawnSync(process.execPath, [path.join(root, 'infra', 'build.mjs'), flag], {
    encoding: 'utf8',
  });
  const found = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as BicepCli & {
    reason?: string;
  };
  if (found.reason || result.status !== 0)
    throw new Error(`no Bicep CLI to compile infra/ with: ${found.reason ?? result.stderr}`);
  clis.set(flag, found);
  return found;
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

/** A template's resources, whether listed (ARM) or keyed by symbolic name (languageVersion 2.0). */
export const resourcesOf = (template: ArmTemplate): ArmResource[] =>
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

/** What `bicep snapshot` predicts a deployment creates: every resource with its values worked out. */
export interface Snapshot {
  predictedResources: ArmResource[];
  outputs: Record<string, unknown>;
}

export interface SnapshotResult {
  status: number;
  /** The snapshot, when ARM's own template engine evaluated the deployment to the end. */
  snapshot: Snapshot | undefined;
  /** What stopped it (a fail() message, a refused parameter), as the CLI reports it. */
  output: string;
}

/**
 * A deployment of `template` (infra/main.bicep unless given) with these parameter lines,
 * evaluated by the Bicep CLI's snapshot with ARM's template engine: parameters checked,
 * variables and functions evaluated (fail() included), as Azure does before creating anything.
 * Values only Azure knows (a resource's properties) stay expressions.
 */
export function snapshot(lines: string[], template: string = mainBicep): SnapshotResult {
  const folder = mkdtempSync(path.join(tmpdir(), 'bicep-snapshot-'));
  const file = path.join(folder, 'test.bicepparam');
  const using = path.relative(folder, template).split(path.sep).join('/');
  writeFileSync(file, [`using '${using}'`, ...lines, ''].join('\n'));
  const { command, prefix, fileFlag } = bicepCli(true);
  const result = spawnSync(
    command,
    [
      ...prefix,
      'snapshot',
      ...fileFlag,
      file,
      '--subscription-id',
      '3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
      '--tenant-id',
      '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d',
      '--location',
      'westeurope',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const written = path.join(folder, 'test.snapshot.json');
  return {
    status: result.status ?? 1,
    snapshot: existsSync(written)
      ? (JSON.parse(readFileSync(written, 'utf8')) as Snapshot)
      : undefined,
    output: `${result.stdout}${result.stderr}`,
  };
}

/** A Bicep file written to a temporary folder beside nothing else; its path. */
export function temporaryBicep(source: string[]): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'bicep-source-'));
  const file = path.join(folder, 'test.bicep');
  writeFileSync(file, [...source, ''].join('\n'));
  return file;
}
