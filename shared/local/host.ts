import {
  HttpRequest,
  InvocationContext,
  type HttpResponseInit,
  type Timer,
} from '@azure/functions';
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Services } from '../app/services';
import type { FunctionDefinition, TimerFunctionDefinition } from '../functions';
import { hostBodyLimitBytes, type HttpHandler } from '../http/define';
import { byFunctionName, compileRoute, routeValues, type RouteTemplate } from '../http/routes';
import { redactSecrets } from '../redact';
import { answerAdmin } from './admin';
import { corsPolicy, isPreflight, preflightHeaders, responseCorsHeaders } from './cors';
import { hostJsonSettings } from './host-json';
import { decodedPath, queryOf, readBody, requestHeaders, withClientAddress } from './intake';
import {
  fileScheduleStore,
  listen,
  ncrontab,
  timerInfo,
  type TimerListener,
} from './timer-listener';

export type LogLevel =
  'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical' | 'none';

export interface LogEntry {
  level: LogLevel;
  functionName: string;
  invocationId: string;
  message: string;
  /** A line of the host's own (not the function's), as the Functions host logs it. */
  system?: true;
}

export interface LocalHostOptions {
  table: readonly FunctionDefinition[];
  services: Services;
  port: number;
  hostname?: string;
  /** Run timers on their schedules (npm start); tests trigger them explicitly. */
  runTimers: boolean;
  /** Where each timer's schedule status is kept, so runs missed while stopped run at start. */
  scheduleStatusDir?: string;
  /** LOCAL_MASTER_KEY: the admin API then asks for it, as the Functions host asks its master key. */
  masterKey?: string;
  log: (entry: LogEntry) => void;
}

export interface LocalHost {
  url: string;
  port: number;
  /** Runs a timer function now and resolves when it has finished. */
  runTimer(name: string): Promise<void>;
  close(): Promise<void>;
}

interface Route {
  name: string;
  methods: readonly string[];
  template: RouteTemplate;
  handler: HttpHandler;
}

/** The message the library sends for a log after its invocation finished. */
export const lateLogWarning = "Warning: Unexpected call to 'log' on the context object";

