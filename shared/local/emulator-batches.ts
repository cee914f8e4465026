import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

/**
 * The embedded emulator's transactional batch, made to do what Azure's does:
 * - all or nothing: a refused operation leaves the partition as it was before the batch (the
 *   emulator's own handler applies each operation as it goes and stops at the first refusal,
 *   keeping those before it);
 * - the refused operation answers its status and every other one 424, in an HTTP 207
 *   (Multi-Status) response, as the service answers a failed atomic batch;
 * - Patch operations (partial document update) are served inside a batch, as on Azure (the
 *   emulator serves a patch only on its own, and answers 400 to one in a batch).
 * A batch is applied synchronously, between two requests of the event loop, as the emulator
 * applies every write: no other request sees it half-done.
 */

interface StoredDocument {
  id: string;
  _etag?: string;
  _rid?: string;
  [field: string]: unknown;
}

interface Documents {
  delete(id: string, partition: unknown): void;
  /** The store's own write of a document as given, system properties included. */
  _set(document: StoredDocument): StoredDocument;
}

interface Collection {
  read(): unknown;
  document(id: string, partition: unknown): { read(): StoredDocument | null | undefined };
  documents: Documents;
}

interface Account {
  database(id: string): { collection(id: string): Collection };
}

interface BatchOperation {
  operationType?: string;
  id?: string;
  partitionKey?: string;
  ifMatch?: string;
  resourceBody?: StoredDocument | { operations?: unknown[]; condition?: string } | unknown[];
}

interface OperationResult {
  statusCode: number;
  body?: { _etag?: string } & Record<string, unknown>;
}

type Operation = (collection: Collection, input: BatchOperation) => OperationResult;

type Handler = ((
  account: Account,
  request: IncomingMessage,
  response: ServerResponse,
  params: { dbId: string; collId: string },
) => Promise<unknown>) & { [atomic]?: true };

// Symbol.for: one mark per process, however many times this module is loaded (test isolation).
const atomic = Symbol.for('partner-transition: atomic transactional batches');

/* eslint-disable @typescript-eslint/no-require-imports -- the emulator's own modules, a dev
   dependency loaded at run time only (as shared/local/embedded.ts loads it) */
function emulatorModule<T>(relative: string): T {
  const library = path.dirname(require.resolve('@vercel/cosmosdb-server'));
  return require(path.join(library, relative)) as T;
}

/**
 * Installs the atomic batch handler. It must run before the emulator's routes are built (they
 * keep the handler they find when first loaded): startCosmosEmulator calls it before it loads
 * the emulator, and it refuses to run too late rather than leave batches as they were.
 */
export function useAtomicBatches(): void {
  const batch = emulatorModule<{ default: Handler }>('handler/batch-documents.js');
  if (batch.default[atomic]) return;
  const routes = require.resolve(
    path.join(path.dirname(require.resolve('@vercel/cosmosdb-server')), 'routes.js'),
  );
  if (require.cache[routes]) {
    throw new Error('the embedded emulator was loaded before its batches could be made atomic');
  }
  const documents = emulatorModule<Record<string, Operation>>('handler/_document-operations.js');
  const { patchOperation } = emulatorModule<{
    patchOperation: (
      collection: Collection,
      input: {
        id?: string;
        partitionKey?: string;
        ifMatch?: string;
        operations: unknown[];
        condition?: string;
      },
    ) => OperationResult;
  }>('handler/_patch-operations.js');
  const readJson = emulatorModule<{ default: (request: IncomingMessage) => Promise<unknown> }>(
    'json.js',
  ).default;
  const { parsePartitionKey } = emulatorModule<{
    parsePartitionKey: (header: string | undefined, fallback: unknown) => unknown;
  }>('utils/get-partition-from-header.js');

  const patch: Operation = (collection, input) => {
    const body = input.resourceBody;
    const operations = Array.isArray(body)
      ? body
      : ((body as { operations?: unknown[] } | undefined)?.operations ?? []);
    const condition = Array.isArray(body)
      ? undefined
      : (body as { condition?: string } | undefined)?.condition;
    return patchOperation(collection, {
      ...(input.id === undefined ? {} : { id: input.id }),
      ...(input.partitionKey === undefined ? {} : { partitionKey: input.partitionKey }),
      ...(input.ifMatch === undefined ? {} : { ifMatch: input.ifMatch }),
      operations,
      ...(condition === undefined ? {} : { condition }),
    });
  };
  const operations: Record<string, Operation> = {
    Create: documents.createOperation!,
    Upsert: documents.upsertOperation!,
    Read: documents.readOperation!,
    Delete: documents.deleteOperation!,
    Replace: documents.replaceOperation!,
    Patch: patch,
  };

  const handler: Handler = async (account, request, response, { dbId, collId }) => {
    const body = await readJson(request);
    const collection = account.database(dbId).collection(collId);
    if (!collection.read()) {
      response.statusCode = 404;
      return {};
    }
    if (!Array.isArray(body)) {
      response.statusCode = 400;
      return { message: 'Invalid request body' };
    }
    const inputs = body as BatchOperation[];
    const undo: { id: string; partition: unknown; before: StoredDocument | null }[] = [];
    const results: OperationResult[] = [];
    for (const input of inputs) {
      const run = operations[input.operationType ?? ''];
      if (!run) {
        response.statusCode = 400;
        rollBack(collection, undo);
        return { message: `Operation type '${input.operationType}' is not supported in Batch.` };
      }
      const id = input.id ?? (input.resourceBody as StoredDocument | undefined)?.id;
      const partition =
        id === undefined || input.partitionKey === undefined
          ? undefined
          : parsePartitionKey(input.partitionKey, id);
      const before = id === undefined ? null : (collection.document(id, partition).read() ?? null);
      let result: OperationResult;
      try {
        result = run(collection, input);
      } catch (error) {
        rollBack(collection, undo);
        throw error;
      }
      results.push(result);
      if (result.statusCode >= 400) {
        rollBack(collection, undo);
        response.statusCode = 207;
        return inputs.map((_, index) => ({
          statusCode: index === results.length - 1 ? result.statusCode : 424,
          requestCharge: 0,
          ...(index === results.length - 1 && result.body ? { resourceBody: result.body } : {}),
        }));
      }
      if (id !== undefined) undo.push({ id, partition, before });
    }
    return results.map((result) => ({
      statusCode: result.statusCode,
      requestCharge: 1,
      eTag: result.body?._etag,
      resourceBody: result.body,
    }));
  };
  handler[atomic] = true;
  batch.default = handler;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Puts back each document a refused batch wrote, as it was (its etag and system properties). */
function rollBack(
  collection: Collection,
  undo: { id: string; partition: unknown; before: StoredDocument | null }[],
): void {
  for (const { id, partition, before } of undo.reverse()) {
    if (collection.document(id, partition).read()) collection.documents.delete(id, partition);
    if (before) collection.documents._set(before);
  }
}
