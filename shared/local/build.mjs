// Bundles every entry point with esbuild: one CommonJS file per entry in dist/.
// @azure/functions-core is provided by the Functions worker at run time, so it stays external
// (the Functions docs' advice for bundling); everything else, @azure/functions included, is bundled.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

const entryPoints = {
  'functions/index': 'functions/index.ts',
  'local/start': 'shared/local/start.ts',
  'local/token': 'shared/local/token-cli.ts',
  'local/outbox': 'shared/local/outbox-cli.ts',
};

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
