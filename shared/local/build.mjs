// Bundles every entry point with esbuild: one CommonJS file per entry in dist/.
// @azure/functions-core is provided by the Functions worker at run time, so it stays external
// (the Functions docs' advice for bundling); everything else, @azure/functions included, is bundled.
// The Functions bundle is split in files of its own (./functions-bundle.mjs): a cold start
// evaluates only what registering needs.
// Then writes .deploy/, the package azd deploys (azure.yaml `dist`): the entry that turns source
// maps on, the Functions bundle and its files, their source maps, the API reference page's files
// (Swagger UI's script and style sheet, with its licence, copied from swagger-ui-dist into
// docs-assets/ beside the bundle), host.json and a package.json without dependencies or scripts.
// Nothing else.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bundleFunctions, bundleOptions } from './functions-bundle.mjs';

const require = createRequire(import.meta.url);

const entryPoints = {
  'local/start': 'shared/local/start.ts',
  'local/token': 'shared/local/token-cli.ts',
  'local/outbox': 'shared/local/outbox-cli.ts',
  'local/events': 'shared/local/events-cli.ts',
  'local/demo': 'shared/local/demo-cli.ts',
  'local/openapi': 'shared/local/openapi-cli.ts',
};
const deployFolder = '.deploy';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
const [workerEntry, ...functionsFiles] = await bundleFunctions({ outdir: 'dist' });
await build({ ...bundleOptions, outdir: 'dist', entryPoints });

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
if (manifest.main !== workerEntry) throw new Error(`package.json main must be ${workerEntry}`);
const swaggerUi = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const docsAssets = path.join(path.dirname(workerEntry), 'docs-assets');
const referenceFiles = ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE'].map(
  (name) => {
    mkdirSync(docsAssets, { recursive: true });
    copyFileSync(path.join(swaggerUi, name), path.join(docsAssets, name));
    return path.join(docsAssets, name);
  },
);
rmSync(deployFolder, { recursive: true, force: true });
for (const file of [
  manifest.main,
  ...functionsFiles.flatMap((file) => [file, `${file}.map`]),
  ...referenceFiles,
  'host.json',
]) {
  mkdirSync(path.dirname(path.join(deployFolder, file)), { recursive: true });
  copyFileSync(file, path.join(deployFolder, file));
}
// Everything the app needs is in the bundle and its chunks; the worker provides
// @azure/functions-core.
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
