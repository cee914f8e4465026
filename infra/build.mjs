// npm run infra:build (part of `npm test`): lints and compiles infra/main.bicep, and every module
// it uses, with the real Bicep CLI, and fails on any error or warning. The CLI used is the first
// of: `bicep` on PATH, the Azure CLI's `az bicep`, or the pinned Bicep CLI restored from NuGet
// (package Azure.Bicep.CommandLine.<rid>) with the .NET SDK into .tools/ (gitignored). Where
// none of them can be had it says plainly that the templates were NOT compiled; under CI (CI set)
// that is a failure.
//
// `node infra/build.mjs --cli` prints, as JSON, the command that runs the Bicep CLI here
// ({ command, prefix }): the tests compile parameter files with it. `--standalone-cli`: the
// Bicep CLI itself (on PATH or restored), for `bicep snapshot`, which `az bicep` does not have.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Bicep CLI release restored from NuGet; bump it here (and fix what its linter finds). */
export const bicepVersion = '0.49.2';

const infra = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(infra);
const main = path.join(infra, 'main.bicep');
// INFRA_TOOLS_DIR: another folder for the restored CLI (the tests use an empty one).
const tools = process.env.INFRA_TOOLS_DIR ?? path.join(root, '.tools', 'bicep');
const windows = process.platform === 'win32';

/** The full path of a command on PATH, or undefined. */
function onPath(command) {
  const names = windows ? [`${command}.exe`, `${command}.cmd`] : [command];
  for (const folder of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = path.join(folder, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  return undefined;
}

/** The NuGet runtime id of the Bicep CLI package for this machine, or undefined. */
function runtimeId() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  return os && arch ? `${os}-${arch}` : undefined;
}

/**
 * Restores Azure.Bicep.CommandLine.<rid> with `dotnet restore` of a tools-only project (a
 * PackageDownload: nothing is built) into .tools/bicep/packages; returns the binary or a reason.
 */
function restoredBicep() {
  const rid = runtimeId();
  if (!rid) return { reason: `no Bicep CLI package for ${process.platform}-${process.arch}` };
  const id = `Azure.Bicep.CommandLine.${rid}`;
  const packages = path.join(tools, 'packages');
  const binary = path.join(
    packages,
    id.toLowerCase(),
    bicepVersion,
    'tools',
    windows ? 'bicep.exe' : 'bicep',
  );
  if (existsSync(binary)) return { binary };
  const dotnet = onPath('dotnet');
  if (!dotnet) return { reason: 'the .NET SDK (`dotnet`) is not on PATH either' };
  mkdirSync(tools, { recursive: true });
  const project = path.join(tools, 'bicep-cli.csproj');
  writeFileSync(
    project,
    [
      '<Project Sdk="Microsoft.NET.Sdk">',
      '  <!-- Written by infra/build.mjs: downloads the Bicep CLI, builds nothing. -->',
      '  <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>',
      `  <ItemGroup><PackageDownload Include="${id}" Version="[${bicepVersion}]" /></ItemGroup>`,
      '</Project>',
      '',
    ].join('\n'),
  );
  console.log(`infra:build: restoring ${id} ${bicepVersion} from NuGet with dotnet`);
  const restore = spawnSync(dotnet, ['restore', project, '--packages', packages], {
    encoding: 'utf8',
    env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1' },
  });
  if (restore.status !== 0 || !existsSync(binary)) {
    return {
      reason: `dotnet restore of ${id} ${bicepVersion} failed:\n${restore.stdout}${restore.stderr}`,
    };
  }
  if (!windows) chmodSync(binary, 0o755); // NuGet does not keep the executable bit
  return { binary };
}

/**
 * How to run the Bicep CLI here: `command ...prefix <verb> <file>`, or a reason there is none.
 * `standalone`: the Bicep CLI itself, never `az bicep`, which lacks some verbs (snapshot).
 */
export function bicepCli({ standalone = false } = {}) {
  // The Azure CLI keeps its own copy of the Bicep CLI in ~/.azure/bin.
  const azureCliCopy = path.join(homedir(), '.azure', 'bin', windows ? 'bicep.exe' : 'bicep');
  const bicep =
    onPath('bicep') ?? (standalone && existsSync(azureCliCopy) ? azureCliCopy : undefined);
  if (bicep) return { command: bicep, prefix: [], fileFlag: [] };
  const az = standalone ? undefined : onPath('az');
  if (az) return { command: az, prefix: ['bicep'], fileFlag: ['--file'] };
  const restored = restoredBicep();
  if (restored.binary) return { command: restored.binary, prefix: [], fileFlag: [] };
  return {
    reason: `neither the Bicep CLI (\`bicep\`) nor the Azure CLI (\`az\`) is on PATH, and ${restored.reason}`,
  };
}

/** Runs one Bicep verb on a file; returns its exit status and its diagnostics (stderr lines). */
export function runBicep(cli, verb, file, extra = []) {
  const result = spawnSync(cli.command, [...cli.prefix, verb, ...cli.fileFlag, file, ...extra], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    shell: cli.command.endsWith('.cmd'),
  });
  if (result.error) throw result.error;
  const diagnostics = result.stderr
    .split('\n')
    .filter((line) => /: (Error|Warning|Info) [A-Za-z0-9-]+:/.test(line));
  return { status: result.status ?? 1, stdout: result.stdout, stderr: result.stderr, diagnostics };
}

function build() {
  const cli = bicepCli();
  if (cli.reason) {
    const message =
      `infra:build: NOT COMPILED: ${cli.reason}.\n` +
      'infra/ has not been compiled or linted on this machine. Install the .NET SDK (the Bicep\n' +
      'CLI is then restored from NuGet), the Bicep CLI or the Azure CLI; `npm test` still holds\n' +
      'infra/ to the code without compiling it.';
    console.log(message);
    process.exit(process.env.CI ? 1 : 0);
  }
  console.log(`infra:build: ${[path.basename(cli.command), ...cli.prefix].join(' ')} lint + build`);
  const lint = runBicep(cli, 'lint', main);
  // --stdout: compile without leaving a main.json behind.
  const compiled = runBicep(cli, 'build', main, ['--stdout']);
  const diagnostics = [...new Set([...lint.diagnostics, ...compiled.diagnostics])];
  for (const line of diagnostics) console.error(line);
  if (lint.status !== 0 || compiled.status !== 0 || diagnostics.length > 0) {
    if (diagnostics.length === 0) console.error(lint.stderr, compiled.stderr);
    console.error(`infra:build: failed with ${diagnostics.length} diagnostic(s)`);
    process.exit(1);
  }
  console.log('infra:build: infra/main.bicep lints clean and compiles');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--cli') || process.argv.includes('--standalone-cli')) {
    const cli = bicepCli({ standalone: process.argv.includes('--standalone-cli') });
    console.log(JSON.stringify(cli));
    process.exit(cli.reason ? 1 : 0);
  }
  build();
}
