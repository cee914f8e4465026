import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCosmosEmulator } from '../../shared/local/embedded';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const vitest = path.join(root, 'node_modules/vitest/vitest.mjs');

/**
 * npm run test:cosmos points the integration suite at any Cosmos DB account or the official
 * emulator (COSMOS_ENDPOINT, COSMOS_KEY). Here another emulator, behind a proxy that records
 * what reaches it, plays the account: one integration file is run against it.
 */
describe('npm run test:cosmos', () => {
  let account: { endpoint: string; close(): Promise<void> };
  let proxy: CosmosProxy;
  beforeAll(async () => {
    account = await startCosmosEmulator(0);
    proxy = await startCosmosProxy(account.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await account.close();
  });

  it('refuses to run without COSMOS_ENDPOINT, saying what it needs', async () => {
    const { COSMOS_ENDPOINT: _endpoint, ...env } = process.env;
    const refused = await run(process.execPath, ['test/support/require-cosmos-endpoint.mjs'], {
      cwd: root,
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 2 });
    expect((refused as { stderr: string }).stderr).toContain('COSMOS_ENDPOINT');
  });

  it('runs the integration suite against the account it names, with its key', async () => {
    const env = { ...process.env, COSMOS_ENDPOINT: proxy.url, COSMOS_KEY: 'a-key-of-the-account' };
    await run(process.execPath, ['test/support/require-cosmos-endpoint.mjs'], { cwd: root, env });
    const { stdout } = await run(
      process.execPath,
      [vitest, 'run', 'test/integration/partners.test.ts', '--reporter=dot'],
      { cwd: root, env: { ...env, NO_COLOR: '1' }, maxBuffer: 10 * 1024 * 1024 },
    );
    expect(stdout).toMatch(/Tests\s+\d+ passed/);
    expect(proxy.seen.filter((request) => request.kind === 'write').length).toBeGreaterThan(10);
  }, 120_000);
});
