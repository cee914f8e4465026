import { CosmosClient, type Container, type OperationInput } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';
import {
  scoped,
  writeEachIfUnchanged,
  writeInPartition,
  type GuardedWrite,
} from '../../shared/adapters/cosmos/operations';
import { WriteConflict } from '../../shared/app/ports';
import { startCosmosEmulator } from '../../shared/local/embedded';
import { CosmosRequestLog, roundTrips } from '../support/cosmos-requests';

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

/**
 * writeEachIfUnchanged (deliverEmails' claims and settlements): each write stands on its own
 * etag, the transactional batch only saves round trips. Batches hold at most 100 operations
 * (Cosmos DB's limit) and stay under its 2 MB request, and a write whose document changed or is
 * gone is left out, the others written.
 */
describe('writes guarded each by its etag, in as few batches as Cosmos DB allows', () => {
  type Doc = { id: string; pk: string; n?: number; body?: string };
  const log = new CosmosRequestLog();
  let counted: Container;
  beforeAll(() => {
    counted = new CosmosClient({
      endpoint: emulator.endpoint,
      key: emulatorKey,
      connectionPolicy: { enableEndpointDiscovery: false },
      httpClient: log.httpClient,
    })
      .database('batches')
      .container('items');
  });

  const seed = async (pk: string, count: number, body = '') =>
    Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const { resource } = await container.items.create<Doc>({ id: `d${index}`, pk, body });
        return { id: resource!.id, etag: resource!._etag };
      }),
    );
  const patchN = (written: { id: string; etag: string }[], n: number): GuardedWrite<Doc>[] =>
    written.map(({ id, etag }) => ({
      op: 'patch',
      id,
      etag,
      steps: [{ op: 'set', path: '/n', value: n }],
    }));

  it('makes 101 writes in two round trips: a batch of 100 (the most a batch may hold), then one alone', async () => {
    const pk = 'e1';
    const seeded = await seed(pk, 101);
    const requests = await log.during(() =>
      writeEachIfUnchanged<Doc>(scoped(counted, null), pk, patchN(seeded, 1)),
    );
    expect(roundTrips(requests)).toMatchObject({ batches: 1, writes: 1 });
    const { resources } = await container.items
      .query<Doc & { _etag: string }>('SELECT * FROM c', { partitionKey: pk })
      .fetchAll();
    expect(resources).toHaveLength(101);
    expect(resources.every((doc) => doc.n === 1)).toBe(true);
  });

  it('answers the documents written, whole, with the etags they now have', async () => {
    const pk = 'e2';
    const seeded = await seed(pk, 3, 'kept');
    const written = await writeEachIfUnchanged<Doc>(scoped(container, null), pk, patchN(seeded, 2));
    for (const { value, etag } of written) {
      const stored = await read(value.id, pk);
      expect(value).toMatchObject({ id: stored!.id, pk, n: 2, body: 'kept' });
      expect(etag).toBe(stored!.etag);
    }
    expect(written.map(({ value }) => value.id)).toEqual(['d0', 'd1', 'd2']);
  });

  it('splits writes over 2 MB: three replaces of 800 KB go as a batch of two and one alone', async () => {
    const pk = 'e3';
    const seeded = await seed(pk, 3);
    const body = 'x'.repeat(800 * 1024);
    const requests = await log.during(() =>
      writeEachIfUnchanged<Doc>(
        scoped(counted, null),
        pk,
        seeded.map(({ id, etag }) => ({ op: 'replace', etag, document: { id, pk, n: 3, body } })),
      ),
    );
    expect(roundTrips(requests)).toMatchObject({ batches: 1, writes: 1 });
    for (const { id } of seeded) expect(await read(id, pk)).toMatchObject({ n: 3 });
  });

  it('leaves out a document gone and one changed since read, and writes the others', async () => {
    const pk = 'e4';
    const seeded = await seed(pk, 4);
    await container.item('d1', pk).delete();
    await container.item('d2', pk).replace({ id: 'd2', pk, n: 7 });
    const written = await writeEachIfUnchanged<Doc>(scoped(container, null), pk, patchN(seeded, 4));
    expect(written.map(({ value }) => value.id)).toEqual(['d0', 'd3']);
    expect(await read('d0', pk)).toMatchObject({ n: 4 });
    expect(await read('d1', pk)).toBeNull();
    expect(await read('d2', pk)).toMatchObject({ n: 7 });
    expect(await read('d3', pk)).toMatchObject({ n: 4 });
  });

  it('leaves out a single write whose document is gone, without an error', async () => {
    const pk = 'e5';
    const seeded = await seed(pk, 1);
    await container.item('d0', pk).delete();
    expect(await writeEachIfUnchanged<Doc>(scoped(container, null), pk, patchN(seeded, 5))).toEqual(
      [],
    );
    expect(await read('d0', pk)).toBeNull();
  });
});
