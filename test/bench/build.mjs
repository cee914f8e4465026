// Bundles the bench with esbuild, as shared/local/build.mjs bundles the app (same options), so
// the host under load runs the code as deployed: dist/bench/{bench,host,emulator,floor}.js.
// The dev tools it drives (the emulator, autocannon) are required from node_modules at run time.
// Also an unminified copy of the Functions files (dist/bench/cold/), whose CPU profiles at a cold
// start tell which source module the time goes to.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { bundleFunctions, bundleOptions } from '../../shared/local/functions-bundle.mjs';

await build({
  ...bundleOptions,
  entryPoints: {
    bench: 'test/bench/bench.ts',
    host: 'test/bench/host-process.ts',
    emulator: 'test/bench/emulator-process.ts',
    floor: 'test/bench/floor-process.ts',
  },
  outdir: 'dist/bench',
  external: [...bundleOptions.external, 'autocannon'],
});

mkdirSync('dist/bench/cold', { recursive: true });
await bundleFunctions({ outdir: 'dist/bench/cold', minify: false });