/**
 * The project's own small Functions host: it serves the function table's HTTP rows under the
 * route prefix, handing the real HttpRequest and InvocationContext of @azure/functions to the
 * same handlers Azure calls, and runs the timers on their NCRONTAB schedules. What happens to a
 * request on its way in and out is the Functions host's and its Node.js worker's, each copy citing
 * the source it follows (./intake.ts, ./cors.ts, ./admin.ts, ./timer-listener.ts, shared/http/routes.ts).
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const { services, log } = options;
  const settings = hostJsonSettings();
  const cors = corsPolicy(services.config.corsOrigins);
  const routes: Route[] = options.table
    .filter((definition) => definition.kind !== 'timer')
    .map((definition) => ({
      name: definition.name,
      methods: definition.methods,
      template: compileRoute(`${settings.routePrefix}/${definition.route}`),
      handler: definition.handler,
    }))
    .sort(byFunctionName);
  const timers = new Map(
    options.table
      .filter((definition): definition is TimerFunctionDefinition => definition.kind === 'timer')
      .map((definition) => [definition.name.toLowerCase(), definition]),
  );
  const scheduleStore =
    options.scheduleStatusDir === undefined ? null : fileScheduleStore(options.scheduleStatusDir);

  /**
   * An invocation's context. A log after the invocation finished is what @azure/functions turns
   * into a system warning (src/InvocationModel.ts:107-117 sets it done when the handler settles,
   * :191-198 warns), and what the host then drops: it no longer knows the invocation
   * (azure-functions-host src/WebJobs.Script.Grpc/Channel/GrpcWorkerChannel.cs:1102 forgets it
   * when its response arrives, :1243-1299 ignores a user log for it). So here too: the warning
   * is logged, the line is not.
   */
  const invocation = (functionName: string): { context: InvocationContext; finish(): void } => {
    const invocationId = randomUUID();
    let done = false;
    const context = new InvocationContext({
      invocationId,
      functionName,
      logHandler: (level, ...args) => {
        if (done) {
          log({
            level: 'warning',
            functionName,
            invocationId,
            message: `${lateLogWarning} after function execution has completed. Please check for asynchronous calls that are not awaited. Function name: ${functionName}. Invocation Id: ${invocationId}.`,
            system: true,
          });
          return;
        }
        log({
          level,
          functionName,
          invocationId,
          message: args
            .map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg)))
            .join(' '),
        });
      },
    });
    return { context, finish: () => (done = true) };
  };

  const runTimer = async (definition: TimerFunctionDefinition, timer: Timer): Promise<void> => {
    const { context, finish } = invocation(definition.name);
    try {
      await definition.handler(timer, context, services);
    } catch (error) {
      context.error(
        `timer ${definition.name} failed`,
        redactSecrets(error instanceof Error ? error.message : String(error)),
      );
      throw error;
    } finally {
      finish();
    }
  };

  const invoke = async (route: Route, request: HttpRequest): Promise<HttpResponseInit> => {
    const { context, finish } = invocation(route.name);
    try {
      return await route.handler(request, context, services);
    } finally {
      finish();
    }
  };

  /** POST /admin/functions/{name} (./admin.ts): a timer run now, in the background. */
  const runByHand = async (
    message: IncomingMessage,
    name: string,
    headers: Record<string, string>,
    search: string,
  ): Promise<HttpResponseInit> => {
    const body = await readBody(message, hostBodyLimitBytes);
    const answer = answerAdmin(
      {
        method: (message.method ?? 'GET').toUpperCase(),
        name,
        headers,
        query: queryOf(search),
        body: body.kind === 'bytes' ? body.bytes : null,
      },
      { masterKey: options.masterKey, timerNames: new Set(timers.keys()) },
    );
    if (answer.kind === 'answer') return answer.response;
    const definition = timers.get(answer.name)!;
    const status =
      scheduleStore && ncrontab(definition.schedule).monitored
        ? await scheduleStore.get(definition.name)
        : null;
    // Accepted at once, run in the background (FunctionsController.cs:125-159).
    void runTimer(definition, timerInfo(status, false)).catch(() => undefined);
    return { status: 202 };
  };

  /** The first route, in the host's order, whose methods and template take the request. */
  const match = (
    method: string,
    path: string,
  ): { route: Route; params: Record<string, string> } | null => {
    for (const route of routes) {
      if (!route.methods.includes(method)) continue;
      const params = routeValues(route.template, path);
      if (params) return { route, params };
    }
    return null;
  };

  /** Binds the trigger as the host does (./intake.ts), then invokes the function. */
  const call = async (
    message: IncomingMessage,
    { route, params }: { route: Route; params: Record<string, string> },
    headers: Record<string, string>,
    url: URL,
  ): Promise<HttpResponseInit & { closeConnection?: true }> => {
    const body = await readBody(message, hostBodyLimitBytes);
    if (body.kind === 'over-host-limit') return { status: 500, closeConnection: true };
    const request = new HttpRequest({
      method: (message.method ?? 'GET').toUpperCase(),
      url: url.toString(),
      headers: withClientAddress(headers, message.socket.remoteAddress, message.socket.remotePort),
      query: queryOf(url.search),
      params,
      ...(body.kind === 'bytes' ? { body: { bytes: body.bytes } } : {}),
    });
    return invoke(route, request);
  };

  const handle = async (message: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(message.url ?? '/', `http://${message.headers.host ?? 'localhost'}`);
    const path = decodedPath(url.pathname);
    // Kestrel refuses a NUL in the path before anything else runs.
    if (path === null) return writeResponse(response, { status: 400 });
    const method = (message.method ?? 'GET').toUpperCase();
    const headers = requestHeaders(message);
    // The host's middleware, before any route: CORS (./cors.ts), then host.json's customHeaders.
    const send = (init: HttpResponseInit, corsHeaders = responseCorsHeaders(cors, headers)): void =>
      writeResponse(response, init, corsHeaders, settings.customHeaders);
    if (isPreflight(method, headers)) return send({ status: 204 }, preflightHeaders(cors, headers));
    const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(path);
    if (admin) return send(await runByHand(message, admin[1]!, headers, url.search));
    // HomepageMiddleware.cs:32-56: `/` is the host's own page (unless AzureWebJobsDisableHomepage).
    if (path === '/') return send(homepage);
    const matched = match(method, path);
    // Nothing matched: ASP.NET Core's empty 404.
    if (!matched) return send({ status: 404 });
    const { closeConnection, ...answer } = await call(message, matched, headers, url);
    if (closeConnection) response.shouldKeepAlive = false;
    send(answer);
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
        system: true,
      });
      // A failed invocation: the host answers an empty 500 (ExceptionMiddleware.cs:45-50).
      if (!response.headersSent) writeResponse(response, { status: 500 });
      else response.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const listeners: TimerListener[] = options.runTimers
    ? [...timers.values()].map((definition) =>
        listen(definition.name, ncrontab(definition.schedule), scheduleStore, (timer) =>
          runTimer(definition, timer),
        ),
      )
    : [];

  return {
    url: `http://${options.hostname === '0.0.0.0' ? '127.0.0.1' : (options.hostname ?? '127.0.0.1')}:${port}`,
    port,
    async runTimer(name) {
      const definition = timers.get(name.toLowerCase());
      if (!definition) throw new Error(`no timer function named ${name}`);
      await runTimer(definition, timerInfo(null, false));
    },
    async close() {
      await Promise.all(listeners.map((listener) => listener.stop()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const homepage: HttpResponseInit = {
  status: 200,
  headers: { 'Content-Type': 'text/html' },
  body: '<!DOCTYPE html><html><head><title>Your Functions 4.0 app is up and running</title></head><body><p>Your Functions 4.0 app is up and running.</p></body></html>',
};

/**
 * Writes an answer as the host does: the function's headers, then the CORS middleware's (which
 * set theirs), then host.json's customHeaders where the answer has none of that name. Names are
 * written lower-cased and a repeated one's values joined with ", ", as a Headers object has them.
 */
function writeResponse(
  response: ServerResponse,
  init: HttpResponseInit,
  corsHeaders: Record<string, string> = {},
  customHeaders: Readonly<Record<string, string>> = {},
): void {
  const headers = new Map<string, string>();
  const append = (name: string, value: string): void => {
    const key = name.toLowerCase();
    const seen = headers.get(key);
    headers.set(key, seen === undefined ? value : `${seen}, ${value}`);
  };
  const given = init.headers as Headers | [string, string][] | Record<string, string> | undefined;
  if (given instanceof Headers) given.forEach((value, name) => headers.set(name, value));
  else if (Array.isArray(given)) for (const [name, value] of given) append(name, value);
  else if (given) for (const name of Object.keys(given)) append(name, given[name]!);
  for (const name of Object.keys(corsHeaders)) {
    if (name === 'Vary') append(name, corsHeaders[name]!);
    else headers.set(name.toLowerCase(), corsHeaders[name]!);
  }
  for (const name of Object.keys(customHeaders)) {
    if (!headers.has(name.toLowerCase())) headers.set(name.toLowerCase(), customHeaders[name]!);
  }
  // A text body is written as it is (Node sends the head and it in one write); others as bytes.
  const body =
    init.body === undefined || init.body === null
      ? ''
      : typeof init.body === 'string'
        ? init.body
        : Buffer.from(init.body as Uint8Array);
  const head: string[] = [];
  for (const [name, value] of headers) head.push(name, value);
  // A 204 carries no length; any other answer its own, an empty one 0, as Kestrel sends it.
  if (init.status !== 204) {
    head.push(
      'content-length',
      String(typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length),
    );
  }
  response.writeHead(init.status ?? 200, head);
  response.end(body);
}
