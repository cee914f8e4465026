import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/** What a request to Cosmos does to the data: read a document, query, or write. */
export type CosmosRequestKind = 'read' | 'query' | 'write' | 'metadata';

export interface CosmosFault {
  /** `metadata`: account, database and container reads (the health check's database read). */
  kind: CosmosRequestKind;
  /**
   * `reset`: the connection is dropped without an answer, as when Cosmos cannot be reached;
   * `stall`: the request is never answered (a blackholed connection, SNAT exhaustion);
   * `empty-page`: a query page with no documents and a continuation, which Cosmos may answer
   * when a page hits its time or RU limit (the continuation given makes the emulator start over);
   * `batch-449`: a transactional batch answered 207 with its first operation refused 449
   * (RetryWith) and the others 424, as Cosmos answers a batch that met a concurrent change.
   */
  status: 400 | 403 | 408 | 413 | 429 | 449 | 503 | 'reset' | 'stall' | 'empty-page' | 'batch-449';
  /** Sent as x-ms-substatus, as Cosmos does (403 with 5301: the identity lacks an RBAC role). */
  substatus?: number;
  /** How many matching requests to answer so; Infinity for an outage. */
  times: number;
  /** Sent as x-ms-retry-after-ms with a 429, as Cosmos does. */
  retryAfterMs?: number;
  /** Only requests whose path matches, e.g. /\/colls\/partners\// for one container. */
  path?: RegExp;
  /** Only queries whose text matches, e.g. /c\.type = 'webhook'/ for one query. */
  query?: RegExp;
  /** Only transactional batches (x-ms-cosmos-is-batch-request), not single writes. */
  batches?: boolean;
}

export interface SeenRequest {
  kind: CosmosRequestKind;
  method: string;
  path: string;
  status: number;
  /** The partition key range a query was sent to (x-ms-documentdb-partitionkeyrangeid). */
  rangeId?: string;
  /** The query text, for a query. */
  query?: string;
  /** How many documents (or results) a query page returned (x-ms-item-count). */
  items?: number;
}

