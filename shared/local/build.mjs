// Bundles every entry point with esbuild: one CommonJS file per entry in dist/.
// @azure/functions-core is provided by the Functions worker at run time, so it stays external
// (the Functions docs' advice for bundling); everything else, @azure/functions included, is bundled.
// The Functions bundle is split so that a cold start evaluates only what registering needs
// (docs/performance.md, Cold start):
// - functions/index.js, the entry: the settings' validation and the registrations, computed here
//   from the function table (functions/registrations.ts);
// - functions/app.js, the app itself (the table's handlers, the adapters), required by the entry
//   at the first invocation;
// - functions/azure-functions.js, @azure/functions, which both require (one instance);
// - what only Azure needs, and only on first use (the Cosmos SDK, the managed identity, ACS
//   email), in files of their own that the app's dynamic imports load.
// Then writes .deploy/, the package azd deploys (azure.yaml `dist`): the entry that turns source
// maps on, the Functions bundle and those files, their source maps, the API reference page's
// files (Swagger UI's script and style sheet, with its licence, copied from swagger-ui-dist into
// docs-assets/ beside the bundle), host.json and a package.json without dependencies or scripts.
// Nothing else.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

const entryPoints = {
  'local/start': 'shared/local/start.ts',
  'local/token': 'shared/local/token-cli.ts',
  'local/outbox': 'shared/local/outbox-cli.ts',
  'local/events': 'shared/local/events-cli.ts',
  'local/demo': 'shared/local/demo-cli.ts',
};
const deployFolder = '.deploy';
/** Packages the Functions bundle imports dynamically, each bundled into its own file. */
const lazyChunks = {
  '@azure/cosmos': 'functions/cosmos',
  '@azure/identity': 'functions/identity',
  '@azure/communication-email': 'functions/acs-email',
};
/** Packages both Functions files import, bundled into a file of their own: one instance. */
const sharedChunks = { '@azure/functions': 'functions/azure-functions' };
/** The Functions files, and what each one's source is. */
const functionsEntry = { 'functions/index': 'functions/index.ts' };
const functionsApp = { 'functions/app': 'functions/app.ts' };

const options = {
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
};

/**
 * A dynamic import of a lazy chunk's package becomes a require of the chunk beside the bundle, and
 * so does any import of a shared chunk's package, and the entry's dynamic import of the app.
 */
const chunkImports = {
  name: 'chunk-imports',
  setup(build) {
    const beside = (chunk) => ({ path: `./${path.basename(chunk)}.js`, external: true });
    build.onResolve({ filter: /^(@azure\/[a-z-]+|\.\/app)$/ }, (args) => {
      if (args.path in sharedChunks) return beside(sharedChunks[args.path]);
      if (args.kind !== 'dynamic-import') return undefined;
      if (args.path in lazyChunks) return beside(lazyChunks[args.path]);
      if (
        args.path === './app' &&
        args.importer === path.resolve(functionsEntry['functions/index'])
      )
        return beside(Object.keys(functionsApp)[0]);
      return undefined;
    });
  },
};

/**
 * functions/registrations.ts as its value: what the host registers, computed here from the
 * function table, so that the bundle registers every function without evaluating the table.
 */
async function registrationsModule() {
  // Inside the project, where its packages resolve from node_modules.
  const folder = mkdtempSync(path.join('dist', 'registrations-'));
  try {
    const file = path.join(folder, 'registrations.cjs');
    await build({
      ...options,
      entryPoints: ['functions/registrations.ts'],
      outdir: undefined,
      outfile: file,
      sourcemap: false,
      minify: false,
      packages: 'external',
    });
    const { functionRegistrations } = require(path.resolve(file));
    return {
      name: 'registrations',
      setup(build) {
        build.onLoad({ filter: /[\\/]functions[\\/]registrations\.ts$/ }, () => ({
          contents: `export const functionRegistrations = ${JSON.stringify(functionRegistrations)};`,
          loader: 'ts',
        }));
      },
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
const functionsOptions = {
  ...options,
  // require(), not import(): the chunks are CommonJS, and so is what loads them.
  supported: { 'dynamic-import': false },
  // Stack traces through our code, not the sources themselves: a smaller map, read faster.
  sourcesContent: false,
};
await build({
  ...functionsOptions,
  entryPoints: functionsEntry,
  plugins: [chunkImports, await registrationsModule()],
});
await build({ ...functionsOptions, entryPoints: functionsApp, plugins: [chunkImports] });
await build({
  ...functionsOptions,
  entryPoints: Object.fromEntries(
    Object.entries({ ...sharedChunks, ...lazyChunks }).map(([name, chunk]) => [
      chunk,
      require.resolve(name),
    ]),
  ),
  // Source maps of the packages' chunks are written but not linked: a stack trace through one of
  // them stays as it is, and loading one does not parse its map (Cosmos DB's is 2.7 MB).
  sourcemap: 'external',
});
await build({ ...options, entryPoints });

// The entry the Functions worker loads (package.json main). It turns source maps on (stack traces
// in TypeScript) once the functions are registered, so that a cold start does not read them: they
// apply to what loads after, the app at its first invocation. (`--enable-source-maps` in the app
// setting languageWorkers__node__arguments would make the host discard its pre-warmed worker and
// start a new one at every cold start.)
const workerEntry = 'dist/functions/main.js';
writeFileSync(
  workerEntry,
  [
    "'use strict';",
    '// Written by shared/local/build.mjs: the functions registered, then source maps on.',
    "module.exports = require('./index.js');",
    'process.setSourceMapsEnabled(true);',
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
const chunks = [
  ...Object.keys(functionsEntry),
  ...Object.keys(functionsApp),
  ...Object.values(sharedChunks),
  ...Object.values(lazyChunks),
].map((file) => `dist/${file}.js`);
for (const file of [
  manifest.main,
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
