import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { useAtomicBatches } from './emulator-batches';
import type { PartitionKeyRange } from './partition-ranges';
import { standInGateway, type EmulatorAccount, type RangeQueryObserver } from './stand-in-gateway';

const quadraticFrom =
  /\$c\.reduce\(\(\$, (\w+)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, \{\s*\1: \1\s*\}\] : \$, \[\]\)/g;

/**
 * The emulator's query compiler (@zeit/cosmosdb-query) turns `FROM c` into a reduce that copies
 * its whole accumulator at every document: each query cost O(n²) in the container's size (a
 * third of a second at 11,000 documents, minutes at 110,000). This is the same selection in
 * linear time; any other code it generates is left as it is.
 */
export function linearFromClause(code: string): string {
  return code.replace(
    quadraticFrom,
    (_, name: string) =>
      `$c.filter((${name}) => typeof ${name} !== "undefined").map((${name}) => ({ ${name}: ${name} }))`,
  );
}

const linear = Symbol('linear FROM clause');

/** Wraps the compiler's generated code, once per process, in the emulator's own copy of it. */
function compileLinearQueries(): void {
  const emulator = path.dirname(require.resolve('@vercel/cosmosdb-server'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const compiler = require(require.resolve('@zeit/cosmosdb-query', { paths: [emulator] })) as {
    default: (query: string) => object;
  };
  const prototype = Object.getPrototypeOf(compiler.default('SELECT * FROM c')) as Record<
    symbol,
    unknown
  >;
  const generated = Object.getOwnPropertyDescriptor(prototype, 'code')?.get;
  if (prototype[linear] || generated === undefined) return;
  const rewritten = new WeakMap<object, string>();
  Object.defineProperty(prototype, 'code', {
    configurable: true,
    get(this: object): string {
      let code = rewritten.get(this);
      if (code === undefined) {
        code = linearFromClause(generated.call(this) as string);
        rewritten.set(this, code);
      }
      return code;
    },
  });
  prototype[linear] = true;
}

const quickened = Symbol('queries quickened');

/** One of the query engine's own files, from the emulator's place. */
function engineModule(name: string): Record<string | symbol, unknown> {
  const emulator = path.dirname(require.resolve('@vercel/cosmosdb-server'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(
    require.resolve(`@zeit/cosmosdb-query/lib/${name}`, { paths: [emulator] }),
  ) as Record<string | symbol, unknown>;
}

/**
 * Two costs of the query engine that grow with the container, taken out without changing an
 * answer (once per process):
 * - it compiled a query's generated code with `new Function` at every run, so the loop over the
 *   documents ran as new, unoptimised code each time: the compiled function is kept per code;
 * - its ARRAY_CONTAINS compared the value with each element, deeply, for every document: a
 *   query passing over a thousand partners (deliverEmails' later reads) made a thousand
 *   comparisons per document. For a value that is not an object or an array, deep equality is
 *   `===`, which a Set answers at once (JSON holds no NaN, the one value on which they differ);
 *   the Set is made once per array (a parameter is one array for the whole query). Objects,
 *   arrays and partial matches go to the engine's own.
 */
function quickenQueries(): void {
  const executor = engineModule('executor');
  const builtins = engineModule('builtin-functions');
  if (executor[quickened]) return;
  type Execute = (...args: unknown[]) => unknown;
  const compiled = new Map<string, Execute>();
  executor.default = (
    collection: unknown,
    options: {
      code: string;
      parameters?: { name: string; value: unknown }[];
      udf?: object;
      maxItemCount?: number;
      continuation?: unknown;
      compositeIndexes?: unknown;
    },
  ): unknown => {
    let execute = compiled.get(options.code);
    if (execute === undefined) {
      // The engine's own way of turning its generated code into a function, once per code.
      const made = new Function(`"use strict";return (${options.code})`)() as Execute;
      if (compiled.size > 1000) compiled.clear();
      compiled.set(options.code, made);
      execute = made;
    }
    const params: Record<string, unknown> = {};
    for (const { name, value } of options.parameters ?? []) params[name.slice(1)] = value;
    return execute(
      engineModule('aggregate-functions'),
      builtins,
      collection,
      engineModule('helpers'),
      options.udf ?? {},
      params,
      options.maxItemCount,
      options.continuation,
      options.compositeIndexes,
    );
  };
  const own = builtins.ARRAY_CONTAINS as (...args: unknown[]) => unknown;
  const sets = new WeakMap<unknown[], Set<unknown>>();
  builtins.ARRAY_CONTAINS = (...args: unknown[]): unknown => {
    const [array, value] = args;
    if (args.length !== 2 || !Array.isArray(array) || (typeof value === 'object' && value !== null))
      return own(...args);
    let set = sets.get(array);
    if (set === undefined) {
      set = new Set(array.filter((element) => typeof element !== 'object' || element === null));
      sets.set(array, set);
    }
    return set.has(value);
  };
  executor[quickened] = true;
}

interface EmulatorRoute {
  (request: IncomingMessage): [object, EmulatorHandler] | undefined;
}
type EmulatorHandler = (
  account: EmulatorAccount,
  request: IncomingMessage,
  response: ServerResponse,
  params: object,
) => Promise<Record<string, unknown> | undefined>;

/** The emulator's account (its data) and router, from its own files. */
function emulatorParts(): {
  Account: new (host: string, port: number) => EmulatorAccount;
  route: EmulatorRoute;
} {
  const emulator = path.dirname(require.resolve('@vercel/cosmosdb-server'));
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { default: Account } = require(path.join(emulator, 'account')) as {
    default: new (host: string, port: number) => EmulatorAccount;
  };
  const { default: route } = require(path.join(emulator, 'routes')) as { default: EmulatorRoute };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { Account, route };
}

/**
 * The emulator's request handling (@vercel/cosmosdb-server lib/index.js generateRequestHandler),
 * with connections kept open: Cosmos DB keeps them open, as the SDK expects, and without it every
 * Cosmos call paid a new TCP connection.
 */
function emulatorHandler(
  account: () => EmulatorAccount,
  route: EmulatorRoute,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    void (async () => {
      const found = route(request);
      let body: Record<string, unknown> | undefined;
      if (found) {
        try {
          body = await found[1](account(), request, response, found[0]);
        } catch (error) {
          console.error(error);
          body = { message: (error as Error).message };
          response.statusCode = 500;
        }
        if (response.statusCode > 399 && body && !body.message) body.message = '';
      } else {
        response.statusCode = 400;
        body = { message: 'no route' };
      }
      if (typeof body?._etag === 'string') response.setHeader('etag', body._etag);
      response.setHeader('content-type', 'application/json');
      response.setHeader('content-location', `https://${request.headers.host}${request.url}`);
      response.setHeader('connection', 'keep-alive');
      response.setHeader('x-ms-activity-id', randomUUID());
      response.setHeader('x-ms-request-charge', '1');
      if (request.headers['a-im'] && response.statusCode === 200) {
        if (request.headers['if-none-match']) response.statusCode = 304;
        response.setHeader('etag', '1');
      }
      response.end(JSON.stringify(body));
    })().catch((error: unknown) => {
      console.error(error);
      if (!response.writableEnded) {
        response.statusCode = 500;
        response.end('');
      }
    });
  };
}

export interface EmulatorOptions {
  /**
   * Partition key ranges (physical partitions) each container shows the SDK: 2 by default, so
   * every cross-partition query takes the SDK's multi-range path, as on an Azure account past
   * 50 GB or 10,000 RU/s.
   */
  partitionKeyRanges?: number;
  /** Hears each query sent to a partition key range, as its caller wrote it (tests). */
  onRangeQuery?: RangeQueryObserver;
}

/**
 * The embedded Cosmos DB emulator (@vercel/cosmosdb-server over HTTP) behind a stand-in of
 * Azure's gateway (stand-in-gateway.ts): several partition key ranges, query plans, refusals of
 * a document of another partition key; a transactional batch applied all or nothing, Patch
 * operations included (emulator-batches.ts). Its other gaps (docs/stand-ins.md lists each with
 * what covers it): queries scan their partition or range, TTL is not enforced, data lives in
 * memory.
 */
export async function startCosmosEmulator(
  port: number,
  hostname = '127.0.0.1',
  options: EmulatorOptions = {},
): Promise<{ endpoint: string; ranges: PartitionKeyRange[]; close(): Promise<void> }> {
  // Before the emulator's routes are built: they keep the batch handler they find.
  useAtomicBatches();
  compileLinearQueries();
  quickenQueries();
  const { Account, route } = emulatorParts();
  // The account knows its own address: it is made once the server listens.
  const made: { account?: EmulatorAccount } = {};
  const current = (): EmulatorAccount => {
    if (!made.account) throw new Error('the emulator is not listening yet');
    return made.account;
  };
  const gateway = standInGateway(
    current,
    emulatorHandler(current, route),
    options.partitionKeyRanges ?? 2,
    options.onRangeQuery,
  );
  const server = createServer(gateway.serve);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => resolve());
  });
  const address = server.address() as AddressInfo;
  made.account = new Account(hostname, address.port);
  return {
    endpoint: `http://${hostname}:${address.port}`,
    ranges: gateway.ranges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Azurite for AzureWebJobsStorage, started with --disableTelemetry (it phones home otherwise). */
export function startAzurite(
  location: string,
  onExit: (code: number | null) => void,
): ChildProcess {
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--location',
      path.resolve(location),
      '--blobHost',
      '127.0.0.1',
      '--queueHost',
      '127.0.0.1',
      '--tableHost',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  child.on('exit', onExit);
  return child;
}
