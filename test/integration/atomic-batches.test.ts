import { CosmosClient, type Container, type OperationInput } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';

/**
 * Azure applies a transactional batch all or nothing ("if any operation fails, the entire
 * transaction is rolled back"); the embedded emulator is made to do the same
 * (shared/local/atomic-batches.ts). Through the real SDK, as the app writes.
 */
let client: CosmosClient;
let container: Container;
const database = `atomic-${Date.now().toString(36)}`;

beforeAll(async () => {
  client = new CosmosClient({
    endpoint: inject('cosmosEndpoint'),
    key: process.env.COSMOS_KEY ?? emulatorKey,
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const { database: created } = await client.databases.createIfNotExists({ id: database });
  ({ container } = await created.containers.createIfNotExists({
    id: 'documents',
    partitionKey: { paths: ['/partnerId'] },
  }));
});
afterAll(async () => {
  await client.database(database).delete();
  client.dispose();
});

describe('a transactional batch, as Azure applies it', () => {
  it('writes nothing when an operation after the first is refused: the earlier ones are undone, and answered 424', async () => {
    const partnerId = 'p1';
    const { resource: a } = await container.items.create({ id: 'a', partnerId, n: 1 });
    const { resource: b } = await container.items.create({ id: 'b', partnerId, n: 1 });
    await container.item('b', partnerId).replace({ id: 'b', partnerId, n: 2 }); // b's etag moves on
    const operations: OperationInput[] = [
      {
        operationType: 'Replace',
        partitionKey: partnerId,
        id: 'a',
        resourceBody: { id: 'a', partnerId, n: 10 },
        ifMatch: a!._etag,
      },
      {
        operationType: 'Create',
        partitionKey: partnerId,
        resourceBody: { id: 'c', partnerId, n: 1 },
      },
      {
        operationType: 'Replace',
        partitionKey: partnerId,
        id: 'b',
        resourceBody: { id: 'b', partnerId, n: 10 },
        ifMatch: b!._etag,
      },
      {
        operationType: 'Create',
        partitionKey: partnerId,
        resourceBody: { id: 'd', partnerId, n: 1 },
      },
    ];
    const response = await container.items.batch(operations, partnerId);
    expect(response.result!.map((result) => result.statusCode)).toEqual([424, 424, 412, 424]);
    const { resource: after } = await container.item('a', partnerId).read();
    expect(after).toMatchObject({ n: 1, _etag: a!._etag });
    expect((await container.item('c', partnerId).read()).statusCode).toBe(404);
    expect((await container.item('d', partnerId).read()).statusCode).toBe(404);
    // The documents put back are whole: a guarded write with their etag still succeeds.
    await container.item('a', partnerId).replace(
      { id: 'a', partnerId, n: 3 },
      {
        accessCondition: { type: 'IfMatch', condition: a!._etag },
      },
    );
  });

  it('applies every operation when none is refused', async () => {
    const partnerId = 'p2';
    const { resource: a } = await container.items.create({ id: 'a', partnerId, n: 1 });
    const response = await container.items.batch(
      [
        {
          operationType: 'Replace',
          partitionKey: partnerId,
          id: 'a',
          resourceBody: { id: 'a', partnerId, n: 2 },
          ifMatch: a!._etag,
        },
        {
          operationType: 'Create',
          partitionKey: partnerId,
          resourceBody: { id: 'b', partnerId, n: 1 },
        },
      ],
      partnerId,
    );
    expect(response.result!.map((result) => result.statusCode)).toEqual([200, 201]);
    expect((await container.item('a', partnerId).read()).resource).toMatchObject({ n: 2 });
  });
});
