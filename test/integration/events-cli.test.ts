import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { newWebhookSecret } from '../../shared/adapters/webhooks/secrets';

const root = path.resolve(__dirname, '../..');
/** What `npm run events` runs (built by npm run build). */
const cli = path.join(root, 'dist/local/events.js');

interface Running {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  /** Resolves once the output contains `text`. */
  printed: (text: string) => Promise<void>;
}

const running: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill();
});

async function startCli(args: string[], env: Record<string, string> = {}): Promise<Running> {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  running.push(child);
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const collect = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const waiter of waiters.filter(({ text }) => output.includes(text))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const printed = (text: string): Promise<void> =>
    output.includes(text)
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ text, resolve }));
  await printed('Listening for webhooks on ');
  const url = /Listening for webhooks on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
  return { child, url, output: () => output, printed };
}

function signedPost(url: string, secret: string, event: { id: string; type: string }) {
  const body = JSON.stringify({ ...event, occurredAt: new Date().toISOString(), data: { n: 7 } });
  const timestamp = new Date();
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(event.id, timestamp, body),
    },
    body,
  });
}

describe('npm run events', () => {
  it('prints a signed event as verified and answers 204', async () => {
    const secret = newWebhookSecret();
    const events = await startCli(['--listen', '0', '--secret', secret]);
    const response = await signedPost(events.url, secret, {
      id: 'evt_cli_1',
      type: 'webhook.test',
    });
    expect(response.status).toBe(204);
    await events.printed('webhook.test evt_cli_1 verified');
    await events.printed('"n": 7');
    expect(events.output()).not.toContain(secret);
  });

  it('answers 401 to a forged event and says the signature is invalid', async () => {
    const secret = newWebhookSecret();
    const events = await startCli(['--listen', '0'], { WEBHOOK_SECRET: secret });
    const response = await signedPost(events.url, newWebhookSecret(), {
      id: 'evt_forged',
      type: 'transfer.completed',
    });
    expect(response.status).toBe(401);
    await events.printed('signature invalid evt_forged');
    expect(events.output()).not.toContain('verified');
  });

  it('refuses to start without a secret', async () => {
    const child = spawn(process.execPath, [cli, '--listen', '0'], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '' },
    });
    running.push(child);
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(output).toContain('No secret');
  });
});
