import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** How the receiver answers one request; by default 204 at once. */
export interface ScriptedAnswer {
  status?: number;
  /** Waits this long before answering (a slow endpoint). */
  delayMs?: number;
  /** Answers a redirect (302 unless `status` says) to this URL. */
  redirectTo?: string;
  body?: string;
}

export interface ReceivedWebhook {
  id: string | undefined;
  /** The event's `type`, read from the JSON body. */
  type: string | undefined;
  body: string;
  headers: IncomingHttpHeaders;
  /** True when Standard Webhooks' own verifier accepts it under one of the secrets. */
  verified: boolean;
}

export interface WebhookReceiver {
  /** `http://<host>:<port>/hook` */
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Queues answers, one per coming request, in order. */
  answer(...answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  secrets?: string[];
  /** 127.0.0.1 unless a test needs a second loopback address. */
  host?: string;
  /** A free port unless given. */
  port?: number;
}

function verifiedUnder(secrets: readonly string[], body: string, headers: IncomingHttpHeaders) {
  const strings = Object.fromEntries(
    Object.entries(headers).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
  return secrets.some((secret) => {
    try {
      new Webhook(secret).verify(body, strings);
      return true;
    } catch {
      return false;
    }
  });
}

function typeOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { type?: unknown };
    return typeof parsed.type === 'string' ? parsed.type : undefined;
  } catch {
    return undefined;
  }
}

function respond(response: ServerResponse, answer: ScriptedAnswer): void {
  if (answer.redirectTo !== undefined) {
    response.writeHead(answer.status ?? 302, { location: answer.redirectTo }).end();
    return;
  }
  response.writeHead(answer.status ?? 204, answer.body ? { 'content-type': 'text/plain' } : {});
  response.end(answer.body);
}

/** A real HTTP endpoint for webhook tests; it never keeps the test process alive. */
export async function startWebhookReceiver(
  options: ReceiverOptions = {},
): Promise<WebhookReceiver> {
  const secrets = options.secrets ?? [];
  const received: ReceivedWebhook[] = [];
  const script: ScriptedAnswer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = request.headers['webhook-id'];
      received.push({
        id: typeof id === 'string' ? id : undefined,
        type: typeOf(body),
        body,
        headers: request.headers,
        verified: verifiedUnder(secrets, body, request.headers),
      });
      const answer = script.shift() ?? {};
      if (!answer.delayMs) return respond(response, answer);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!response.destroyed) respond(response, answer);
      }, answer.delayMs);
      timer.unref();
      timers.add(timer);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/hook`,
    port,
    received,
    answer: (...answers) => script.push(...answers),
    close: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
