// Bundles every entry point with esbuild: one CommonJS file per entry in dist/.
// @azure/functions-core is provided by the Functions worker at run time, so it stays external
// (the Functions docs' advice for bundling); everything else, @azure/functions included, is bundled.
// Then writes .deploy/, the package azd deploys (azure.yaml `dist`): the Functions bundle, its
// source map, host.json and a package.json without dependencies or scripts. Nothing else.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const entryPoints = {
  'functions/index': 'functions/index.ts',
  'local/start': 'shared/local/start.ts',
  'local/token': 'shared/local/token-cli.ts',
  'local/outbox': 'shared/local/outbox-cli.ts',
};
const deployFolder = '.deploy';

rmSync('dist', { recursive: true, force: true });
await build({
  entryPoints,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // The local host starts the emulators only when asked; they are dev tools, never bundled.
  external: ['@azure/functions-core', '@vercel/cosmosdb-server', 'azurite'],
  logLevel: 'warning',
});

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
rmSync(deployFolder, { recursive: true, force: true });
for (const file of [manifest.main, `${manifest.main}.map`, 'host.json']) {
  mkdirSync(path.dirname(path.join(deployFolder, file)), { recursive: true });
  copyFileSync(file, path.join(deployFolder, file));
}
// Everything the app needs is in the bundle; the worker provides @azure/functions-core.
const deployManifest = {
  name: manifest.name,
  version: manifest.version,
  private: true,
  type: 'commonjs',
  main: manifest.main,
};
writeFileSync(
  path.join(deployFolder, 'package.json'),
  `${JSON.stringify(deployManifest, null, 2)}\n`,
);
