// Bundles the bench with esbuild, as shared/local/build.mjs bundles the app (same options), so
// the host under load runs the code as deployed: dist/bench/{bench,host,emulator}.js.
// The dev tools it drives (the emulator, autocannon) are required from node_modules at run time.
import { build } from 'esbuild';

await build({
  entryPoints: {
    bench: 'test/bench/bench.ts',
    host: 'test/bench/host-process.ts',
    emulator: 'test/bench/emulator-process.ts',
  },
  outdir: 'dist/bench',
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  sourcemap: true,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  external: ['@azure/functions-core', '@vercel/cosmosdb-server', 'azurite', 'autocannon'],
  logLevel: 'warning',
});
