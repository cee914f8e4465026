import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

let workdir: string;
let stack: ChildProcess;
let base: string;
let env: NodeJS.ProcessEnv;
let printed: string;
let stackOutput = '';

// The local stack as `npm start` runs it (the built dist/local/start.js), in a folder of its
// own, on free ports; then `npm run demo` against it, as a newcomer would.
beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'pt-demo-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    ...process.env,
    PORT: String(port),
    PUBLIC_BASE_URL: base,
    COSMOS_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
    DEV_KEY_FILE: path.join(workdir, 'key.json'),
    EMAIL_OUTBOX_DIR: path.join(workdir, 'outbox'),
  };
  stack = spawn(process.execPath, [path.join(root, 'dist/local/start.js')], {
    cwd: workdir,
    env,
    stdio: 'pipe',
  });
  stack.stdout!.on('data', (chunk: Buffer) => (stackOutput += chunk.toString()));
  stack.stderr!.on('data', (chunk: Buffer) => (stackOutput += chunk.toString()));
  let healthy = false;
  for (let waited = 0; waited < 60_000 && !healthy; waited += 250) {
    healthy = (await fetch(`${base}/api/health`).catch(() => undefined))?.status === 200;
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!healthy) throw new Error(`npm start did not come up: ${stackOutput}`);
  const started = Date.now();
  printed = (
    await run(process.execPath, [path.join(root, 'dist/local/demo.js'), '--url', base], {
      cwd: workdir,
      env,
    })
  ).stdout;
  console.log(`npm run demo: ${Date.now() - started} ms`);
}, 90_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = new Promise((resolve) => stack.once('exit', resolve));
    stack.kill('SIGTERM');
    await exited;
  }
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

/** The shell variables the demo printed (`export NAME=value`). */
function exported(): Record<string, string> {
  return Object.fromEntries(
    [...printed.matchAll(/^export (\w+)=(\S+)$/gm)].map(([, name, value]) => [name!, value!]),
  );
}

/** A printed curl line, run with fetch: its method, URL and Authorization, variables expanded. */
async function curl(line: string): Promise<Response> {
  const variables = exported();
  const expand = (text: string): string =>
    text.replace(/\$(\w+)/g, (_, name: string) => variables[name] ?? `$${name}`);
  const method = /-X (\w+)/.exec(line)?.[1] ?? 'GET';
  const url = expand(/ "?(\$API[^\s"]*)/.exec(line)![1]!);
  const token = /Authorization: Bearer (\$\w+)/.exec(line)?.[1];
  // A JSON body as the shell would pass it: -d "{\"token\":\"$INVITATION\"}".
  const data = / -d "((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
  return fetch(url, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${expand(token)}` } : {}),
      ...(data === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    ...(data === undefined ? {} : { body: expand(data.replace(/\\"/g, '"')) }),
  });
}

describe('npm run demo, against npm start', () => {
  it('prints the tokens, the curl lines and the links, each one working', async () => {
    const variables = exported();
    expect(Object.keys(variables)).toEqual([
      'API',
      'OPERATOR',
      'ADMIN',
      'PROVIDER_ADMIN',
      'INVITATION',
    ]);
    const curls = printed.split('\n').filter((line) => line.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(8);
    const gets = curls.filter((line) => !line.includes('-X '));
    for (const line of gets) {
      const response = await curl(line);
      expect(response.status, line).toBe(200);
    }
  });

  it('made a direct-bill partner with customers and subscriptions, enrolled and active', async () => {
    const admin = { Authorization: `Bearer ${exported().ADMIN}` };
    const me = (await (await fetch(`${base}/api/me`, { headers: admin })).json()) as any;
    expect(me).toMatchObject({ companyName: 'Contoso', partnerType: 'both' });
    expect(me.programs.indirectReseller.status).toBe('active');
    const customers = (await (
      await fetch(`${base}/api/me/customers`, { headers: admin })
    ).json()) as any;
    expect(customers.items.map((customer: any) => customer.companyName).sort()).toEqual([
      'Fabrikam',
      'Wingtip Toys',
    ]);
    for (const customer of customers.items) {
      expect(customer.acquiredAs).toBe('direct-bill');
      const subscriptions = (await (
        await fetch(`${base}/api/me/customers/${customer.customerId}/subscriptions`, {
          headers: admin,
        })
      ).json()) as any;
      expect(subscriptions.items.length).toBe(2);
    }
  });

  it('leaves the provider’s invitation pending; its printed link opens a page, and the printed accept line accepts it', async () => {
    const links = [...printed.matchAll(/(http:\/\/\S+)/g)].map(([url]) => url!);
    const pages = links.filter(
      (link) => link.includes('/api/links/') || link.endsWith('/api/docs'),
    );
    expect(pages).toHaveLength(3);
    for (const link of pages) {
      expect(link.startsWith(base), link).toBe(true);
      const response = await fetch(link);
      expect(response.status, link).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/html');
    }
    // The page is a shell whose script reads the secret after '#' and looks it up: the printed
    // lookup line does what that script does.
    expect(pages.find((link) => link.includes('partner-invitations'))).toContain('#');
    const lookupLine = printed.split('\n').find((line) => line.includes('/lookup'))!;
    const lookup = (await (await curl(lookupLine)).json()) as any;
    expect(lookup).toMatchObject({ providerName: 'Adatum Distribution', status: 'pending' });

    const accept = printed.split('\n').find((line) => line.includes('/accept'))!;
    expect((await curl(accept)).status).toBe(200);
    const providers = (await (
      await curl(printed.split('\n').find((line) => line.includes('$API/me/indirect-providers'))!)
    ).json()) as any;
    expect(providers.items.map((provider: any) => provider.companyName)).toEqual([
      'Adatum Distribution',
    ]);
  });

  it("ends on the transition view of its partner, each step's state printed", async () => {
    const tail = printed.trimEnd().split('\n').slice(-12);
    expect(tail[0]).toBe('curl -s $API/me/transition -H "Authorization: Bearer $ADMIN"');
    expect(tail[1]).toContain("Contoso's transition");
    const states = Object.fromEntries(
      tail.slice(2, 10).map((line) => {
        const [, step, status] = /^ {2}(\S+)\s+(\S+(?: \(\w+\))?)\s{2,}\S/.exec(line)!;
        return [step!, status!];
      }),
    );
    // Approved at once and active, its provider's invitation waiting in its mailbox; the
    // incentives invitation is due (waiting on the platform) until the hourly timer sends it.
    expect(states).toMatchObject({
      profile: 'done',
      enrollment: 'done',
      approval: 'done',
      agreement: 'done',
      provider: 'todo',
      customers: 'not-yet',
      subscriptions: 'not-yet',
    });
    expect(['waiting (platform)', 'todo']).toContain(states.incentives);
    // Contoso is in France: the details are in French, as its emails are.
    expect(tail[6]).toContain('fournisseur');
    expect(tail[11]).toBe(
      '  counts: 0 providers; customers 2 direct bill, 0 extended to a provider, 0 indirect; subscriptions 4 direct bill active, 0 in a transfer, 0 transferred',
    );
    expect(tail[10]).toBe('  next: provider');
    // The printed curl line reads the same view (the test above has since accepted the
    // provider's invitation: the steps before it are as printed).
    const view = (await (await curl(tail[0]!)).json()) as any;
    expect(view.steps.slice(0, 4).map((state: any) => state.status)).toEqual([
      states.profile,
      states.enrollment,
      states.approval,
      states.agreement,
    ]);
  });
});
