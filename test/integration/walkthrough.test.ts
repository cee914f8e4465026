import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');

/**
 * docs/walkthrough.md's "Step by step", run as a newcomer pastes it into bash against
 * `npm start` (the built dist/local/start.js, in a folder of its own, on a free port): only the
 * address and `npm run --silent token` (the same script, run by node) are replaced. Each
 * `GET /api/me/transition`, pipeline and report answer is captured, to hold the comments above
 * them to what the app says.
 */
let workdir: string;
let stack: ChildProcess;
let stackOutput = '';
let printed = '';
let base: string;
let env: NodeJS.ProcessEnv;
const answers: { label: string; body: string }[] = [];

/** The shell block of the "Step by step" section. */
function stepByStep(): string {
  const page = readFileSync(path.join(root, 'docs/walkthrough.md'), 'utf8');
  const section = page.slice(page.indexOf('## Step by step'));
  return /```sh\n([\s\S]*?)\n```/.exec(section)![1]!;
}

beforeAll(async () => {
  workdir = await mkdtemp(path.join(os.tmpdir(), 'pt-walkthrough-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  env = {
    ...process.env,
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
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
    healthy =
      (await fetch(`http://127.0.0.1:${port}/api/health`).catch(() => undefined))?.status === 200;
    if (!healthy) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!healthy) throw new Error(`npm start did not come up: ${stackOutput}`);

  const lines = stepByStep()
    .replaceAll('localhost:7071', `127.0.0.1:${port}`)
    .replaceAll('npm run --silent token --', `"${process.execPath}" dist/local/token.js`)
    .split('\n')
    .map((line) =>
      /^curl -s "?\$API\/(me\/transition|me\/reseller-pipeline|operator\/reports\/transitions)/.test(
        line,
      )
        ? `echo; echo "@@ ${line.replace(/["$`\\]/g, '\\$&')}"; ${line}; echo; echo "@@"`
        : line,
    );
  // curl as the machine has it; on one without (CI has only Node.js and npm), a stand-in for
  // the few options the walk-through uses (test/support/curl-stand-in.mjs).
  let shellPath = env.PATH ?? '';
  if (spawnSync('sh', ['-c', 'command -v curl'], { env }).status !== 0) {
    const bin = path.join(workdir, 'bin');
    mkdirSync(bin);
    const standIn = path.join(root, 'test/support/curl-stand-in.mjs');
    writeFileSync(
      path.join(bin, 'curl'),
      `#!/bin/sh\nexec "${process.execPath}" "${standIn}" "$@"\n`,
    );
    chmodSync(path.join(bin, 'curl'), 0o755);
    shellPath = `${bin}${path.delimiter}${shellPath}`;
  }
  printed = (
    await run('bash', ['-e', '-c', lines.join('\n')], {
      cwd: root,
      env: { ...env, PATH: shellPath },
      maxBuffer: 16 * 1024 * 1024,
    })
  ).stdout;
  for (const [, label, body] of printed.matchAll(/^@@ (.+)\n([\s\S]*?)\n@@$/gm))
    answers.push({ label: label!, body: body! });
}, 120_000);

afterAll(async () => {
  if (stack && stack.exitCode === null) {
    const exited = new Promise((resolve) => stack.once('exit', resolve));
    stack.kill('SIGTERM');
    await exited;
  }
  if (workdir) await rm(workdir, { recursive: true, force: true });
});

const steps = (view: { steps: { step: string; status: string }[] }) =>
  Object.fromEntries(view.steps.map((state) => [state.step, state.status]));

describe('docs/walkthrough.md, step by step in bash against npm start', () => {
  it('runs every step without a refusal', () => {
    // Every answer the walk-through prints; a problem+json would name its code.
    expect(printed.match(/"code":"[\w-]+"/g) ?? []).toEqual([]);
    expect(answers.map((answer) => answer.label.split(' ')[2])).toEqual([
      '$API/me/transition',
      '$API/me/transition',
      '$API/me/transition',
      '$API/me/reseller-pipeline',
      '"$API/operator/reports/transitions?from=$(date',
    ]);
  });

  it('shows the transition its comments say: enrollment next, then waiting on the provider, then moved', () => {
    const [before, inTransfer, moved] = answers
      .slice(0, 3)
      .map((answer) => JSON.parse(answer.body));
    // Profile done, enrollment to do (next), the rest not yet.
    expect(steps(before)).toEqual({
      profile: 'done',
      enrollment: 'todo',
      approval: 'not-yet',
      agreement: 'not-yet',
      provider: 'not-yet',
      customers: 'not-yet',
      subscriptions: 'not-yet',
      incentives: 'not-yet',
    });
    expect(before.next).toBe('enrollment');
    expect(before.counts.customers).toEqual({ directBill: 1, extendedToProvider: 0, indirect: 0 });
    // Subscriptions waiting on the provider, one in a transfer.
    expect(inTransfer.steps[6]).toMatchObject({ status: 'waiting', waitingOn: 'provider' });
    expect(inTransfer.counts.subscriptions.inTransfer).toBe(1);
    // Customers and subscriptions done.
    expect(steps(moved)).toMatchObject({
      profile: 'done',
      enrollment: 'done',
      approval: 'done',
      agreement: 'done',
      provider: 'done',
      customers: 'done',
      subscriptions: 'done',
    });
    expect(moved.counts).toMatchObject({
      providers: 1,
      customers: { directBill: 0, extendedToProvider: 1, indirect: 1 },
      subscriptions: { inTransfer: 0, transferred: 1 },
    });
  });

  it("shows the provider's pipeline with its reseller and what it moved, and the operators' report of the year", () => {
    const pipeline = JSON.parse(answers[3]!.body);
    expect(pipeline.resellers).toMatchObject([
      {
        resellerId: '11111111-1111-1111-1111-111111111111',
        companyName: 'Contoso',
        status: 'active',
        customersExtended: 1,
        transfersPending: 0,
        transfersCompleted: 1,
      },
    ]);
    const report = JSON.parse(answers[4]!.body);
    const year = new Date().getUTCFullYear();
    expect(report).toMatchObject({ from: `${year}-01-01`, to: `${year}-12-31` });
    expect(Object.keys(report.funnel)).toHaveLength(10);
    expect(report.stuck).toEqual([]);
  });

  it("counts Contoso in the report's funnel once its events are published (seconds)", async () => {
    const operator = (
      await run(
        process.execPath,
        [
          'dist/local/token.js',
          '--tenant',
          '00000000-0000-0000-0000-0000000000ff',
          '--roles',
          'Operator',
        ],
        { cwd: root, env },
      )
    ).stdout.trim();
    const year = new Date().getUTCFullYear();
    let funnel: Record<string, number> = {};
    for (let waited = 0; waited < 20_000; waited += 250) {
      const response = await fetch(
        `${base}/api/operator/reports/transitions?from=${year}-01-01&to=${year}-12-31`,
        { headers: { Authorization: `Bearer ${operator}` } },
      );
      expect(response.status).toBe(200);
      funnel = ((await response.json()) as { funnel: Record<string, number> }).funnel;
      if (funnel.firstTransferCompleted === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(funnel).toMatchObject({
      enrollmentsSubmitted: 1,
      autoApproved: 1,
      agreementsAccepted: 1,
      firstPartnership: 1,
      firstCustomerExtended: 1,
      firstTransferCompleted: 1,
    });
  });
});
