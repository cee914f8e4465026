import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Azure for the azd hooks (infra/hooks), on 127.0.0.1: Resource Manager, Key Vault and the app
 * (under /app) answer through `routes`, and an `azd` on PATH answers `auth token` and `env get-values` as azd does
 * (azure-dev cmd/auth_token.go: `{"token", "expiresOn"}`). Every request is recorded.
 */
export interface Call {
  method: string;
  /** The path without its query string. */
  path: string;
  query: URLSearchParams;
  body: any;
  token: string | undefined;
}

export type Answer = [status: number, body?: unknown];
export type Route = [
  method: string,
  path: RegExp,
  answer: (call: Call, match: RegExpExecArray) => Answer,
];

export interface FakeAzure {
  url: string;
  calls: Call[];
  /** The calls of a method, as `METHOD path`. */
  seen(method?: string): string[];
  close(): Promise<void>;
}

/** The tokens the fake azd hands out: Resource Manager's, and Key Vault's (--scope). */
export const tokens = {
  resourceManager: `h.${Buffer.from(JSON.stringify({ oid: '6c1f5d2e-7a3b-4c8d-9e0f-1a2b3c4d5e6f' })).toString('base64url')}.s`,
  keyVault: 'key-vault-token',
};
export const signedInObjectId = '6c1f5d2e-7a3b-4c8d-9e0f-1a2b3c4d5e6f';

export async function startFakeAzure(routes: Route[]): Promise<FakeAzure> {
  const calls: Call[] = [];
  const server = http.createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const call: Call = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body: text ? JSON.parse(text) : undefined,
        token: request.headers.authorization?.replace(/^Bearer /, ''),
      };
      calls.push(call);
      let answer: Answer = [404, { error: { code: 'NotFound', message: 'no such thing' } }];
      // The app itself (/app/...) is anonymous; Azure's APIs want a token azd gave.
      const anonymous = call.path.startsWith('/app/');
      if (!anonymous && (!call.token || !Object.values(tokens).includes(call.token)))
        answer = [401];
      else
        for (const [method, pattern, respond] of routes) {
          const match = pattern.exec(call.path);
          if (match && method === call.method) {
            answer = respond(call, match);
            break;
          }
        }
      const [status, body] = answer;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    seen: (method) =>
      calls
        .filter((call) => method === undefined || call.method === method)
        .map((call) => `${call.method} ${call.path}`),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A folder holding an `azd` that answers as azd does, with these environment values. */
export function fakeAzd(environment: Record<string, string> = {}): string {
  const bin = mkdtempSync(path.join(tmpdir(), 'fake-azd-'));
  const script = [
    `#!${process.execPath}`,
    'const args = process.argv.slice(2);',
    `const tokens = ${JSON.stringify(tokens)};`,
    "if (args[0] === 'auth' && args[1] === 'token') {",
    "  const scope = args[args.indexOf('--scope') + 1];",
    "  const token = args.includes('--scope') && scope.startsWith('https://vault.azure.net') ? tokens.keyVault : tokens.resourceManager;",
    "  console.log(JSON.stringify({ token, expiresOn: '2026-12-31T10:00:00Z' }));",
    "} else if (args[0] === 'env' && args[1] === 'get-values') {",
    `  console.log(JSON.stringify(${JSON.stringify(environment)}));`,
    '} else {',
    "  console.error('fake azd: ' + args.join(' ')); process.exit(2);",
    '}',
    '',
  ].join('\n');
  writeFileSync(path.join(bin, 'azd'), script);
  chmodSync(path.join(bin, 'azd'), 0o755);
  return bin;
}

export interface HookRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a hook of infra/hooks with node, as azd does, against `azure`. */
export function runHook(
  script: string,
  azure: FakeAzure,
  environment: Record<string, string>,
  options: { args?: string[]; azdEnvironment?: Record<string, string> } = {},
): Promise<HookRun> {
  const root = path.resolve(__dirname, '../..');
  const bin = fakeAzd(options.azdEnvironment);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(root, 'infra', 'hooks', script), ...(options.args ?? [])],
      {
        env: {
          PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`,
          AZURE_RESOURCE_MANAGER_ENDPOINT: azure.url,
          AZURE_HOOKS_POLL_SECONDS: '0.05',
          AZURE_HOOKS_WAIT_SECONDS: '3',
          ...environment,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}
