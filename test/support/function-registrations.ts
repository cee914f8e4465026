import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const preload = path.resolve(__dirname, 'functions-core-preload.cjs');

export interface Registration {
  name: string;
  bindings: Record<
    string,
    { type: string; methods?: string[]; route?: string; schedule?: string; authLevel?: string }
  >;
}

/**
 * Loads an entry point in a child process, as the Functions worker would (the preload stands in
 * for @azure/functions-core), and answers what it registered with the host.
 */
export async function registrationsOf(
  entry: string,
  env: Record<string, string>,
  cwd: string = path.dirname(entry),
): Promise<Registration[]> {
  const { stdout } = await run(
    process.execPath,
    ['--require', preload, '-e', `require(${JSON.stringify(entry)})`],
    { cwd, env: { PATH: process.env.PATH ?? '', ...env } },
  );
  const marker = stdout.split('@@REGISTRATIONS@@')[1];
  if (!marker) throw new Error(`no registrations printed: ${stdout}`);
  return JSON.parse(marker) as Registration[];
}

/** The settings the app cannot start without in Azure (entra mode). */
export const azureSettings = {
  COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
  AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
  IDEMPOTENCY_SECRET: 'the-key-vault-resolved-secret-of-32-characters-or-more',
};
