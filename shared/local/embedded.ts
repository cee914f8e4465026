import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { useAtomicBatches } from './emulator-batches';

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

/** A query's ORDER BY items, as Cosmos DB's query planner reports them. */
interface OrderByItem {
  expression: string;
  order: 'Ascending' | 'Descending';
}

const planRequiringClause = /\b(TOP|DISTINCT|GROUP\s+BY|OFFSET|COUNT|SUM|MIN|MAX|AVG)\b/i;

/**
 * The ORDER BY items of a `SELECT * FROM c [WHERE ...] ORDER BY ...` query, the only shape of
 * cross-partition query this stand-in plans; undefined when the query has no ORDER BY. Any
 * other shape that Azure's gateway would refuse to run across partitions is refused here too
 * (a thrown Error), so a new kind of query cannot pass locally and fail on Azure.
 */
export function orderByItems(query: string): OrderByItem[] | undefined {
  const text = query.trim();
  if (planRequiringClause.test(text)) {
    throw new Error(`the embedded emulator cannot plan this cross-partition query: ${text}`);
  }
  const orderBy = /\sORDER\s+BY\s+(.+)$/is.exec(text);
  if (!orderBy) return undefined;
  if (!/^SELECT\s+\*\s+FROM\s+c\b/i.test(text)) {
    throw new Error(`the embedded emulator plans only SELECT * cross-partition queries: ${text}`);
  }
  return orderBy[1]!.split(',').map((item) => {
    const [expression, direction] = item.trim().split(/\s+/);
    return {
      expression: expression!,
      order: direction?.toUpperCase() === 'DESC' ? 'Descending' : 'Ascending',
    };
  });
}

/**
 * The plan Azure's gateway gives for a cross-partition ORDER BY query: the SDK then queries
 * each partition key range with the rewritten query and merges the ranges' results itself,
 * as it does on Azure (and, without `enableQueryControl`, returns no continuation token).
 */
export function queryPlan(query: string): object {
  const items = orderByItems(query) ?? [];
  const where = /\sWHERE\s+(.+?)\s+ORDER\s+BY\s/is.exec(query)?.[1];
  const orderBy = /\sORDER\s+BY\s+(.+)$/is.exec(query.trim())?.[1] ?? '';
  const rewrittenQuery =
    items.length === 0
      ? ''
      : `SELECT c._rid, [${items.map((item) => `{"item": ${item.expression}}`).join(', ')}] AS orderByItems, c AS payload FROM c WHERE ${where === undefined ? '' : `(${where}) AND `}({documentdb-formattableorderbyquery-filter}) ORDER BY ${orderBy}`;
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: 'None',
      top: null,
      offset: null,
      limit: null,
      orderBy: items.map((item) => item.order),
      orderByExpressions: items.map((item) => item.expression),
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: [],
      groupByAliasToAggregateType: {},
      rewrittenQuery,
      hasSelectValue: false,
      hasNonStreamingOrderBy: false,
    },
    queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

function answer(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    connection: 'keep-alive',
    'x-ms-request-charge': '0',
  });
  response.end(JSON.stringify(body));
}

function isTrue(header: string | string[] | undefined): boolean {
  return String(header).toLowerCase() === 'true';
}

/**
 * The emulator has no query planner and runs every query itself, in any partition, with a
 * continuation token. Azure's gateway does not: it refuses a cross-partition ORDER BY query
 * (400 with the query plan) and the SDK takes its client-side path instead, which pages
 * differently. This makes the stand-in do what Azure does: a query plan request gets a real
 * plan, and a cross-partition query that needs one is refused as the gateway refuses it, so
 * local tests run the SDK's Azure path.
 */
function planQueriesAsAzure(server: Server): void {
  const listeners = server.listeners('request') as ((
    request: IncomingMessage,
    response: ServerResponse,
  ) => void)[];
  server.removeAllListeners('request');
  const pass = (request: IncomingMessage, response: ServerResponse): void => {
    for (const listener of listeners) listener.call(server, request, response);
  };
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const headers = request.headers;
    const planRequest = isTrue(headers['x-ms-cosmos-is-query-plan-request']);
    const crossPartitionQuery =
      isTrue(headers['x-ms-documentdb-isquery']) &&
      headers['x-ms-documentdb-partitionkey'] === undefined &&
      headers['x-ms-documentdb-partitionkeyrangeid'] === undefined;
    if (!planRequest && !crossPartitionQuery) {
      pass(request, response);
      return;
    }
    void readBody(request).then((body) => {
      let query: string;
      let plan: object;
      let needsPlan: boolean;
      try {
        query = (JSON.parse(body) as { query: string }).query;
        plan = queryPlan(query);
        needsPlan = orderByItems(query) !== undefined;
      } catch (error) {
        answer(response, 400, { code: 'BadRequest', message: (error as Error).message });
        return;
      }
      if (planRequest) {
        answer(response, 200, plan);
      } else if (needsPlan) {
        answer(response, 400, {
          code: 'BadRequest',
          message:
            'The provided cross partition query can not be directly served by the gateway. This is a first chance (internal) exception that all newer clients will know how to handle gracefully.',
          additionalErrorInfo: JSON.stringify(plan),
        });
      } else {
        // A filter-only query: the gateway runs it. The body was read: hand it on as it came.
        const replay = Object.assign(Readable.from([Buffer.from(body)]), {
          headers: request.headers,
          method: request.method,
          url: request.url,
        }) as unknown as IncomingMessage;
        pass(replay, response);
      }
    });
  });
}

/**
 * The embedded Cosmos DB emulator (@vercel/cosmosdb-server over HTTP), made to plan
 * cross-partition queries as Azure does, and to apply a transactional batch all or nothing, Patch
 * operations included (emulator-batches.ts). Its other gaps (docs/stand-ins.md lists each with what
 * covers it): queries scan the whole container, TTL is not enforced, data lives in memory.
 */
export async function startCosmosEmulator(
  port: number,
  hostname = '127.0.0.1',
): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Before the emulator's routes are built: they keep the batch handler they find.
  useAtomicBatches();
  // Required at run time only: a dev dependency, never part of the deployed bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as {
    createHttpServer: (options?: { keepAlive?: boolean }) => Server;
  };
  // Without keepAlive it answers every request with Connection: close, so each Cosmos call
  // paid a new TCP connection; Cosmos DB itself keeps them open, as the SDK expects.
  compileLinearQueries();
  const server = createHttpServer({ keepAlive: true });
  planQueriesAsAzure(server);
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
