import type { CosmosClientOptions } from '@azure/cosmos';
import { createRequire } from 'node:module';

/** The SDK's HTTP client port (an @azure/core-rest-pipeline HttpClient), typed through the SDK. */
export type CosmosHttpClient = NonNullable<CosmosClientOptions['httpClient']>;
type PipelineRequest = Parameters<CosmosHttpClient['sendRequest']>[0];

/**
 * What one request to Cosmos DB was, read from its URL and headers:
 * - data requests: a point read, a query in one partition or across partitions, a transactional
 *   batch, a single-document write;
 * - `query-plan`: the gateway round trip the SDK makes before a cross-partition query;
 * - `metadata`: account, database, container and partition key range reads, which the SDK
 *   caches per client (budgets measure a warm client, so they are counted apart).
 */
export type CosmosRequestKind =
  | 'point-read'
  | 'single-partition-query'
  | 'cross-partition-query'
  | 'query-plan'
  | 'batch'
  | 'create'
  | 'replace'
  | 'upsert'
  | 'delete'
  | 'patch'
  | 'metadata'
  | 'other';

export interface CosmosRequest {
  kind: CosmosRequestKind;
  method: string;
  /** The resource path, e.g. /dbs/db/colls/partners/docs/id. */
  path: string;
  /** The partition key value the request is scoped to, when it names one. */
  partitionKey: string | null;
  /** The partition key range a cross-partition query's page was sent to. */
  rangeId: string | null;
  status: number | null;
}

/** The budget a route is held to: data round trips to Cosmos DB, by kind. */
export interface RoundTrips {
  pointReads: number;
  singlePartitionQueries: number;
  crossPartitionQueries: number;
  batches: number;
  /** Single-document creates, replaces, upserts, deletes and patches. */
  writes: number;
}

const truthy = (value: string | undefined): boolean => value?.toLowerCase() === 'true';

function partitionKeyOf(request: PipelineRequest): string | null {
  const header = request.headers.get('x-ms-documentdb-partitionkey');
  if (header === undefined) return null;
  try {
    const parsed = JSON.parse(header) as unknown[];
    return parsed.length === 1 ? String(parsed[0]) : header;
  } catch {
    return header;
  }
}

/** Classifies a request the SDK is about to send (see CosmosRequestKind). */
export function classify(request: PipelineRequest): CosmosRequestKind {
  const path = new URL(request.url).pathname.replace(/\/+$/, '');
  const method = request.method.toUpperCase();
  const segments = path.split('/').filter(Boolean);
  const isDocuments = segments.length === 5 && segments[4] === 'docs';
  const isDocument = segments.length === 6 && segments[4] === 'docs';
  const header = (name: string): string | undefined => request.headers.get(name);
  if (isDocuments && method === 'POST') {
    if (truthy(header('x-ms-cosmos-is-query-plan-request'))) return 'query-plan';
    if (truthy(header('x-ms-documentdb-isquery')) || /query/.test(header('content-type') ?? '')) {
      return header('x-ms-documentdb-partitionkey') !== undefined
        ? 'single-partition-query'
        : 'cross-partition-query';
    }
    if (truthy(header('x-ms-cosmos-is-batch-request'))) return 'batch';
    return truthy(header('x-ms-documentdb-is-upsert')) ? 'upsert' : 'create';
  }
  if (isDocument) {
    if (method === 'GET') return 'point-read';
    if (method === 'PUT') return 'replace';
    if (method === 'DELETE') return 'delete';
    if (method === 'PATCH') return 'patch';
    return 'other';
  }
  if (method === 'GET' && (segments.length <= 4 || segments[4] === 'pkranges')) return 'metadata';
  return 'other';
}

/** How an SDK-like client sends a request; resolved the way @azure/cosmos resolves it. */
function defaultHttpClient(): CosmosHttpClient {
  // The SDK's own transport, taken from its own dependency: the app declares @azure/cosmos only.
  const fromCosmos = createRequire(require.resolve('@azure/cosmos'));
  const pipeline = fromCosmos('@azure/core-rest-pipeline') as {
    createDefaultHttpClient(): CosmosHttpClient;
  };
  return pipeline.createDefaultHttpClient();
}

/**
 * Records every request a CosmosClient sends, at the HTTP client the SDK hands each request to
 * (CosmosClientOptions.httpClient): retries and SDK-internal round trips are seen as they go
 * on the wire. Pass `httpClient` to createCosmosClient; the SDK still sets allowInsecureConnection
 * for an http emulator itself (it is the `agent` option, not this one, that defeats that).
 */
export class CosmosRequestLog {
  readonly requests: CosmosRequest[] = [];
  readonly httpClient: CosmosHttpClient;

  constructor(inner: CosmosHttpClient = defaultHttpClient()) {
    this.httpClient = {
      sendRequest: async (request) => {
        const entry: CosmosRequest = {
          kind: classify(request),
          method: request.method,
          path: decodeURIComponent(new URL(request.url).pathname),
          partitionKey: partitionKeyOf(request),
          rangeId: request.headers.get('x-ms-documentdb-partitionkeyrangeid') ?? null,
          status: null,
        };
        this.requests.push(entry);
        const response = await inner.sendRequest(request);
        entry.status = response.status;
        return response;
      },
    };
  }

  clear(): void {
    this.requests.length = 0;
  }

  /** Runs `work` and answers the requests it caused (nothing else may use the client meanwhile). */
  async during(work: () => Promise<unknown>): Promise<CosmosRequest[]> {
    const start = this.requests.length;
    await work();
    return this.requests.slice(start);
  }
}

/**
 * The data round trips of a list of requests, by budget kind (metadata left out). The SDK sends a
 * cross-partition query to every partition key range at once (two in the stand-in; one per
 * physical partition on Azure): it counts once per page, by its request to the first range.
 */
export function roundTrips(requests: readonly CosmosRequest[]): RoundTrips & {
  queryPlans: number;
  metadata: number;
} {
  const count = (...kinds: CosmosRequestKind[]): number =>
    requests.filter((request) => kinds.includes(request.kind)).length;
  return {
    pointReads: count('point-read'),
    singlePartitionQueries: count('single-partition-query'),
    crossPartitionQueries: requests.filter(
      (request) =>
        request.kind === 'cross-partition-query' &&
        (request.rangeId ?? '0').split(',').at(-1) === '0',
    ).length,
    batches: count('batch'),
    writes: count('create', 'replace', 'upsert', 'delete', 'patch'),
    queryPlans: count('query-plan'),
    metadata: count('metadata'),
  };
}

/** Data round trips grouped by the partition they were scoped to ('*' for cross-partition). */
export function roundTripsByPartition(
  requests: readonly CosmosRequest[],
): Map<string, { reads: number; batches: number; writes: number; queries: number }> {
  const partitions = new Map<
    string,
    { reads: number; batches: number; writes: number; queries: number }
  >();
  for (const request of requests) {
    if (request.kind === 'metadata' || request.kind === 'other') continue;
    const key = request.partitionKey ?? '*';
    const counts = partitions.get(key) ?? { reads: 0, batches: 0, writes: 0, queries: 0 };
    if (request.kind === 'point-read') counts.reads += 1;
    else if (request.kind === 'batch') counts.batches += 1;
    else if (request.kind.endsWith('query') || request.kind === 'query-plan') counts.queries += 1;
    else counts.writes += 1;
    partitions.set(key, counts);
  }
  return partitions;
}
