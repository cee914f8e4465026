import {
  HttpRequest,
  InvocationContext,
  type HttpResponseInit,
  type Timer,
} from '@azure/functions';
import { Cron } from 'croner';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Services } from '../app/services';
import type { FunctionDefinition, TimerFunctionDefinition } from '../functions';
import type { HttpFunctionDefinition } from '../http/define';
import { maxBodyBytes } from '../http/define';
import { problem } from '../http/problem';
import { redactSecrets } from '../redact';
import { corsHeaders, preflight } from './cors';

export type LogLevel =
  'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export interface LogEntry {
  level: LogLevel;
  functionName: string;
  invocationId: string;
  message: string;
}

export interface LocalHostOptions {
  table: readonly FunctionDefinition[];
  services: Services;
  port: number;
  hostname?: string;
  /** Run timers on their schedules (npm start); tests trigger them explicitly. */
  runTimers: boolean;
  log: (entry: LogEntry) => void;
}

export interface LocalHost {
  url: string;
  port: number;
  /** Runs a timer function now and resolves when it has finished. */
  runTimer(name: string): Promise<void>;
  close(): Promise<void>;
}

interface CompiledRoute {
  definition: HttpFunctionDefinition;
  pattern: RegExp;
  names: string[];
}

/** A Functions route template (`me/customers/{customerId}`) as a regular expression. */
export function compileRoute(route: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = route
    .split('/')
    .map((segment) => {
      const match = /^\{([A-Za-z][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
      if (!match) return `/${segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
      names.push(match[1]!);
      return match[2] ? '(?:/([^/]+))?' : '/([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}/?$`, 'i'), names };
}

/** Hop-by-hop headers that a fetch Request refuses or that only concern the socket. */
const hopByHop = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

function requestHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** Like the Azure front end: the peer's address appended to X-Forwarded-For. */
function withClientAddress(
  headers: Record<string, string>,
  address: string | undefined,
): Record<string, string> {
  if (!address) return headers;
  const forwarded = headers['x-forwarded-for'];
  return { ...headers, 'x-forwarded-for': forwarded ? `${forwarded}, ${address}` : address };
}

/** Reads at most one byte more than the limit, so an oversized body is seen as such. */
async function readBody(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of message) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    length += buffer.length;
    if (length > maxBodyBytes) break;
  }
  return Buffer.concat(chunks).subarray(0, maxBodyBytes + 1);
}

function writeResponse(response: ServerResponse, init: HttpResponseInit): void {
  const headers = new Headers(init.headers as Record<string, string> | undefined);
  const body =
    init.body === undefined || init.body === null
      ? undefined
      : typeof init.body === 'string'
        ? Buffer.from(init.body, 'utf8')
        : Buffer.from(init.body as Uint8Array);
  headers.forEach((value, name) => response.setHeader(name, value));
  if (body) response.setHeader('Content-Length', body.length);
  response.statusCode = init.status ?? 200;
  response.end(body);
}

/**
 * The project's own small Functions host: it serves the function table's HTTP rows at
 * /api/..., building the real HttpRequest and InvocationContext of @azure/functions and calling
 * the same handlers Azure calls; runs timers on their NCRONTAB schedules (croner reads the
 * six-field, seconds-first form); answers POST /admin/functions/{name} like the Functions host.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const { services, log } = options;
  const routes: CompiledRoute[] = options.table
    .filter((definition): definition is HttpFunctionDefinition => definition.kind === 'http')
    .map((definition) => ({ definition, ...compileRoute(definition.route) }));
  const timers = new Map(
    options.table
      .filter((definition): definition is TimerFunctionDefinition => definition.kind === 'timer')
      .map((definition) => [definition.name.toLowerCase(), definition]),
  );

  const contextFor = (functionName: string): InvocationContext => {
    const invocationId = randomUUID();
    return new InvocationContext({
      invocationId,
      functionName,
      logHandler: (level, ...args) =>
        log({
          level,
          functionName,
          invocationId,
          message: args
            .map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg)))
            .join(' '),
        }),
    });
  };

  const runTimer = async (definition: TimerFunctionDefinition, cron?: Cron): Promise<void> => {
    const context = contextFor(definition.name);
    const next = cron?.nextRun();
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: new Date().toISOString(),
        next: next ? next.toISOString() : '',
        lastUpdated: new Date().toISOString(),
      },
    };
    try {
      await definition.handler(timer, context, services);
    } catch (error) {
      context.error(
        `timer ${definition.name} failed`,
        redactSecrets(error instanceof Error ? error.message : String(error)),
      );
      throw error;
    }
  };

  const handle = async (message: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(message.url ?? '/', `http://${message.headers.host ?? 'localhost'}`);
    // Read now: once an oversized body is refused the socket may be gone.
    const peer = message.socket?.remoteAddress;
    const method = (message.method ?? 'GET').toUpperCase();
    const origin = message.headers.origin;
    const allowedOrigins = services.config.corsOrigins;
    if (method === 'OPTIONS' && origin && message.headers['access-control-request-method']) {
      await readBody(message);
      return writeResponse(response, preflight(origin, allowedOrigins));
    }
    const cors = corsHeaders(origin, allowedOrigins);
    const send = (init: HttpResponseInit): void => {
      const headers = new Headers(init.headers as Record<string, string> | undefined);
      Object.entries(cors).forEach(([name, value]) => headers.set(name, value));
      writeResponse(response, { ...init, headers: Object.fromEntries(headers) });
    };

    const admin = /^\/admin\/functions\/([^/]+)\/?$/.exec(url.pathname);
    if (admin) {
      await readBody(message);
      // No key guards it locally, so nothing a web page can reach: a browser always sends
      // Origin on a cross-site POST (even no-cors), and DNS rebinding shows in Host.
      if (origin !== undefined) {
        return writeResponse(
          response,
          problem('forbidden', 'Timers are run from the command line, not from a web page.'),
        );
      }
      if (!localHostHeader(message.headers.host)) {
        return writeResponse(
          response,
          problem('forbidden', 'Timers run only for Host localhost or 127.0.0.1.'),
        );
      }
      let name: string;
      try {
        name = decodeURIComponent(admin[1]!).toLowerCase();
      } catch {
        return send(problem('not-found', 'No such timer function.'));
      }
      const definition = timers.get(name);
      if (method !== 'POST') return send(problem('method-not-allowed', 'Use POST.'));
      if (!definition) return send(problem('not-found', 'No such timer function.'));
      // Like the Functions host: accepted at once, run in the background.
      void runTimer(definition).catch(() => undefined);
      return send({ status: 202 });
    }

    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : null;
    const candidates = path === null ? [] : routes.filter((route) => route.pattern.test(path));
    const route = candidates.find((candidate) =>
      candidate.definition.methods.includes(method as never),
    );
    if (!route) {
      await readBody(message);
      if (candidates.length > 0) {
        const allow = [
          ...new Set(candidates.flatMap((candidate) => candidate.definition.methods)),
        ].join(', ');
        return send(problem('method-not-allowed', `Use ${allow}.`, undefined, { Allow: allow }));
      }
      return send(problem('not-found', 'There is no such route.'));
    }
    const values = route.pattern.exec(path!)!.slice(1);
    const params: Record<string, string> = {};
    route.names.forEach((name, index) => {
      const value = values[index];
      if (value === undefined) return;
      try {
        params[name] = decodeURIComponent(value);
      } catch {
        params[name] = value;
      }
    });
    const body = method === 'GET' || method === 'HEAD' ? undefined : await readBody(message);
    const request = new HttpRequest({
      method,
      url: url.toString(),
      headers: withClientAddress(requestHeaders(message), peer),
      params,
      ...(body && body.length > 0 ? { body: { bytes: body } } : {}),
    });
    const result = await route.definition.handler(
      request,
      contextFor(route.definition.name),
      services,
    );
    send(result);
  };

  const server = http.createServer((message, response) => {
    handle(message, response).catch((error: unknown) => {
      log({
        level: 'error',
        functionName: 'host',
        invocationId: '',
        message: redactSecrets(
          error instanceof Error ? (error.stack ?? error.message) : String(error),
        ),
      });
      if (!response.headersSent)
        writeResponse(response, problem('internal-error', 'The local host failed.'));
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const crons = options.runTimers
    ? [...timers.values()].map((definition) => {
        const cron: Cron = new Cron(
          definition.schedule,
          { timezone: 'UTC', protect: true },
          async () => {
            await runTimer(definition, cron).catch(() => undefined);
          },
        );
        return cron;
      })
    : [];

  return {
    url: `http://${options.hostname === '0.0.0.0' ? '127.0.0.1' : (options.hostname ?? '127.0.0.1')}:${port}`,
    port,
    async runTimer(name) {
      const definition = timers.get(name.toLowerCase());
      if (!definition) throw new Error(`no timer function named ${name}`);
      await runTimer(definition);
    },
    async close() {
      crons.forEach((cron) => cron.stop());
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `localhost` or `127.0.0.1`, with any port: what the developer's own tools send. */
export function localHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = /^(localhost|127\.0\.0\.1)(?::\d{1,5})?$/i.exec(host.trim());
  return match !== null;
}
