import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { azureSettings } from '../support/function-registrations';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
const worker = path.join(root, 'test/support/functions-worker.cjs');
const copies: string[] = [];
afterAll(() => copies.forEach((copy) => rmSync(copy, { recursive: true, force: true })));

interface Invocation {
  functionName: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
  body?: string;
}

interface Result {
  status: number;
  headers: Record<string, string>;
  body: string;
  logs: { level: string; category: string; message: string }[];
  failed?: string;
}

/** The deploy package (.deploy, what azd uploads), copied away from node_modules. */
function deployCopy(without: string[] = []): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'worker-entry-'));
  copies.push(copy);
  cpSync(path.join(root, '.deploy'), copy, { recursive: true });
  for (const file of without) rmSync(path.join(copy, file));
  return copy;
}

/** Loads the package's entry (package.json main) in a worker stand-in and runs the invocations. */
async function invokeThroughWorker(folder: string, invocations: Invocation[]): Promise<Result[]> {
  const file = path.join(folder, 'invocations.json');
  writeFileSync(file, JSON.stringify(invocations));
  const { stdout } = await run(
    process.execPath,
    [worker, path.join(folder, 'dist/functions/main.js'), file],
    { cwd: folder, env: { PATH: process.env.PATH ?? '', ...azureSettings } },
  );
  return JSON.parse(stdout.split('@@RESULTS@@')[1]!) as Result[];
}

const request = (overrides: Partial<Invocation> & { functionName: string }): Invocation => ({
  method: 'GET',
  url: 'https://func-abc123.azurewebsites.net/api/nowhere',
  headers: { host: 'func-abc123.azurewebsites.net' },
  ...overrides,
});

describe('the deploy bundle entry as the Node.js worker loads and invokes it (functions/index.ts, main.js)', () => {
  it("answers what no route takes through the catch-all, with the app's problem+json: 404, or 405 with Allow", async () => {
    const [unknown, wrongMethod] = await invokeThroughWorker(deployCopy(), [
      request({ functionName: 'zzUnmatchedRoute', params: { path: 'nowhere' } }),
      request({
        functionName: 'zzUnmatchedRoute',
        method: 'DELETE',
        url: 'https://func-abc123.azurewebsites.net/api/me',
        params: { path: 'me' },
      }),
    ]);
    expect(unknown).toMatchObject({
      status: 404,
      headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    });
    expect(JSON.parse(unknown!.body)).toMatchObject({ code: 'not-found' });
    expect(wrongMethod).toMatchObject({ status: 405, headers: { allow: 'GET' } });
  });

  it('answers 411 length-required for a body sent chunked, which reaches the worker as its header and no body', async () => {
    const [chunked] = await invokeThroughWorker(deployCopy(), [
      request({
        functionName: 'lookupPartnerInvitation',
        method: 'POST',
        url: 'https://func-abc123.azurewebsites.net/api/partner-invitations/lookup',
        headers: {
          host: 'func-abc123.azurewebsites.net',
          'content-type': 'application/json',
          'transfer-encoding': 'chunked',
          'x-forwarded-for': '203.0.113.7:51234',
        },
      }),
    ]);
    expect(chunked!.status).toBe(411);
    expect(JSON.parse(chunked!.body)).toMatchObject({ code: 'length-required' });
  });

  it("answers the app's problem+json, not the host's empty 500, when the services cannot be built, on every invocation", async () => {
    const results = await invokeThroughWorker(deployCopy(['dist/functions/cosmos.js']), [
      request({ functionName: 'zzUnmatchedRoute', params: { path: 'nowhere' } }),
      request({ functionName: 'zzUnmatchedRoute', params: { path: 'nowhere' } }),
    ]);
    for (const result of results) {
      expect(result.failed).toBeUndefined();
      expect(result.status).toBe(500);
      expect(JSON.parse(result.body)).toMatchObject({ code: 'internal-error' });
      expect(result.logs.filter((log) => log.category === 'user' && log.level === 'error')).toEqual(
        [expect.objectContaining({ message: expect.stringContaining('unhandled error') })],
      );
    }
  });
});
