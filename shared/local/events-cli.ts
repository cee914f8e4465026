import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Webhook } from 'standardwebhooks';

const usage = `usage: npm run events -- [--listen [port]] --secret whsec_... [--secret whsec_...]
  Receives webhooks on http://127.0.0.1:<port>/ (default 7072), checks each signature with the
  endpoint's secret (or WEBHOOK_SECRET) and prints each event: 204 when the signature is valid,
  401 when it is not. Register http://127.0.0.1:<port>/ as a webhook of the local app.`;

const defaultPort = 7072;
const maxBodyBytes = 1024 * 1024;

interface Options {
  port: number;
  secrets: Webhook[];
}

function options(): Options {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      listen: { type: 'boolean', default: false },
      secret: { type: 'string', multiple: true, default: [] },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  // `--listen 7080`: the port follows the flag.
  const port = positionals[0] === undefined ? defaultPort : Number(positionals[0]);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || positionals.length > 1) {
    console.error(usage);
    process.exit(2);
  }
  const given = values.secret.length > 0 ? values.secret : [process.env.WEBHOOK_SECRET ?? ''];
  const texts = given.map((secret) => secret.trim()).filter((secret) => secret !== '');
  if (texts.length === 0) {
    console.error(
      `No secret: give the endpoint's --secret whsec_... or set WEBHOOK_SECRET.\n${usage}`,
    );
    process.exit(2);
  }
  const secrets = texts.map((text) => {
    try {
      return new Webhook(text);
    } catch {
      // Never echo the secret itself.
      console.error('A secret is not a webhook secret (whsec_ and base64).');
      process.exit(2);
    }
  });
  return { port, secrets };
}

function bodyOf(request: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        resolve(undefined);
        request.destroy();
      } else chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

const headerText = (value: string | string[] | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;

/** Why no secret verifies this request, in the library's words, or undefined when one does. */
function verificationFailure(
  secrets: readonly Webhook[],
  body: string,
  headers: IncomingMessage['headers'],
): string | undefined {
  const strings: Record<string, string> = {};
  for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    const value = headerText(headers[name]);
    if (value !== undefined) strings[name] = value;
  }
  let failure = 'no secret';
  for (const secret of secrets) {
    try {
      secret.verify(body, strings, { jsonParse: false });
      return undefined;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
  }
  return failure;
}

function summaryOf(body: string): { type: string; data: unknown } {
  try {
    const event = JSON.parse(body) as { type?: unknown; data?: unknown };
    return {
      type: typeof event.type === 'string' ? event.type : '(no type)',
      data: 'data' in event ? event.data : event,
    };
  } catch {
    return { type: '(not JSON)', data: body.slice(0, 500) };
  }
}

/** `npm run events`: a local webhook endpoint that checks signatures and prints the events. */
function main(): void {
  const { port, secrets } = options();
  const server = createServer((request, response) => {
    void (async () => {
      if (request.method !== 'POST') {
        response.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      const body = await bodyOf(request);
      if (body === undefined) {
        response.writeHead(413).end();
        return;
      }
      const time = new Date().toISOString();
      const id = headerText(request.headers['webhook-id']) ?? '(no webhook-id)';
      const failure = verificationFailure(secrets, body, request.headers);
      if (failure) {
        console.log(`${time} signature invalid ${id}: ${failure}`);
        response.writeHead(401).end();
        return;
      }
      const { type, data } = summaryOf(body);
      console.log(`${time} ${type} ${id} verified`);
      console.log(JSON.stringify(data, null, 2));
      response.writeHead(204).end();
    })().catch(() => {
      if (!response.headersSent) response.writeHead(400);
      response.end();
    });
  });
  server.on('error', (error) => {
    console.error(error.message);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address() as AddressInfo;
    console.log(
      `Listening for webhooks on http://127.0.0.1:${actual}/ (${secrets.length} secret${secrets.length === 1 ? '' : 's'}); Ctrl-C stops.`,
    );
  });
  process.on('SIGINT', () => server.close(() => process.exit(0)));
}

main();
