// npm run infra:build: compiles infra/main.bicep (and every module it uses) with the Bicep CLI,
// or with `az bicep` when only the Azure CLI is installed, to catch what the text checks of
// test/unit/infra.test.ts cannot (types, API versions, property names). Without either tool it
// says so and exits 0: machines without the CLI still run `npm test`, which holds infra/ to the
// code without compiling it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.bicep');
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

const bicep = onPath('bicep');
const az = bicep ? undefined : onPath('az');
if (!bicep && !az) {
  console.log(
    'infra:build: skipped, neither the Bicep CLI (`bicep`) nor the Azure CLI (`az`) is on PATH.\n' +
      'Install one (https://aka.ms/bicep-install) to compile infra/main.bicep; `npm test` still\n' +
      'checks infra/ against the code (test/unit/infra.test.ts).',
  );
  process.exit(0);
}

const [command, args] = bicep
  ? [bicep, ['build', main, '--stdout']]
  : [az, ['bicep', 'build', '--file', main, '--stdout']];
console.log(`infra:build: ${path.basename(command)} ${args.join(' ')}`);
// --stdout: compile and validate without leaving a main.json behind.
const result = spawnSync(command, args, {
  stdio: ['ignore', 'ignore', 'inherit'],
  shell: command.endsWith('.cmd'),
});
if (result.error) throw result.error;
if (result.status === 0) console.log('infra:build: infra/main.bicep compiles');
process.exit(result.status ?? 1);
