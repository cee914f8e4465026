import { CosmosClient, type Container, type OperationInput } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';
import { scoped, writeInPartition } from '../../shared/adapters/cosmos/operations';
import { WriteConflict } from '../../shared/app/ports';
import { startCosmosEmulator } from '../../shared/local/embedded';

/**
 * Azure Cosmos DB's transactional batch is atomic: "if any operation fails, the whole batch is
 * rolled back" (learn.microsoft.com, Transactional batch operations), the failed operation
 * carries its status and the others 424 (Failed Dependency) in a 207 Multi-Status response, and
 * a batch may hold Patch operations. The embedded emulator is made to do the same
 * (shared/local/emulator-batches.ts); these tests hold it to that, through the SDK.
 */
let emulator: { endpoint: string; close(): Promise<void> };
let container: Container;
beforeAll(async () => {
  emulator = await startCosmosEmulator(0);
  const client = new CosmosClient({
    endpoint: emulator.endpoint,
    key: emulatorKey,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const { database } = await client.databases.createIfNotExists({ id: 'batches' });
  ({ container } = await database.containers.createIfNotExists({
    id: 'items',
    partitionKey: { paths: ['/pk'] },
  }));
});
afterAll(() => emulator.close());

const read = async (id: string, pk: string) => {
  const { resource, etag } = await container.item(id, pk).read<{ id: string; n?: number }>();
  return resource ? { ...resource, etag } : null;
};

describe('a transactional batch on the embedded emulator, as on Azure', () => {
  it('writes nothing when its third operation is refused: what the first two wrote is undone, etags included', async () => {
    const pk = 'p1';
    await container.items.create({ id: 'kept', pk, n: 1 });
    const before = await read('kept', pk);
    const operations: OperationInput[] = [
      { operationType: 'Create', partitionKey: pk, resourceBody: { id: 'new', pk } },
      {
        operationType: 'Replace',
        partitionKey: pk,
        id: 'kept',
        ifMatch: before!.etag,
        resourceBody: { id: 'kept', pk, n: 2 },
      },
      { operationType: 'Create', partitionKey: pk, resourceBody: { id: 'kept', pk } },
    ];
    const response = await container.items.batch(operations, pk);
    expect(response.code).toBe(207);
    expect(response.result?.map((result) => result.statusCode)).toEqual([424, 424, 409]);
    expect(await read('new', pk)).toBeNull();
    const after = await read('kept', pk);
    expect(after).toEqual(before);
  });

  it('applies every operation when none is refused', async () => {
    const pk = 'p2';
    const response = await container.items.batch(
      [
        { operationType: 'Create', partitionKey: pk, resourceBody: { id: 'a', pk } },
        { operationType: 'Create', partitionKey: pk, resourceBody: { id: 'b', pk } },
      ],
      pk,
    );
    expect(response.result?.map((result) => result.statusCode)).toEqual([201, 201]);
    expect(await read('a', pk)).not.toBeNull();
    expect(await read('b', pk)).not.toBeNull();
  });

  it('serves Patch operations inside a batch: increments add up without reading', async () => {
    const pk = 'p3';
    await container.items.create({ id: 'counts', pk, n: 0 });
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        writeInPartition(scoped(container, null), pk, [
          { op: 'create', document: { id: `change-${index}`, pk } },
          { op: 'patch', id: 'counts', steps: [{ op: 'incr', path: '/n', value: 1 }] },
        ]),
      ),
    );
    expect((await read('counts', pk))?.n).toBe(10);
  });

  it('refuses the whole batch when a patched document is missing (404), writing nothing', async () => {
    const pk = 'p4';
    const refused = writeInPartition(scoped(container, null), pk, [
      { op: 'create', document: { id: 'change', pk } },
      { op: 'patch', id: 'absent', steps: [{ op: 'incr', path: '/n', value: 1 }] },
    ]);
    await expect(refused).rejects.toEqual(new WriteConflict('missing', 1));
    expect(await read('change', pk)).toBeNull();
  });

  it('writes an increment once: a batch repeated after its create succeeded is refused whole', async () => {
    const pk = 'p5';
    await container.items.create({ id: 'counts', pk, n: 0 });
    const once = () =>
      writeInPartition(scoped(container, null), pk, [
        { op: 'create', document: { id: 'copy-of-event', pk } },
        { op: 'patch', id: 'counts', steps: [{ op: 'incr', path: '/n', value: 3 }] },
      ]);
    await once();
    await expect(once()).rejects.toEqual(new WriteConflict('exists', 0));
    expect((await read('counts', pk))?.n).toBe(3);
  });
});
