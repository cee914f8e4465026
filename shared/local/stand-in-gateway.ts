import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import {
  effectivePartitionKey,
  partitionKeyOf,
  partitionKeyRanges,
  type PartitionKeyDefinition,
  type PartitionKeyRange,
} from './partition-ranges';
import { needsClientPipeline, parseQuery, queryPlan, type Parameter } from './query-plan';
import { rememberAggregate, runQuery, type Engine } from './range-queries';

/**
 * What Azure Cosmos DB's gateway does and the embedded emulator (@vercel/cosmosdb-server) does
 * not, in front of it:
 * - a container has several physical partitions: `/pkranges` answers `rangeCount` partition key
 *   ranges, and a query sent to one range (x-ms-documentdb-partitionkeyrangeid) sees only the
 *   documents whose effective partition key falls in it, so the SDK's cross-partition merge
 *   (ORDER BY, aggregates, DISTINCT, TOP) runs over several ranges as on Azure;
 * - a query sent with a partition key sees only that logical partition;
 * - a query plan request gets the gateway's plan, and a cross-partition query that needs one is
 *   refused (400 with the plan), as the gateway refuses it;
 * - a write whose document's partition key differs from the request's is refused (400, substatus
 *   1001), as is a batch with an operation of another partition key.
 * Everything else goes to the emulator as it came.
 */
export interface EmulatorDocuments {
  _data: Map<string, { read(): object }>;
  _getQuery(sql: string): {
    exec(data: object[], options: object): { result: unknown[]; continuation: unknown };
  };
  _userDefinedFunctions(): unknown;
}

export interface EmulatorCollection {
  read():
    | {
        _rid: string;
        partitionKey?: PartitionKeyDefinition;
        indexingPolicy?: { compositeIndexes?: unknown[] };
      }
    | undefined;
  documents: EmulatorDocuments;
}

export interface EmulatorAccount {
  database(id: string): { collection(id: string): EmulatorCollection };
}

type Serve = (request: IncomingMessage, response: ServerResponse) => void;

interface QuerySpec {
  query: string;
  parameters?: Parameter[];
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

/** The request again, its body already read, for the emulator to read it. */
function replay(request: IncomingMessage, body: string): IncomingMessage {
  return Object.assign(Readable.from([Buffer.from(body)]), {
    headers: request.headers,
    method: request.method,
    url: request.url,
  }) as unknown as IncomingMessage;
}

function answer(
  response: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    connection: 'keep-alive',
    'x-ms-activity-id': randomUUID(),
    'x-ms-request-charge': '1',
    ...headers,
  });
  response.end(JSON.stringify(body));
}

const badRequest = (response: ServerResponse, message: string, substatus?: number): void =>
  answer(
    response,
    400,
    { code: 'BadRequest', message },
    substatus === undefined ? {} : { 'x-ms-substatus': String(substatus) },
  );

const isTrue = (header: string | string[] | undefined): boolean =>
  String(header).toLowerCase() === 'true';

