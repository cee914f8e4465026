import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a request to Cosmos does to the data: read a document, query, or write. */
export type CosmosRequestKind = 'read' | 'query' | 'write' | 'metadata';

export interface CosmosFault {
  kind: Exclude<CosmosRequestKind, 'metadata'>;
  /** `reset`: the connection is dropped without an answer, as when Cosmos cannot be reached. */
  status: 408 | 429 | 503 | 'reset';
  /** How many matching requests to answer so; Infinity for an outage. */
  times: number;
  /** Sent as x-ms-retry-after-ms with a 429, as Cosmos does. */
  retryAfterMs?: number;
  /** Only requests whose path matches, e.g. /\/colls\/partners\// for one container. */
  path?: RegExp;
}

export interface CosmosProxy {
  url: string;
  /** Faults to inject (push, or empty with length = 0); first match wins, `times` counts down. */
  faults: CosmosFault[];
  /** Every data request seen, with the status given (faulted or forwarded). */
  seen: { kind: CosmosRequestKind; method: string; path: string; status: number }[];
  close(): Promise<void>;
}

function kindOf(request: http.IncomingMessage): CosmosRequestKind {
  const path = request.url ?? '/';
  if (!/\/docs(\/|$|\?)/.test(path)) return 'metadata';
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
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const kind = kindOf(request);
      const record = (status: number): void => {
        if (kind !== 'metadata')
          proxy.seen.push({
            kind,
            method: request.method ?? 'GET',
            path: request.url ?? '/',
            status,
          });
      };
      const fault = proxy.faults.find(
        (candidate) =>
          candidate.kind === kind &&
          candidate.times > 0 &&
          (candidate.path === undefined || candidate.path.test(request.url ?? '/')),
      );
      if (fault) {
        fault.times -= 1;
        if (fault.status === 'reset') {
          record(0);
          request.socket.destroy();
          return;
        }
        record(fault.status);
        response.writeHead(fault.status, {
          'content-type': 'application/json',
          'x-ms-activity-id': '00000000-0000-0000-0000-000000000000',
          ...(fault.status === 429
            ? { 'x-ms-retry-after-ms': String(fault.retryAfterMs ?? 10) }
            : {}),
        });
        response.end(
          JSON.stringify({ code: String(fault.status), message: 'injected by the test proxy' }),
        );
        return;
      }
      const forwarded = http.request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, host: upstream.host },
        },
        (answer) => {
          record(answer.statusCode ?? 0);
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      forwarded.on('error', () => response.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
