import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

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

/**
 * The emulator has no query planner: it ran each query plan request as the query itself, so
 * every query was executed twice (the JS SDK asks for the plan of each new query, in parallel,
 * and uses it only when the service refuses to run the query without one, which the emulator
 * never does). Those requests are answered at once instead, with an empty result: the same
 * unusable plan as before, without the full scan.
 */
function answerQueryPlans(server: Server): void {
  const listeners = server.listeners('request') as ((
    request: IncomingMessage,
    response: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (String(request.headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() !== 'true') {
      for (const listener of listeners) listener.call(server, request, response);
      return;
    }
    request.resume();
    request.once('end', () => {
      response.writeHead(200, {
        'content-type': 'application/json',
        connection: 'keep-alive',
        'x-ms-request-charge': '0',
      });
      response.end(JSON.stringify({ Documents: [], _count: 0 }));
    });
  });
}

/**
 * The embedded Cosmos DB emulator (@vercel/cosmosdb-server over HTTP). Its gaps: a
 * transactional batch is applied operation by operation (only a refused first operation is
 * atomic), queries scan the whole container, TTL is not enforced, and data lives in memory.
 */
export async function startCosmosEmulator(
  port: number,
  hostname = '127.0.0.1',
): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Required at run time only: a dev dependency, never part of the deployed bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as {
    createHttpServer: (options?: { keepAlive?: boolean }) => Server;
  };
  // Without keepAlive it answers every request with Connection: close, so each Cosmos call
  // paid a new TCP connection; Cosmos DB itself keeps them open, as the SDK expects.
  compileLinearQueries();
  const server = createHttpServer({ keepAlive: true });
  answerQueryPlans(server);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${hostname}:${actual}`,
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
