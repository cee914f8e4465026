import type {
  Container,
  FeedResponse,
  ItemDefinition,
  OperationInput,
  OperationResponse,
  QueryIterator,
  SqlParameter,
} from '@azure/cosmos';
import {
  addRequestCharge,
  defaultDeadlineMs,
  newInvocation,
  type Invocation,
} from '../../app/invocation';
import { createHash } from 'node:crypto';
import {
  DependencyUnavailable,
  WriteConflict,
  type Page,
  type PageRequest,
  type PatchStep,
  type Versioned,
  type WriteOperation,
} from '../../app/ports';
import { validationFailed } from '../../domain/errors';
import type { DeclaredQuery } from './queries';

interface CosmosLikeError {
  code?: number | string;
  statusCode?: number;
  name?: string;
  substatus?: number;
}

const networkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

function statusOf(error: unknown): number | undefined {
  const e = error as CosmosLikeError;
  if (typeof e?.code === 'number') return e.code;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  return undefined;
}

/**
 * The SDK rethrows a failed batch request as a bare Error("Batch request error: <message>"),
 * dropping its status; only its message says what happened. These are the messages of
 * throttling, timeouts and lost connections (Cosmos DB's own texts and Node's): everything else
 * (403 RBAC, 400, 413 too large) is a fault to fix, not to retry.
 */
const transientBatchMessage =
  /request rate is large|conflicting request to resource|too ?many ?requests|service ?unavailable|service is currently unavailable|request ?timeout|timed? ?out|timeout error|aborted|ECONNRESET|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|other side closed/i;

/** True when Cosmos could not be reached or stayed unavailable after the SDK's retries. */
export function isUnavailable(error: unknown): boolean {
  const e = error as CosmosLikeError & { cause?: unknown; message?: unknown };
  if (typeof e?.code === 'string' && networkErrorCodes.has(e.code)) return true;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  const status = statusOf(error);
  if (status === 408 || status === 429 || status === 503 || status === 449) return true;
  if (
    status === undefined &&
    typeof e?.message === 'string' &&
    e.message.startsWith('Batch request error:')
  ) {
    return transientBatchMessage.test(e.message);
  }
  if (e?.cause !== undefined && e.cause !== error) return isUnavailable(e.cause);
  return false;
}

/** Throttled (429, "Request rate is large"), as the SDK gives it up after its own retries. */
function isThrottled(error: unknown): boolean {
  const e = error as { cause?: unknown; message?: unknown };
  if (statusOf(error) === 429) return true;
  if (
    typeof e?.message === 'string' &&
    /request rate is large|too ?many ?requests/i.test(e.message)
  )
    return true;
  return e?.cause !== undefined && e.cause !== error && isThrottled(e.cause);
}

