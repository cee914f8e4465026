import type { Container, ItemDefinition, OperationInput, SqlParameter } from '@azure/cosmos';
import { createHash } from 'node:crypto';
import {
  DependencyUnavailable,
  WriteConflict,
  type Page,
  type PageRequest,
  type Versioned,
  type WriteOperation,
} from '../../app/ports';
import { validationFailed } from '../../domain/errors';

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

/** True when Cosmos could not be reached or stayed unavailable after the SDK's retries. */
export function isUnavailable(error: unknown): boolean {
  const e = error as CosmosLikeError & { cause?: unknown };
  if (typeof e?.code === 'string' && networkErrorCodes.has(e.code)) return true;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return true;
  const status = statusOf(error);
  if (status === 408 || status === 429 || status === 503 || status === 449) return true;
  if (e?.cause !== undefined && e.cause !== error) return isUnavailable(e.cause);
  return false;
}

/** Runs a Cosmos call; an unreachable account becomes DependencyUnavailable (503). */
export async function cosmosCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isUnavailable(error)) throw new DependencyUnavailable('cosmos', { cause: error });
    throw error;
  }
}

/**
 * Reads are safe to repeat, so a read answered 503 (or 449, retry-with) is tried twice more
 * after a short pause: the SDK retries a 503 only on another region, which an account in one
 * region, or an emulator, does not have. Writes are not repeated here: the caller gets 503 and
 * retries the request, an Idempotency-Key making that safe.
 */
const readRetryDelaysMs = [50, 150];

async function cosmosRead<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await cosmosCall(call);
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
  }
}

async function writeOne<D extends ItemDefinition>(
  container: Container,
  partitionKey: string,
  operation: WriteOperation<D>,
): Promise<string | null> {
  switch (operation.op) {
    case 'create':
      return (await container.items.create(operation.document)).etag;
    case 'upsert':
      return (await container.items.upsert(operation.document)).etag;
    case 'replace':
      return (
        await container
          .item(String(operation.document.id), partitionKey)
          .replace(operation.document, {
            accessCondition: { type: 'IfMatch', condition: operation.etag },
          })
      ).etag;
    case 'delete':
      await container
        .item(operation.id, partitionKey)
        .delete(
          operation.etag === undefined
            ? {}
            : { accessCondition: { type: 'IfMatch', condition: operation.etag } },
        );
      return null;
  }
}

/**
 * Writes the operations in one round trip: a single operation directly, several as one
 * transactional batch in `partitionKey`. Returns each operation's new etag.
 * Throws WriteConflict when one is refused. The guard goes first: the embedded emulator
 * applies a batch's operations one by one, so only a refused first operation is atomic there.
 */
export async function writeInPartition<D extends ItemDefinition>(
  container: Container,
  partitionKey: string,
  operations: WriteOperation<D>[],
): Promise<(string | null)[]> {
  if (operations.length === 0) return [];
  if (operations.length > 100)
    throw new Error('a transactional batch holds at most 100 operations');
  if (operations.length === 1) {
    try {
      return [await cosmosCall(() => writeOne(container, partitionKey, operations[0]!))];
    } catch (error) {
      const conflict = conflictFor(statusOf(error), 0);
      if (conflict) throw conflict;
      throw error;
    }
  }
  const response = await cosmosCall(() =>
    container.items
      .batch(
        operations.map((operation) => toOperationInput(operation, partitionKey)),
        partitionKey,
      )
      .catch((error: unknown) => {
        // The SDK rethrows a failed batch request as a bare Error("Batch request error: ..."),
        // dropping its status (429 after its retries, 503, no connection). The batch is
        // transactional and was refused whole: nothing was written, so it is unavailability.
        if (error instanceof Error && error.message.startsWith('Batch request error:'))
          throw new DependencyUnavailable('cosmos', { cause: error });
        throw error;
      }),
  );
  const results = response.result ?? [];
  const failedIndex = results.findIndex(
    (result) => result.statusCode >= 400 && result.statusCode !== 424,
  );
  if (failedIndex >= 0) {
    const status = results[failedIndex]!.statusCode;
    const conflict = conflictFor(status, failedIndex);
    if (conflict) throw conflict;
    if (status === 429 || status === 503 || status === 408) {
      throw new DependencyUnavailable('cosmos');
    }
    throw new Error(`transactional batch failed with status ${status} at operation ${failedIndex}`);
  }
  if (results.length !== operations.length) {
    throw new Error(`transactional batch answered ${results.length} of ${operations.length}`);
  }
  return results.map((result) => result.eTag ?? null);
}

/** A point read: the document and its etag, or null. */
export async function readOne<T>(
  container: Container,
  id: string,
  partitionKey: string,
): Promise<Versioned<T> | null> {
  const response = await cosmosRead(() =>
    container.item(id, partitionKey).read<T & ItemDefinition>(),
  );
  if (response.statusCode === 404 || response.resource === undefined) return null;
  return { value: stripSystemProperties(response.resource) as T, etag: response.etag };
}

const systemProperties = ['_rid', '_self', '_etag', '_attachments', '_ts', '_lsn'];

export function stripSystemProperties<T extends object>(document: T): T {
  const copy = { ...document } as Record<string, unknown>;
  for (const property of systemProperties) delete copy[property];
  return copy as T;
}

const notIssued = (): Error =>
  validationFailed([
    { path: 'query.continuationToken', message: 'is not a token this list gave you' },
  ]);

/** Which list a token belongs to: the query, its parameters and its partition. */
function listFingerprint(query: string, parameters: SqlParameter[], partitionKey?: string): string {
  return createHash('sha256')
    .update(JSON.stringify([query, parameters, partitionKey ?? null]))
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
    throw notIssued();
  }
  const { l, t } = (envelope ?? {}) as { l?: unknown; t?: unknown };
  if (l !== list || typeof t !== 'string' || t.length === 0) throw notIssued();
  return t;
}

/**
 * One page of a query, in one partition when `partitionKey` is given, across all otherwise.
 * A single-partition query must also filter on `@partitionKey` in its text: the embedded
 * emulator ignores the partition option, and the filter keeps tenants apart on any engine.
 */
export async function queryPage<T>(
  container: Container,
  query: string,
  parameters: SqlParameter[],
  page: PageRequest,
  partitionKey?: string,
): Promise<Page<Versioned<T>>> {
  if (partitionKey !== undefined) {
    if (!query.includes('@partitionKey'))
      throw new Error('a single-partition query must filter on @partitionKey');
    parameters = [...parameters, { name: '@partitionKey', value: partitionKey }];
  }
  const list = listFingerprint(query, parameters, partitionKey);
  const continuationToken = decodeContinuation(page.continuationToken, list);
  try {
    const response = await cosmosRead(() =>
      container.items
        .query<T & { _etag: string }>(
          { query, parameters },
          {
            maxItemCount: page.pageSize,
            ...(continuationToken === undefined ? {} : { continuationToken }),
            ...(partitionKey === undefined ? {} : { partitionKey }),
          },
        )
        .fetchNext(),
    );
    return {
      items: response.resources.map((resource) => ({
        value: stripSystemProperties(resource) as T,
        etag: resource._etag,
      })),
      continuationToken: encodeContinuation(response.continuationToken, list),
    };
  } catch (error) {
    // A token of the right list that Cosmos DB no longer takes (expired, or forged).
    if (continuationToken !== undefined && !isUnavailable(error)) throw notIssued();
    throw error;
  }
}
