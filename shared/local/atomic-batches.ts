/**
 * Transactional batches all or nothing in the embedded emulator, as on Azure ("if any operation
 * fails, the entire transaction is rolled back": Cosmos DB transactional batch operations).
 * @vercel/cosmosdb-server applies a batch operation by operation and stops at the first that
 * fails, keeping those before it: a batch with two guards (a license's subscription and user,
 * a transfer's settlement) that failed at its second kept its first write here, and only here.
 * Its batch handler (lib/handler/batch-documents.js) is replaced by the same steps that first
 * note each document an operation touches and, when one fails, put them all back, answering
 * 424 Failed Dependency for the others as Azure does. The steps are synchronous after the body
 * is read, so no other request runs between a batch's operations and their undoing.
 */
import path from 'node:path';

interface Items {
  _item(keyPath: string, id: string, partition: unknown): { read(): StoredDocument | undefined };
  _set(document: StoredDocument): unknown;
  _getPartition(document: object): unknown;
  delete(id: string, partition: unknown): void;
}

interface StoredDocument {
  id: string;
  _etag: string;
  [field: string]: unknown;
}

interface BatchInput {
  operationType?: string;
  id?: string;
  partitionKey?: string;
  resourceBody?: { id?: string; [field: string]: unknown };
}

interface OperationResult {
  statusCode: number;
  body?: { _etag?: string } | null;
}

type Handler = (
  account: unknown,
  request: unknown,
  response: { statusCode: number },
  params: { dbId: string; collId: string },
) => Promise<unknown>;

let installed = false;

/** Must run before @vercel/cosmosdb-server is first loaded: its router keeps the handler. */
export function makeBatchesAtomic(): void {
  if (installed) return;
  const library = path.join(path.dirname(require.resolve('@vercel/cosmosdb-server')));
  if (require.cache[path.join(library, 'routes.js')]) {
    throw new Error('makeBatchesAtomic() must run before @vercel/cosmosdb-server is loaded');
  }
  /* eslint-disable @typescript-eslint/no-require-imports */
  const batch = require(path.join(library, 'handler/batch-documents.js')) as { default: Handler };
  const operations = require(path.join(library, 'handler/_document-operations.js')) as Record<
    string,
    (collection: unknown, input: BatchInput) => OperationResult
  >;
  const readJson = (require(path.join(library, 'json.js')) as { default: (r: unknown) => unknown })
    .default;
  const isTrue = (
    require(path.join(library, 'true-header.js')) as {
      default: (r: unknown, header: string) => boolean;
    }
  ).default;
  const { parsePartitionKey } = require(
    path.join(library, 'utils/get-partition-from-header.js'),
  ) as { parsePartitionKey: (header: string | undefined, id: string | undefined) => unknown };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const byType: Record<string, string> = {
    Create: 'createOperation',
    Upsert: 'upsertOperation',
    Read: 'readOperation',
    Delete: 'deleteOperation',
    Replace: 'replaceOperation',
  };

  batch.default = async (account, request, response, { dbId, collId }) => {
    const body = await readJson(request);
    const atomic = isTrue(request, 'x-ms-cosmos-batch-atomic');
    const continueOnError = isTrue(request, 'x-ms-cosmos-batch-continue-on-error');
    const collection = (
      account as {
        database(id: string): {
          collection(id: string): { read(): unknown; documents: Items };
        };
      }
    )
      .database(dbId)
      .collection(collId);
    if (!collection.read()) {
      response.statusCode = 404;
      return {};
    }
    if (!Array.isArray(body)) {
      response.statusCode = 400;
      return { message: 'Invalid request body' };
    }
    const items = collection.documents;
    // Each document as it was before the batch touched it (undefined: it did not exist).
    const before = new Map<
      string,
      { id: string; partition: unknown; data: StoredDocument | undefined }
    >();
    const note = (input: BatchInput): void => {
      const id = input.resourceBody?.id ?? input.id;
      if (id === undefined) return;
      const partition = input.resourceBody
        ? items._getPartition(input.resourceBody)
        : parsePartitionKey(input.partitionKey, id);
      const key = JSON.stringify([partition, id]);
      if (!before.has(key)) {
        const stored = items._item('/id', id, partition).read();
        before.set(key, { id, partition, data: stored ? { ...stored } : undefined });
      }
    };
    const results: Record<string, unknown>[] = [];
    let failedAt = -1;
    for (const [index, input] of (body as BatchInput[]).entries()) {
      if (failedAt >= 0 && !continueOnError) {
        results.push({ statusCode: 424, requestCharge: 0 });
        continue;
      }
      const name = byType[input?.operationType ?? ''];
      if (!name) {
        response.statusCode = 400;
        return { message: `Operation type '${input?.operationType}' is not supported in Batch.` };
      }
      if (atomic) note(input);
      const result = operations[name]!(collection, input);
      if (result.statusCode >= 400) {
        if (failedAt < 0) failedAt = index;
        results.push({ statusCode: result.statusCode, requestCharge: 0 });
      } else {
        results.push({
          statusCode: result.statusCode,
          requestCharge: 1,
          eTag: result.body ? result.body._etag : undefined,
          resourceBody: result.body,
        });
      }
    }
    if (atomic && failedAt >= 0) {
      for (const { id, partition, data } of before.values()) {
        if (items._item('/id', id, partition).read()) items.delete(id, partition);
        if (data) items._set(data);
      }
      return results.map((result, index) =>
        index === failedAt ? result : { statusCode: 424, requestCharge: 0 },
      );
    }
    return results;
  };
  installed = true;
}
