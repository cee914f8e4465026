// The Functions bundle, split so that a cold start evaluates only what registering needs
// (docs/performance.md, Cold start), into <outdir>/functions/:
// - index.js, the entry: the settings' validation and the registrations, computed here from the
//   function table (functions/registrations.ts);
// - app.js, the app itself (the table's handlers, the adapters), required by the entry at the
//   first invocation;
// - azure-functions.js, @azure/functions, which both require (one instance);
// - what only Azure needs, and only on first use (the Cosmos SDK, the managed identity, ACS
//   email), in files of their own that the app's dynamic imports load;
// - main.js, the entry the Functions worker loads (package.json main).
// shared/local/build.mjs builds it for the app; the bench builds an unminified copy to tell which
// source module a cold start spends its time in.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** Packages the Functions bundle imports dynamically, each bundled into its own file. */
export const lazyChunks = {
  '@azure/cosmos': 'functions/cosmos',
  '@azure/identity': 'functions/identity',
  '@azure/communication-email': 'functions/acs-email',
};
/** Packages both Functions files import, bundled into a file of their own: one instance. */
export const sharedChunks = { '@azure/functions': 'functions/azure-functions' };
/** The Functions files, and what each one's source is. */
const functionsEntry = { 'functions/index': 'functions/index.ts' };
const functionsApp = { 'functions/app': 'functions/app.ts' };

/** The options every bundle of the project is built with. */
export const bundleOptions = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  // Not keepNames: it wraps every function and class the code creates in a call that defines its
  // `name`, at run time too (each closure of every request: 6 to 8% of the host's CPU per
  // `GET /api/me`, docs/performance.md). Nothing reads the minified names: errors are told apart
  // by `instanceof` or by a `name` their class sets, and stack traces go through the source maps.
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
      const entry = path.resolve(functionsEntry['functions/index']);
      if (args.path === './app' && args.importer === entry)
        return beside(Object.keys(functionsApp)[0]);
      return undefined;
    });
  },
};

/**
 * functions/registrations.ts as its value: what the host registers, computed here from the
 * function table, so that the bundle registers every function without evaluating the table.
 */
async function registrationsModule(outdir) {
  // Inside the project, where its packages resolve from node_modules.
  const folder = mkdtempSync(path.join(outdir, 'registrations-'));
  try {
    const file = path.join(folder, 'registrations.cjs');
    await build({
      ...bundleOptions,
      entryPoints: ['functions/registrations.ts'],
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

/** Builds the Functions files into `outdir`; answers their paths (.js), main.js first. */
export async function bundleFunctions({ outdir, minify = true }) {
  const options = {
    ...bundleOptions,
    outdir,
    minify,
    // require(), not import(): the chunks are CommonJS, and so is what loads them.
    supported: { 'dynamic-import': false },
    // Stack traces through our code, not the sources themselves: a smaller map, read faster.
    sourcesContent: false,
  };
  await build({
    ...options,
    entryPoints: functionsEntry,
    plugins: [chunkImports, await registrationsModule(outdir)],
  });
  await build({ ...options, entryPoints: functionsApp, plugins: [chunkImports] });
  await build({
    ...options,
    entryPoints: Object.fromEntries(
      Object.entries({ ...sharedChunks, ...lazyChunks }).map(([name, chunk]) => [
        chunk,
        require.resolve(name),
      ]),
    ),
    // Source maps of the packages' chunks are written but not linked: a stack trace through one
    // of them stays as it is, and loading one does not parse its map (Cosmos DB's is 2.7 MB).
    sourcemap: 'external',
  });
  // The entry the Functions worker loads. It turns source maps on (stack traces in TypeScript)
  // once the functions are registered, so that a cold start does not read them: they apply to
  // what loads after, the app at its first invocation. (`--enable-source-maps` in the app setting
  // languageWorkers__node__arguments would make the host discard its pre-warmed worker and start
  // a new one at every cold start.)
  const workerEntry = path.join(outdir, 'functions/main.js');
  writeFileSync(
    workerEntry,
    [
      "'use strict';",
      '// Written by shared/local/functions-bundle.mjs: the functions registered, then source maps on.',
      "module.exports = require('./index.js');",
      'process.setSourceMapsEnabled(true);',
      '',
    ].join('\n'),
  );
  return [
    workerEntry,
    ...[
      ...Object.keys(functionsEntry),
      ...Object.keys(functionsApp),
      ...Object.values(sharedChunks),
      ...Object.values(lazyChunks),
    ].map((file) => path.join(outdir, `${file}.js`)),
  ];
}
