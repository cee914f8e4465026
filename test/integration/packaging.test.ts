import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it } from 'vitest';
import { functionTable } from '../../functions/table';
import { azureSettings, registrationsOf } from '../support/function-registrations';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
/** What the Functions worker loads: the entry that turns source maps on, then the bundle. */
const bundle = path.join(root, 'dist/functions/main.js');
const preload = path.join(root, 'test/support/functions-core-preload.cjs');

describe('the Azure Functions entry point (npm run build)', () => {
  it('exists where package.json main points', async () => {
    const { main } = (await import('../../package.json')).default;
    expect(path.join(root, main)).toBe(bundle);
    expect(existsSync(bundle)).toBe(true);
  });

  it('registers every function of the table with the host, as declared', async () => {
    const registrations = await registrationsOf(bundle, azureSettings, root);
    expect(registrations.map((registration) => registration.name).sort()).toEqual(
      functionTable.map((definition) => definition.name).sort(),
    );
    for (const definition of functionTable) {
      const registration = registrations.find((candidate) => candidate.name === definition.name)!;
      const trigger = Object.values(registration.bindings).find((binding) =>
        binding.type.endsWith('Trigger'),
      )!;
      if (definition.kind !== 'timer') {
        expect(trigger).toMatchObject({
          type: 'httpTrigger',
          route: definition.route,
          authLevel: 'anonymous',
        });
        expect(trigger.methods).toEqual([...definition.methods]);
      } else {
        expect(trigger).toMatchObject({ type: 'timerTrigger', schedule: definition.schedule });
      }
    }
  });

  it('stops with a message naming the missing setting', async () => {
    const failure = await run(
      process.execPath,
      ['--require', preload, '-e', `require(${JSON.stringify(bundle)})`],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
          IDEMPOTENCY_SECRET: 'packaging-test-secret-of-at-least-32-characters',
        },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).not.toBe(0);
    expect((failure as { stderr: string }).stderr).toContain('COSMOS_ENDPOINT: is required');
  });

  it('refuses to start on a Key Vault reference the platform passed through unresolved, naming the setting', async () => {
    // The worker reports an entry that throws as the app failing to start
    // (azure-functions-nodejs-worker src/startApp.ts:100-143).
    const failure = await run(
      process.execPath,
      ['--require', preload, '-e', `require(${JSON.stringify(bundle)})`],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          ...azureSettings,
          IDEMPOTENCY_SECRET:
            '@Microsoft.KeyVault(SecretUri=https://kv-abc123.vault.azure.net/secrets/idempotency-secret)',
        },
      },
    ).catch((error: { code: number; stderr: string }) => error);
    expect((failure as { code: number }).code).not.toBe(0);
    expect((failure as { stderr: string }).stderr).toContain(
      'IDEMPOTENCY_SECRET: is a Key Vault reference the platform could not resolve',
    );
  });
});

describe('npm run --silent token', () => {
  it('prints one RS256 token on stdout, alone, with the claims asked for', async () => {
    const tenant = '11111111-2222-3333-4444-555555555555';
    const { stdout } = await run(
      'npm',
      [
        'run',
        '--silent',
        'token',
        '--',
        '--tenant',
        tenant,
        '--roles',
        'GlobalAdmin,AdminAgent',
        '--name',
        'Gina',
        '--email',
        'gina@contoso.example',
      ],
      {
        cwd: root,
        env: { ...process.env, DEV_KEY_FILE: path.join(root, '.local/test-token-key.json') },
      },
    );
    const lines = stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(decodeProtectedHeader(lines[0]!).alg).toBe('RS256');
    expect(decodeJwt(lines[0]!)).toMatchObject({
      tid: tenant,
      // GlobalAdmin is the directory role, as Entra issues it (docs/api.md, Identity).
      roles: ['AdminAgent'],
      wids: ['62e90394-69f5-4237-9190-012177145e10'],
      scp: 'access_as_user',
      name: 'Gina',
      preferred_username: 'gina@contoso.example',
      iss: `https://login.microsoftonline.com/${tenant}/v2.0`,
      aud: 'api://partner-transition-dev',
    });
  });

  it('refuses a token no route would honour, saying what to ask for instead', async () => {
    const failure = await run(
      'npm',
      [
        'run',
        '--silent',
        'token',
        '--',
        '--tenant',
        '11111111-2222-3333-4444-555555555555',
        '--app',
        '--roles',
        'GlobalAdmin',
      ],
      {
        cwd: root,
        env: { ...process.env, DEV_KEY_FILE: path.join(root, '.local/test-token-key.json') },
      },
    ).catch((error: { code: number; stdout: string; stderr: string }) => error);
    expect((failure as { code: number }).code).toBe(2);
    expect((failure as { stdout: string }).stdout).toBe('');
    expect((failure as { stderr: string }).stderr).toContain('give automation --roles AdminAgent');
  });
});