export interface CosmosProxy {
  url: string;
  /** Faults to inject (push, or empty with length = 0); first match wins, `times` counts down. */
  faults: CosmosFault[];
  /** Every data request seen, with the status given (faulted or forwarded). */
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** Cosmos DB's own error texts, so the app sees what it would see from Azure. */
const azureMessages: Record<number, string> = {
  400: 'Message: {"Errors":["One of the specified inputs is invalid"]}',
  403: 'Request blocked by Auth partner-transition : Request is blocked because principal [00000000-0000-0000-0000-000000000001] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery] on any scope.',
  408: 'Request timed out. More info: https://aka.ms/cosmosdb-tsg-request-timeout',
  413: 'Message: {"Errors":["Request size is too large"]}',
  449: 'Message: {"Errors":["Conflicting request to resource has been attempted. Retry to avoid conflicts."]}',
  429: 'Message: {"Errors":["Request rate is large. More Request Units may be needed, so no changes were made. Please retry this request later. Learn more: http://aka.ms/cosmosdb-error-429"]}',
  503: 'Service is currently unavailable. More info: https://aka.ms/cosmosdb-tsg-service-unavailable',
};

function queryText(body: Buffer): string | undefined {
  try {
    return (JSON.parse(body.toString('utf8')) as { query?: string }).query;
  } catch {
    return undefined;
  }
}

function kindOf(request: http.IncomingMessage): CosmosRequestKind {
  const path = request.url ?? '/';
  if (!/\/docs(\/|$|\?)/.test(path)) return 'metadata';
  // The SDK asks for a query's plan apart from the query: a metadata round trip, not a query.
  if (String(request.headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() === 'true')
    return 'metadata';
  if (request.headers['x-ms-documentdb-isquery'] !== undefined) return 'query';
  return request.method === 'GET' ? 'read' : 'write';
}

/**
 * A small HTTP proxy in front of the emulator that answers chosen data requests with 429, 503 or
 * 408 as a throttled or failing Cosmos account would, and forwards everything else: the app's
 * own CosmosClient, with its real retry policy, talks to it.
 */
export async function startCosmosProxy(target: string): Promise<CosmosProxy> {
  const upstream = new URL(target);
  const proxy: Omit<CosmosProxy, 'url' | 'close'> = { faults: [], seen: [] };
  const stalled = new Set<http.ServerResponse>();
  let url = '';
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const kind = kindOf(request);
      const rangeId = request.headers['x-ms-documentdb-partitionkeyrangeid'];
      const record = (status: number, items?: number): void => {
        if (kind !== 'metadata')
          proxy.seen.push({
            kind,
            method: request.method ?? 'GET',
            path: request.url ?? '/',
            status,
            ...(typeof rangeId === 'string' ? { rangeId } : {}),
            ...(kind === 'query' ? { query: queryText(Buffer.concat(chunks)) } : {}),
            ...(items === undefined ? {} : { items }),
          });
      };
      const fault = proxy.faults.find(
        (candidate) =>
          candidate.kind === kind &&
          candidate.times > 0 &&
          (candidate.path === undefined || candidate.path.test(request.url ?? '/')) &&
          (candidate.query === undefined ||
            candidate.query.test(queryText(Buffer.concat(chunks)) ?? '')) &&
          (candidate.batches === undefined ||
            candidate.batches ===
              (String(request.headers['x-ms-cosmos-is-batch-request']).toLowerCase() === 'true')),
      );
      if (fault) {
        fault.times -= 1;
        if (fault.status === 'reset') {
          record(0);
          request.socket.destroy();
          return;
        }
        if (fault.status === 'empty-page') {
          record(200);
          response.writeHead(200, {
            'content-type': 'application/json',
            'x-ms-continuation': 'from-the-start',
            'x-ms-item-count': '0',
            'x-ms-request-charge': '1',
          });
          response.end(JSON.stringify({ Documents: [], _count: 0 }));
          return;
        }
        if (fault.status === 'batch-449') {
          record(207);
          const operations = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown[];
          response.writeHead(207, {
            'content-type': 'application/json',
            'x-ms-request-charge': '1',
          });
          response.end(
            JSON.stringify(
              operations.map((_, index) => ({
                statusCode: index === 0 ? 449 : 424,
                requestCharge: 0,
              })),
            ),
          );
          return;
        }
        if (fault.status === 'stall') {
          record(0);
          stalled.add(response);
          return;
        }
        record(fault.status);
        response.writeHead(fault.status, {
          'content-type': 'application/json',
          'x-ms-activity-id': '00000000-0000-0000-0000-000000000000',
          ...(fault.substatus === undefined ? {} : { 'x-ms-substatus': String(fault.substatus) }),
          ...(fault.status === 429
            ? { 'x-ms-retry-after-ms': String(fault.retryAfterMs ?? 10) }
            : {}),
        });
        response.end(
          JSON.stringify({ code: String(fault.status), message: azureMessages[fault.status] }),
        );
        return;
      }
      const accountRead = kind === 'metadata' && request.method === 'GET' && request.url === '/';
      // An https upstream (the official emulator, a real account) is forwarded over TLS; the
      // emulators' certificates are self-signed.
      const send = upstream.protocol === 'https:' ? https.request : http.request;
      const forwarded = send(
        {
          rejectUnauthorized: false,
          hostname: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: upstream.host },
        },
        (answer) => {
          const items = answer.headers['x-ms-item-count'];
          record(answer.statusCode ?? 0, items === undefined ? undefined : Number(items));
          if (!accountRead) {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
            return;
          }
          // The account names its regional endpoints; a real account names its own address.
          // Naming the proxy keeps a client with endpoint discovery on talking to the proxy.
          const body: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => body.push(chunk));
          answer.on('end', () => {
            const text = Buffer.concat(body)
              .toString('utf8')
              .replace(/"databaseAccountEndpoint":"[^"]*"/g, `"databaseAccountEndpoint":"${url}/"`);
            const { 'content-length': _length, ...headers } = answer.headers;
            response.writeHead(answer.statusCode ?? 502, headers);
            response.end(text);
          });
        },
      );
      forwarded.on('error', () => response.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(proxy, {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of stalled) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
