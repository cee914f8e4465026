// Bundles every entry point with esbuild: one CommonJS file per entry in dist/.
// @azure/functions-core is provided by the Functions worker at run time, so it stays external
// (the Functions docs' advice for bundling); everything else, @azure/functions included, is bundled.
// The Functions bundle leaves what only Azure needs, and only after the first request (the
// managed identity, ACS email: 40% of its code), to files of their own that its dynamic imports
// load on first use, so no cold start parses them.
// Then writes .deploy/, the package azd deploys (azure.yaml `dist`): the entry that turns source
// maps on, the Functions bundle and those files, their source maps, the API reference page's
// files (Swagger UI's script and style sheet, with its licence, copied from swagger-ui-dist into
// docs-assets/ beside the bundle), host.json and a package.json without dependencies or scripts.
// Nothing else.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

const entryPoints = {
  'functions/index': 'functions/index.ts',
  'local/start': 'shared/local/start.ts',
  'local/token': 'shared/local/token-cli.ts',
  'local/outbox': 'shared/local/outbox-cli.ts',
  'local/events': 'shared/local/events-cli.ts',
  'local/demo': 'shared/local/demo-cli.ts',
  'local/openapi': 'shared/local/openapi-cli.ts',
};
const deployFolder = '.deploy';
/** Packages the Functions bundle imports dynamically, each bundled into its own file. */
const lazyChunks = {
  '@azure/cosmos': 'functions/cosmos',
  '@azure/identity': 'functions/identity',
  '@azure/communication-email': 'functions/acs-email',
};

const options = {
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  // The local host starts the emulators only when asked; they are dev tools, never bundled.
  external: ['@azure/functions-core', '@vercel/cosmosdb-server', 'azurite'],
  logLevel: 'warning',
};

/** A dynamic import of a lazy chunk's package becomes a require of the chunk beside the bundle. */
const lazyChunkImports = {
  name: 'lazy-chunks',
  setup(build) {
    const packages = Object.keys(lazyChunks).map((name) => name.replace('/', '\\/'));
    build.onResolve({ filter: new RegExp(`^(${packages.join('|')})$`) }, (args) =>
      args.kind === 'dynamic-import'
        ? { path: `./${path.basename(lazyChunks[args.path])}.js`, external: true }
        : undefined,
    );
  },
};

rmSync('dist', { recursive: true, force: true });
const { 'functions/index': functionsEntry, ...localEntries } = entryPoints;
await build({
  ...options,
  entryPoints: { 'functions/index': functionsEntry },
  plugins: [lazyChunkImports],
  // require(), not import(): the chunks are CommonJS, and so is what loads them.
  supported: { 'dynamic-import': false },
});
await build({
  ...options,
  entryPoints: Object.fromEntries(
    Object.entries(lazyChunks).map(([name, chunk]) => [chunk, require.resolve(name)]),
  ),
});
await build({ ...options, entryPoints: localEntries });

// The entry the Functions worker loads (package.json main): turns source maps on (stack traces
// in TypeScript) before the bundle loads. `--enable-source-maps` in the app setting
// languageWorkers__node__arguments would make the host discard its pre-warmed worker and start
// a new one at every cold start; setSourceMapsEnabled applies to modules loaded after it.
const workerEntry = 'dist/functions/main.js';
writeFileSync(
  workerEntry,
  [
    "'use strict';",
    '// Written by shared/local/build.mjs: source maps on, then the bundle.',
    'process.setSourceMapsEnabled(true);',
    "module.exports = require('./index.js');",
    '',
  ].join('\n'),
);

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
const chunks = Object.values(lazyChunks).map((chunk) => `dist/${chunk}.js`);
for (const file of [
  manifest.main,
  'dist/functions/index.js',
  'dist/functions/index.js.map',
  ...chunks.flatMap((chunk) => [chunk, `${chunk}.map`]),
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