function parseJson(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `/dbs/{db}/colls/{coll}/docs[/{id}]` or `.../pkranges`, as the SDK spells it. */
function resourceOf(url: string | undefined): { db: string; coll: string; kind: string } | null {
  const pathname = new URL(url ?? '/', 'http://stand-in').pathname
    .replace(/^\/\//, '/')
    .replace(/\/+$/, '');
  const match = /^\/dbs\/([^/]+)\/colls\/([^/]+)\/(docs|pkranges)(\/[^/]+)?$/.exec(pathname);
  if (!match) return null;
  return {
    db: decodeURIComponent(match[1]!),
    coll: decodeURIComponent(match[2]!),
    kind: match[4] === undefined ? match[3]! : `${match[3]}/id`,
  };
}

const wrongPartitionKey =
  "PartitionKey extracted from document doesn't match the one specified in the header. Learn more: https://aka.ms/CosmosDB/sql/errors/wrong-pk-value";
const batchOfManyKeys =
  'One or more operations within the batch request have a different partition key value than the request.';

/** The partition key a write names for a document, as the SDK sends it (`["value"]`). */
const keyText = (value: unknown): string => JSON.stringify([value === undefined ? {} : value]);

/**
 * The refusal Azure gives a write whose document or operation belongs to another logical
 * partition than the request's, or null when the write is consistent.
 */
function partitionKeyRefusal(
  request: IncomingMessage,
  body: unknown,
  definition: PartitionKeyDefinition,
): { message: string; substatus?: number } | null {
  const header = request.headers['x-ms-documentdb-partitionkey'];
  if (typeof header !== 'string') return null;
  const requested = JSON.stringify(parseJson(header));
  if (isTrue(request.headers['x-ms-cosmos-is-batch-request'])) {
    for (const operation of Array.isArray(body) ? (body as Record<string, unknown>[]) : []) {
      const named = operation.partitionKey;
      if (typeof named === 'string' && JSON.stringify(parseJson(named)) !== requested) {
        return { message: batchOfManyKeys };
      }
      const document = operation.resourceBody;
      if (
        typeof document === 'object' &&
        document !== null &&
        operation.operationType !== 'Patch'
      ) {
        if (keyText(partitionKeyOf(document, definition)) !== requested) {
          return { message: wrongPartitionKey, substatus: 1001 };
        }
      }
    }
    return null;
  }
  return keyText(partitionKeyOf(body, definition)) === requested
    ? null
    : { message: wrongPartitionKey, substatus: 1001 };
}

function engineOf(collection: EmulatorCollection): Engine {
  const definition = collection.read();
  return {
    exec: (sql, documents, options) =>
      collection.documents._getQuery(sql).exec(documents, {
        ...options,
        udf: collection.documents._userDefinedFunctions(),
        compositeIndexes: definition?.indexingPolicy?.compositeIndexes ?? [],
      }),
  };
}

/** A stored document's partition key, as text and as effective key, worked out once. */
interface Placement {
  keyText: string;
  effectiveKey: string;
}

/**
 * The emulator stores a new object for every write of a document, so a placement remembered
 * per object is never stale: a changed document is a new key here. Without it every query
 * hashed the partition key of every document of the container (a third of the emulator's CPU
 * under deliverEmails).
 */
const placements = new WeakMap<object, Placement>();

function placementOf(document: object, definition: PartitionKeyDefinition): Placement {
  let placement = placements.get(document);
  if (placement === undefined) {
    const value = partitionKeyOf(document, definition);
    placement = { keyText: keyText(value), effectiveKey: effectivePartitionKey(value, definition) };
    placements.set(document, placement);
  }
  return placement;
}

type StoredItem = { read(): object };

/**
 * A collection's documents as the emulator keeps them (by _rid), and also by logical partition,
 * as Cosmos DB keeps a partition's documents together: a query in one partition reads that
 * partition's documents, not the container's (a scan of every document per query was a quarter
 * of the emulator's CPU under deliverEvents). Kept up to date on every write and removal the
 * emulator makes; a document rewritten keeps its place, as in the emulator's own map.
 */
class PartitionedItems extends Map<string, StoredItem> {
  private readonly partitions = new Map<string, Map<string, StoredItem>>();
  private readonly keyOf = new Map<string, string>();
  private definition: PartitionKeyDefinition = { paths: ['/id'] };

  static over(documents: EmulatorDocuments, definition: PartitionKeyDefinition): PartitionedItems {
    if (documents._data instanceof PartitionedItems) return documents._data;
    const items = new PartitionedItems();
    items.definition = definition;
    for (const [rid, item] of documents._data) items.set(rid, item);
    documents._data = items;
    return items;
  }

  override set(rid: string, item: StoredItem): this {
    const key = placementOf(item.read(), this.definition).keyText;
    const before = this.keyOf.get(rid);
    if (before !== undefined && before !== key) this.partitions.get(before)?.delete(rid);
    let partition = this.partitions.get(key);
    if (partition === undefined) {
      partition = new Map();
      this.partitions.set(key, partition);
    }
    partition.set(rid, item);
    this.keyOf.set(rid, key);
    return super.set(rid, item);
  }

  override delete(rid: string): boolean {
    const key = this.keyOf.get(rid);
    if (key !== undefined) {
      const partition = this.partitions.get(key);
      partition?.delete(rid);
      if (partition?.size === 0) this.partitions.delete(key);
      this.keyOf.delete(rid);
    }
    return super.delete(rid);
  }

  override clear(): void {
    this.partitions.clear();
    this.keyOf.clear();
    super.clear();
  }

  /** The documents of one logical partition (its key as keyText gives it), in stored order. */
  partition(key: string): object[] {
    return [...(this.partitions.get(key)?.values() ?? [])].map((item) => item.read());
  }
}

function documentsOf(
  collection: EmulatorCollection,
  keep: (placement: Placement) => boolean,
): object[] {
  const definition = collection.read()?.partitionKey ?? { paths: ['/id'] };
  const documents: object[] = [];
  for (const item of collection.documents._data.values()) {
    const document = item.read();
    if (keep(placementOf(document, definition))) documents.push(document);
  }
  return documents;
}

/** The documents of one logical partition. */
function partitionDocuments(collection: EmulatorCollection, key: string): object[] {
  const definition = collection.read()?.partitionKey ?? { paths: ['/id'] };
  return PartitionedItems.over(collection.documents, definition).partition(key);
}

export interface StandInGateway {
  ranges: PartitionKeyRange[];
  serve: Serve;
}

/** Called with each query a partition key range runs, as its caller wrote it (before its plan). */
export type RangeQueryObserver = (query: string, rangeId: string) => void;

/** Where the SDK puts the range's filter in an ORDER BY query's rewritten text. */
const orderByFilter = '{documentdb-formattableorderbyquery-filter}';

/**
 * The gateway in front of the emulator's own handler (`emulator`), with `rangeCount` ranges;
 * `observe`, when given, hears each query sent to a range.
 */
export function standInGateway(
  account: () => EmulatorAccount,
  emulator: Serve,
  rangeCount: number,
  observe?: RangeQueryObserver,
): StandInGateway {
  const ranges = partitionKeyRanges(rangeCount);
  /** The query each plan's rewritten text was planned from, as the SDK sends it to a range. */
  const planned = new Map<string, string>();

  function answerRanges(response: ServerResponse, collection: EmulatorCollection): void {
    const rid = collection.read()?._rid ?? '';
    const PartitionKeyRanges = ranges.map((range, index) => ({
      ...range,
      _rid: `${rid}${index}`,
      _etag: `"range-${index}"`,
      ridPrefix: index,
      throughputFraction: 1 / ranges.length,
      status: 'online',
      parents: [],
    }));
    answer(
      response,
      200,
      { _rid: rid, PartitionKeyRanges, _count: ranges.length },
      { etag: `"ranges-${ranges.length}"`, 'x-ms-item-count': String(ranges.length) },
    );
  }

  function answerPlan(response: ServerResponse, spec: QuerySpec): void {
    const parameters = spec.parameters ?? [];
    const plan = queryPlan(spec.query, parameters);
    if (plan.queryInfo.aggregates.length > 0) {
      rememberAggregate(plan.queryInfo.rewrittenQuery, parseQuery(spec.query, parameters));
    }
    if (observe && plan.queryInfo.rewrittenQuery) {
      if (planned.size > 1000) planned.delete(planned.keys().next().value!);
      planned.set(plan.queryInfo.rewrittenQuery.replace(orderByFilter, 'true'), spec.query);
    }
    answer(response, 200, plan, { 'x-ms-request-charge': '0' });
  }

  function answerQuery(
    request: IncomingMessage,
    response: ServerResponse,
    collection: EmulatorCollection,
    spec: QuerySpec,
  ): void {
    const parameters = spec.parameters ?? [];
    const headers = request.headers;
    const rangeId = headers['x-ms-documentdb-partitionkeyrangeid'];
    const partitionKey = headers['x-ms-documentdb-partitionkey'];
    let documents: object[];
    if (typeof rangeId === 'string') {
      const range = ranges.find((candidate) => candidate.id === rangeId.split(',').at(-1));
      if (!range) {
        answer(
          response,
          410,
          { code: 'Gone', message: 'partition key range gone' },
          {
            'x-ms-substatus': '1002',
          },
        );
        return;
      }
      documents = documentsOf(
        collection,
        ({ effectiveKey }) =>
          range.minInclusive <= effectiveKey && effectiveKey < range.maxExclusive,
      );
      observe?.(planned.get(spec.query) ?? spec.query, range.id);
    } else if (typeof partitionKey === 'string') {
      const key = JSON.stringify(parseJson(partitionKey));
      documents = partitionDocuments(collection, key);
    } else {
      const plan = queryPlan(spec.query, parameters);
      if (needsClientPipeline(plan)) {
        answer(response, 400, {
          code: 'BadRequest',
          message:
            'The provided cross partition query can not be directly served by the gateway. This is a first chance (internal) exception that all newer clients will know how to handle gracefully.',
          additionalErrorInfo: JSON.stringify(plan),
        });
        return;
      }
      documents = documentsOf(collection, () => true);
    }
    const maxItemCount = Number(headers['x-ms-max-item-count'] ?? 0) || null;
    const continuation = parseJson(headers['x-ms-continuation'] as string | undefined) ?? null;
    const page = runQuery(
      engineOf(collection),
      documents,
      spec.query,
      parameters,
      maxItemCount,
      continuation,
    );
    answer(
      response,
      200,
      { _rid: collection.read()?._rid, Documents: page.items, _count: page.items.length },
      {
        'x-ms-item-count': String(page.items.length),
        ...(page.continuation === null
          ? {}
          : { 'x-ms-continuation': JSON.stringify(page.continuation) }),
      },
    );
  }

  const serve: Serve = (request, response) => {
    const resource = resourceOf(request.url);
    const headers = request.headers;
    const isQuery =
      request.method === 'POST' &&
      (isTrue(headers['x-ms-documentdb-isquery']) ||
        headers['content-type'] === 'application/query+json');
    const isPlan = isQuery && isTrue(headers['x-ms-cosmos-is-query-plan-request']);
    const isWrite =
      resource?.kind === 'docs/id'
        ? request.method === 'PUT'
        : resource?.kind === 'docs' && request.method === 'POST' && !isQuery;
    const collection = resource && account().database(resource.db).collection(resource.coll);
    const known = collection?.read() !== undefined;
    if (!isPlan && (!resource || !collection || !known)) {
      emulator(request, response);
      return;
    }
    if (resource?.kind === 'pkranges' && request.method === 'GET' && collection) {
      answerRanges(response, collection);
      return;
    }
    if (!isQuery && !isWrite) {
      emulator(request, response);
      return;
    }
    void readBody(request).then((text) => {
      const body = parseJson(text);
      if (isQuery) {
        try {
          if (isPlan) answerPlan(response, body as QuerySpec);
          else answerQuery(request, response, collection!, body as QuerySpec);
        } catch (error) {
          badRequest(response, (error as Error).message);
        }
        return;
      }
      const definition = collection!.read()?.partitionKey ?? { paths: ['/id'] };
      const refusal = partitionKeyRefusal(request, body, definition);
      if (refusal) badRequest(response, refusal.message, refusal.substatus);
      else emulator(replay(request, text), response);
    });
  };
  return { ranges, serve };
}