/** Cosmos's own advice on when to retry (x-ms-retry-after-ms), when its error carries it. */
function retryAfterMsOf(error: unknown): number | undefined {
  const e = error as { retryAfterInMs?: unknown; headers?: Record<string, unknown> };
  const value = e?.retryAfterInMs ?? e?.headers?.['x-ms-retry-after-ms'];
  const ms = typeof value === 'string' ? Number(value) : value;
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * A container as one invocation reaches it: its calls get the invocation's deadline and add to its
 * request charge. Outside an invocation (null: scripts, tests calling an adapter directly) each
 * call gets a deadline of its own (defaultDeadlineMs).
 */
export interface ScopedContainer {
  readonly container: Container;
  readonly invocation: Invocation | null;
}

export function scoped(container: Container, invocation: Invocation | null): ScopedContainer {
  return { container, invocation };
}

/**
 * Runs a Cosmos call within the invocation's deadline: the SDK gets the invocation's abort signal
 * (it stops retrying when it fires), and the caller is answered when the deadline passes even if
 * the SDK is still between two retries (app/call-deadline.ts). An unreachable or throttled
 * account becomes DependencyUnavailable (503).
 */
export async function cosmosCall<T>(
  invocation: Invocation | null,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const running = invocation ?? newInvocation(defaultDeadlineMs);
  const { deadlineMs } = running.deadline;
  try {
    return await running.deadline.run(
      call,
      () =>
        new DependencyUnavailable('cosmos', {
          cause: new Error(`no answer within ${deadlineMs} ms`),
        }),
    );
  } catch (error) {
    if (error instanceof DependencyUnavailable) throw error;
    if (isUnavailable(error)) {
      if (isThrottled(error) && invocation) invocation.cosmosThrottled += 1;
      throw new DependencyUnavailable('cosmos', {
        cause: error,
        retryAfterMs: retryAfterMsOf(error),
      });
    }
    throw error;
  } finally {
    if (!invocation) running.deadline.end();
  }
}

/**
 * Reads are safe to repeat, so a read answered 503 (or 449, retry-with) is tried twice more
 * after a short pause: the SDK retries a 503 only on another region, which an account in one
 * region, or an emulator, does not have. Writes are not repeated here: the caller gets 503 and
 * retries the request, an Idempotency-Key making that safe.
 */
const readRetryDelaysMs = [50, 150];

async function cosmosRead<T>(
  invocation: Invocation | null,
  call: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await cosmosCall(invocation, call);
    } catch (error) {
      const status = statusOf((error as { cause?: unknown }).cause);
      const delay = readRetryDelaysMs[attempt];
      if (
        !(error instanceof DependencyUnavailable) ||
        (status !== 503 && status !== 449) ||
        delay === undefined
      )
        throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function conflictFor(status: number | undefined, index: number): WriteConflict | null {
  if (status === 409) return new WriteConflict('exists', index);
  if (status === 412) return new WriteConflict('changed', index);
  if (status === 404) return new WriteConflict('missing', index);
  return null;
}

function toOperationInput<D extends ItemDefinition>(
  operation: WriteOperation<D>,
  partitionKey: string,
): OperationInput {
  switch (operation.op) {
    case 'create':
      return { operationType: 'Create', partitionKey, resourceBody: operation.document };
    case 'upsert':
      return { operationType: 'Upsert', partitionKey, resourceBody: operation.document };
    case 'replace':
      return {
        operationType: 'Replace',
        partitionKey,
        id: String(operation.document.id),
        ifMatch: operation.etag,
        resourceBody: operation.document,
      };
    case 'delete':
      return {
        operationType: 'Delete',
        partitionKey,
        id: operation.id,
        ...(operation.etag === undefined ? {} : { ifMatch: operation.etag }),
      };
    case 'patch':
      return {
        operationType: 'Patch',
        partitionKey,
        id: operation.id,
        resourceBody: { operations: operation.steps },
      };
  }
}

async function writeOne<D extends ItemDefinition>(
  { container, invocation }: ScopedContainer,
  partitionKey: string,
  operation: WriteOperation<D>,
  abortSignal: AbortSignal,
): Promise<string | null> {
  const charged = (response: { requestCharge: number; etag: string }): string => {
    addRequestCharge(invocation, response.requestCharge);
    return response.etag;
  };
  switch (operation.op) {
    case 'create':
      return charged(await container.items.create(operation.document, { abortSignal }));
    case 'upsert':
      return charged(await container.items.upsert(operation.document, { abortSignal }));
    case 'replace':
      return charged(
        await container
          .item(String(operation.document.id), partitionKey)
          .replace(operation.document, {
            abortSignal,
            accessCondition: { type: 'IfMatch', condition: operation.etag },
          }),
      );
    case 'delete': {
      const response = await container.item(operation.id, partitionKey).delete({
        abortSignal,
        ...(operation.etag === undefined
          ? {}
          : { accessCondition: { type: 'IfMatch', condition: operation.etag } }),
      });
      addRequestCharge(invocation, response.requestCharge);
      return null;
    }
    case 'patch':
      return charged(
        await container
          .item(operation.id, partitionKey)
          .patch({ operations: operation.steps }, { abortSignal }),
      );
  }
}

/** Cosmos DB refuses a transactional batch over 2 MB (413): checked before sending it. */
export const maxBatchBytes = 2 * 1024 * 1024;

/**
 * Writes the operations in one round trip: a single operation directly, several as one
 * transactional batch in `partitionKey`. Returns each operation's new etag.
 * Throws WriteConflict when one is refused; a refused batch writes nothing (on Azure, and in
 * the embedded emulator, whose batches shared/local/emulator-batches.ts makes atomic).
 */
export async function writeInPartition<D extends ItemDefinition>(
  target: ScopedContainer,
  partitionKey: string,
  operations: WriteOperation<D>[],
): Promise<(string | null)[]> {
  const { invocation } = target;
  if (operations.length === 0) return [];
  if (operations.length > 100)
    throw new Error('a transactional batch holds at most 100 operations');
  if (operations.length === 1) {
    try {
      return [
        await cosmosCall(invocation, (signal) =>
          writeOne(target, partitionKey, operations[0]!, signal),
        ),
      ];
    } catch (error) {
      const conflict = conflictFor(statusOf(error), 0);
      if (conflict) throw conflict;
      throw error;
    }
  }
  // Made afresh for each try: the SDK rewrites each operation's partition key in place.
  const inputs = (): OperationInput[] =>
    operations.map((operation) => toOperationInput(operation, partitionKey));
  const bytes = Buffer.byteLength(JSON.stringify(inputs()));
  if (bytes > maxBatchBytes)
    throw new Error(`a transactional batch of ${bytes} bytes is over Cosmos DB's 2 MB limit`);
  const results = await batchResults(target, partitionKey, inputs);
  if (results.length !== operations.length) {
    throw new Error(`transactional batch answered ${results.length} of ${operations.length}`);
  }
  return results.map((result) => result.eTag ?? null);
}

/** A write made only if the document is still as read (its etag). */
export type GuardedWrite<D> =
  | { op: 'patch'; id: string; etag: string; steps: PatchStep[] }
  | { op: 'replace'; document: D; etag: string };

/** A batch built here stays this far under Cosmos DB's 2 MB, for the request's own envelope. */
const batchBytesBudget = maxBatchBytes - 64 * 1024;

/**
 * `items` in consecutive runs that each fit one transactional batch: at most 100, and at most
 * `batchBytesBudget` bytes as `bytesOf` counts them (an item over it alone goes by itself, and
 * Cosmos DB answers for it).
 */
export function inBatches<T>(items: readonly T[], bytesOf: (item: T) => number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = bytesOf(item);
    if (current.length > 0 && (current.length === 100 || bytes + size > batchBytesBudget)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

/**
 * Writes each document of one partition only if it is unchanged since read (its etag), and
 * returns those written, whole, with their new etags: one round trip per 100 writes (a single
 * write, or a transactional batch) when none changed. A document that changed meanwhile, or is
 * gone, is left out and the others written again without it: each write stands on its own
 * guard, the batch only saves round trips.
 */
export async function writeEachIfUnchanged<D extends ItemDefinition>(
  target: ScopedContainer,
  partitionKey: string,
  writes: readonly GuardedWrite<D>[],
): Promise<Versioned<D>[]> {
  const written: Versioned<D>[] = [];
  for (const batch of inBatches(writes, (write) =>
    jsonBytes(write.op === 'patch' ? write.steps : write.document),
  )) {
    let left = batch;
    while (left.length > 0) {
      try {
        written.push(...(await writeGuarded<D>(target, partitionKey, left)));
        break;
      } catch (error) {
        if (!(error instanceof WriteConflict) || error.reason === 'exists') throw error;
        left = left.filter((_, index) => index !== error.index);
      }
    }
  }
  return written;
}

async function writeGuarded<D extends ItemDefinition>(
  target: ScopedContainer,
  partitionKey: string,
  writes: readonly GuardedWrite<D>[],
): Promise<Versioned<D>[]> {
  const { container, invocation } = target;
  if (writes.length === 1) {
    const write = writes[0]!;
    const id = write.op === 'patch' ? write.id : String(write.document.id);
    try {
      const response = await cosmosCall(invocation, (abortSignal) => {
        const options = {
          abortSignal,
          accessCondition: { type: 'IfMatch', condition: write.etag },
        };
        const item = container.item(id, partitionKey);
        return write.op === 'patch'
          ? item.patch<D>({ operations: write.steps }, options)
          : item.replace<D>(write.document, options);
      });
      addRequestCharge(invocation, response.requestCharge);
      return [versioned(response.resource as D & { _etag: string })];
    } catch (error) {
      throw conflictFor(statusOf(error), 0) ?? error;
    }
  }
  const inputs = (): OperationInput[] =>
    writes.map((write) =>
      write.op === 'patch'
        ? {
            operationType: 'Patch',
            partitionKey,
            id: write.id,
            ifMatch: write.etag,
            resourceBody: { operations: write.steps },
          }
        : {
            operationType: 'Replace',
            partitionKey,
            id: String(write.document.id),
            ifMatch: write.etag,
            resourceBody: write.document,
          },
    );
  const results = await batchResults(target, partitionKey, inputs);
  return results.map((result) =>
    versioned(result.resourceBody as unknown as D & { _etag: string }),
  );
}

/** A transactional batch's results, a 449 retried while retries remain. */
async function batchResults(
  target: ScopedContainer,
  partitionKey: string,
  inputs: () => OperationInput[],
): Promise<OperationResponse[]> {
  for (let attempt = 0; ; attempt += 1) {
    const results = await sendBatch(target, partitionKey, inputs(), retryWithDelaysMs[attempt]);
    if (results !== 'retry') return results;
    await new Promise((resolve) => setTimeout(resolve, retryWithDelaysMs[attempt]));
  }
}

/**
 * 449 (RetryWith): Cosmos DB met a concurrent change of a document the batch touches and applied
 * none of it. The SDK does not retry it (4.9.3 has no policy for 449), so it is retried here,
 * twice after a short pause, and then answered 503 like any other passing unavailability.
 */
const retryWithDelaysMs = [50, 150];

function isRetryWith(error: unknown): boolean {
  const e = error as { message?: unknown; cause?: unknown };
  if (statusOf(error) === 449) return true;
  if (typeof e?.message === 'string' && /conflicting request to resource/i.test(e.message))
    return true;
  return e?.cause !== undefined && e.cause !== error && isRetryWith(e.cause);
}

/** One try of a transactional batch: its results, or `retry` after a 449 while retries remain. */
async function sendBatch(
  { container, invocation }: ScopedContainer,
  partitionKey: string,
  inputs: OperationInput[],
  nextDelay: number | undefined,
): Promise<OperationResponse[] | 'retry'> {
  let response;
  try {
    // A failed batch request comes back as a bare Error (see transientBatchMessage): cosmosCall
    // makes it 503 only when it was throttling, a timeout, a 449 or a lost connection.
    response = await cosmosCall(invocation, (abortSignal) =>
      container.items.batch(inputs, partitionKey, { abortSignal }),
    );
  } catch (error) {
    if (nextDelay !== undefined && isRetryWith(error)) return 'retry';
    throw error;
  }
  addRequestCharge(invocation, Number(response.headers['x-ms-request-charge'] ?? 0));
  const results = response.result ?? [];
  const failedIndex = results.findIndex(
    (result) => result.statusCode >= 400 && result.statusCode !== 424,
  );
  if (failedIndex < 0) return results;
  const status = results[failedIndex]!.statusCode;
  const conflict = conflictFor(status, failedIndex);
  if (conflict) throw conflict;
  if (status === 449 && nextDelay !== undefined) return 'retry';
  if (status === 429 || status === 503 || status === 408 || status === 449) {
    throw new DependencyUnavailable('cosmos');
  }
  throw new Error(`transactional batch failed with status ${status} at operation ${failedIndex}`);
}

/** A point read: the document and its etag, or null. */
export async function readOne<T>(
  { container, invocation }: ScopedContainer,
  id: string,
  partitionKey: string,
): Promise<Versioned<T> | null> {
  const response = await cosmosRead(invocation, (abortSignal) =>
    container.item(id, partitionKey).read<T & ItemDefinition>({ abortSignal }),
  );
  addRequestCharge(invocation, response.requestCharge);
  if (response.statusCode === 404 || response.resource === undefined) return null;
  return { value: stripSystemProperties(response.resource) as T, etag: response.etag };
}

const systemProperties = new Set(['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn']);

/**
 * A copy of `document` without the properties named. One pass, no `delete`: a deleted property
 * turns an object into a slow dictionary, for every read and JSON.stringify after it.
 */
export function without<T extends object>(document: T, names: ReadonlySet<string>): T {
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(document)) {
    if (!names.has(key)) copy[key] = (document as Record<string, unknown>)[key];
  }
  return copy as T;
}

export function stripSystemProperties<T extends object>(document: T): T {
  return without(document, systemProperties);
}

function versioned<T>(resource: T & { _etag: string }): Versioned<T> {
  return { value: stripSystemProperties(resource) as T, etag: resource._etag };
}

/** A continuation token or list cursor this app did not issue for this list: 400. */
export const notOurToken = (): Error =>
  validationFailed([
    { path: 'query.continuationToken', message: 'is not a token this list gave you' },
  ]);

/** Which list a token belongs to: the query, its parameters and its partition. */
function listFingerprint(query: string, parameters: SqlParameter[], partitionKey: string): string {
  return createHash('sha256')
    .update(JSON.stringify([query, parameters, partitionKey]))
    .digest('base64url')
    .slice(0, 16);
}

/**
 * Continuation tokens go to callers base64url-encoded, opaque and safe in a query string, with
 * the fingerprint of the list that issued them: a token of another list, or of no list at all,
 * is refused here (400) whatever its shape, before it can reach Cosmos DB.
 */
export function encodeContinuation(token: string | undefined, list: string): string | null {
  return token
    ? Buffer.from(JSON.stringify({ l: list, t: token }), 'utf8').toString('base64url')
    : null;
}

export function decodeContinuation(token: string | undefined, list: string): string | undefined {
  if (token === undefined) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw notOurToken();
  }
  const { l, t } = (envelope ?? {}) as { l?: unknown; t?: unknown };
  if (l !== list || typeof t !== 'string' || t.length === 0) throw notOurToken();
  return t;
}

function partitionQuerySpec(
  query: DeclaredQuery,
  parameters: SqlParameter[],
  partitionKey: string,
): { query: string; parameters: SqlParameter[] } {
  if (query.scope !== 'partition') {
    throw new Error(`query ${query.name} is declared across partitions`);
  }
  return {
    query: query.text,
    parameters: [...parameters, { name: '@partitionKey', value: partitionKey }],
  };
}

/**
 * One page of a query in one logical partition, continuing from the caller's token. The query
 * filters on `@partitionKey` in its text too (queries.ts checks it): the embedded emulator
 * ignores the partition option, and the filter keeps tenants apart on any engine. Only a
 * single-partition query takes a continuation token: across partitions, Azure's gateway leaves
 * ORDER BY to the SDK, whose client-side merge issues none (see queryAcrossPartitions).
 */
export async function queryPartitionPage<T>(
  { container, invocation }: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  page: PageRequest,
  partitionKey: string,
): Promise<Page<Versioned<T>>> {
  const spec = partitionQuerySpec(query, parameters, partitionKey);
  const list = listFingerprint(spec.query, spec.parameters, partitionKey);
  const continuationToken = decodeContinuation(page.continuationToken, list);
  try {
    const response = await cosmosRead(invocation, (abortSignal) =>
      container.items
        .query<T & { _etag: string }>(spec, {
          abortSignal,
          maxItemCount: page.pageSize,
          partitionKey,
          ...(continuationToken === undefined ? {} : { continuationToken }),
        })
        .fetchNext(),
    );
    addRequestCharge(invocation, response.requestCharge);
    return {
      items: (response.resources ?? []).map(versioned),
      continuationToken: encodeContinuation(response.continuationToken, list),
    };
  } catch (error) {
    // A token of the right list that Cosmos DB no longer takes (expired, or forged).
    if (continuationToken !== undefined && !isUnavailable(error)) throw notOurToken();
    throw error;
  }
}

/**
 * One page of an iterator within the call deadline. The iterator's own abort signal (given
 * when it was made) fires when the deadline passes, so the SDK stops too. A failed page is
 * not read again: an iterator's position after a failure is the SDK's, not ours to trust.
 */
async function fetchNextOf<T>(
  invocation: Invocation | null,
  iterator: QueryIterator<T>,
  controller: AbortController,
): Promise<FeedResponse<T>> {
  try {
    const response = await cosmosCall(invocation, () => iterator.fetchNext());
    addRequestCharge(invocation, response.requestCharge);
    return response;
  } catch (error) {
    controller.abort();
    throw error;
  }
}

/**
 * The first document a single-partition query finds. Cosmos may answer a page with no
 * documents and a continuation (time, RU or size limits): it reads on until it finds one or
 * the query is done.
 */
export async function findInPartition<T>(
  { container, invocation }: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  partitionKey: string,
): Promise<Versioned<T> | null> {
  const controller = new AbortController();
  const iterator = container.items.query<T & { _etag: string }>(
    partitionQuerySpec(query, parameters, partitionKey),
    { maxItemCount: 1, partitionKey, abortSignal: controller.signal },
  );
  while (iterator.hasMoreResults()) {
    const response = await fetchNextOf(invocation, iterator, controller);
    // The SDK's client-side path answers a page with no documents with no array at all.
    const first = response.resources?.[0];
    if (first !== undefined) return versioned(first);
  }
  return null;
}

/**
 * Every document a single-partition query finds, every page read: Cosmos may answer a page short,
 * or empty with a continuation (time, RU or size limits), and a read that decides something for
 * good (which endpoints an event goes to) must not take that page for the end.
 */
export async function allInPartition<T>(
  { container, invocation }: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  partitionKey: string,
  pageSize: number,
): Promise<Versioned<T>[]> {
  const controller = new AbortController();
  const iterator = container.items.query<T & { _etag: string }>(
    partitionQuerySpec(query, parameters, partitionKey),
    { maxItemCount: pageSize, partitionKey, abortSignal: controller.signal },
  );
  const found: Versioned<T>[] = [];
  while (iterator.hasMoreResults()) {
    const response = await fetchNextOf(invocation, iterator, controller);
    found.push(...(response.resources ?? []).map(versioned));
  }
  return found;
}

/** One SDK iterator across partitions, drained here (see queryAcrossPartitions). */
async function* drainAcrossPartitions<T>(
  { container, invocation }: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  pageSize: number,
): AsyncIterable<T> {
  if (query.scope !== 'cross-partition') {
    throw new Error(`query ${query.name} is declared for one partition`);
  }
  const controller = new AbortController();
  const iterator = container.items.query<T>(
    { query: query.text, parameters },
    // The plan first: Azure's gateway refuses a cross-partition ORDER BY, aggregate, DISTINCT
    // or TOP anyway, so asking for the plan straight away saves that refused round trip. Each
    // partition key range is asked for pages of `pageSize`: the SDK asks every range at once.
    { maxItemCount: pageSize, abortSignal: controller.signal, forceQueryPlan: true },
  );
  try {
    while (iterator.hasMoreResults()) {
      const response = await fetchNextOf(invocation, iterator, controller);
      for (const resource of response.resources ?? []) yield resource;
    }
  } finally {
    controller.abort();
  }
}

/**
 * Every document a query finds across partitions, read through one SDK iterator drained here:
 * on Azure a cross-partition ORDER BY is merged by the SDK from each partition and, without
 * `enableQueryControl`, gives no continuation token, so none is asked for or handed on (this
 * function takes none). A caller that has enough (a keyset page, a timer's batch) stops
 * iterating, and the iterator is aborted. The SDK asks each physical partition for `pageSize`
 * documents at once: a read that needs `n` asks pages of about that size, never its whole run's
 * limit (which every partition would answer in full).
 */
export async function* queryAcrossPartitions<T>(
  { container, invocation }: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  pageSize: number,
): AsyncIterable<Versioned<T>> {
  if (!/^SELECT \* /.test(query.text)) {
    throw new Error(`query ${query.name} selects values, not documents: valuesAcrossPartitions`);
  }
  for await (const resource of drainAcrossPartitions<T & { _etag: string }>(
    { container, invocation },
    query,
    parameters,
    pageSize,
  )) {
    yield versioned(resource);
  }
}

/**
 * What a projection, an aggregate or a DISTINCT query selects across partitions, as the SDK
 * merges it from each partition (an aggregate: one value; a DISTINCT: each value once).
 */
export async function valuesAcrossPartitions<T>(
  target: ScopedContainer,
  query: DeclaredQuery,
  parameters: SqlParameter[],
  pageSize: number,
  limit = Infinity,
): Promise<T[]> {
  if (/^SELECT \* /.test(query.text)) {
    throw new Error(`query ${query.name} selects documents: queryAcrossPartitions`);
  }
  const values: T[] = [];
  for await (const value of drainAcrossPartitions<T>(target, query, parameters, pageSize)) {
    values.push(value);
    if (values.length >= limit) break;
  }
  return values;
}
