import { CosmosClient, type Container, type JSONValue, type SqlParameter } from '@azure/cosmos';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';
import { linearFromClause, startCosmosEmulator } from '../../shared/local/embedded';
import { startCosmosProxy, type CosmosProxy } from '../support/cosmos-proxy';
import { rangeOf } from '../support/ranges';

let emulator: { endpoint: string; close(): Promise<void> };
beforeAll(async () => {
  emulator = await startCosmosEmulator(0);
});
afterAll(() => emulator.close());

describe('the embedded Cosmos DB emulator', () => {
  it('selects the documents of a FROM clause in linear time, with the same result', () => {
    const quadratic =
      '$h.paginate($c.reduce(($, c) => typeof c !== "undefined" ? [...$, {\n    c: c\n  }] : $, []).map(({\n    c\n  }) => [c, {\n    c\n  }]), $maxItemCount)';
    const linear = linearFromClause(quadratic);
    expect(linear).not.toContain('[...$');
    const documents = [{ id: 'a' }, undefined, { id: 'b' }];
    const select = (code: string) =>
      new Function('$c', '$h', '$maxItemCount', `return ${code}`)(
        documents,
        { paginate: (rows: unknown[]) => rows },
        10,
      ) as unknown[];
    expect(select(linear)).toEqual(select(quadratic));
  });

  it("compiles the app's queries without the quadratic FROM clause", () => {
    const emulatorDir = path.dirname(require.resolve('@vercel/cosmosdb-server'));
    // The emulator's own query compiler, as startCosmosEmulator left it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const compiler = require(require.resolve('@zeit/cosmosdb-query', { paths: [emulatorDir] })) as {
      default: (query: string) => { code: string };
    };
    const code = compiler.default(
      "SELECT * FROM c WHERE c.type = 'email' AND c.dueAt <= @now ORDER BY c.dueAt ASC",
    ).code;
    expect(code).toContain('$c.filter(');
    expect(code).not.toContain('[...$');
  });

  it('answers a query plan request with a plan, without running the query', async () => {
    // On a container that does not exist: running the query would answer 404.
    const response = await fetch(`${emulator.endpoint}/dbs/none/colls/none/docs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/query+json',
        'x-ms-documentdb-isquery': 'True',
        'x-ms-cosmos-is-query-plan-request': 'True',
      },
      body: JSON.stringify({
        query: "SELECT * FROM c WHERE c.type = 'x' ORDER BY c.type ASC, c.at DESC",
        parameters: [],
      }),
    });
    expect(response.status).toBe(200);
    const plan = (await response.json()) as {
      queryInfo: { orderBy: string[]; orderByExpressions: string[]; rewrittenQuery: string };
    };
    expect(plan.queryInfo.orderBy).toEqual(['Ascending', 'Descending']);
    expect(plan.queryInfo.orderByExpressions).toEqual(['c.type', 'c.at']);
    expect(plan.queryInfo.rewrittenQuery).toContain('{documentdb-formattableorderbyquery-filter}');
  });

  describe('cross-partition ORDER BY, as Azure Cosmos DB pages it', () => {
    let container: Container;
    beforeAll(async () => {
      const client = new CosmosClient({
        endpoint: emulator.endpoint,
        key: emulatorKey,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      const { database } = await client.databases.createIfNotExists({ id: 'plans' });
      ({ container } = await database.containers.createIfNotExists({
        id: 'items',
        partitionKey: { paths: ['/pk'] },
        indexingPolicy: {
          compositeIndexes: [
            [
              { path: '/type', order: 'ascending' },
              { path: '/n', order: 'ascending' },
            ],
          ],
        },
      }));
      for (let index = 0; index < 7; index += 1) {
        await container.items.create({
          id: `i${index}`,
          pk: `p${index % 3}`,
          type: 't',
          n: 10 - index,
        });
      }
    });
    const ordered = "SELECT * FROM c WHERE c.type = 't' ORDER BY c.type ASC, c.n ASC";

    it('merges the partitions in the SDK and gives no continuation token, as on Azure', async () => {
      const page = await container.items.query(ordered, { maxItemCount: 2 }).fetchNext();
      expect(page.resources.map((item: { n: number }) => item.n)).toEqual([4, 5]);
      expect(page.hasMoreResults).toBe(true);
      expect(page.continuationToken).toBeUndefined();
    });

    it('refuses a continuation token for it with a plain Error, as the SDK does on Azure', async () => {
      const filtered = await container.items
        .query("SELECT * FROM c WHERE c.type = 't'", { maxItemCount: 2 })
        .fetchNext();
      expect(filtered.continuationToken).toBeDefined();
      await expect(
        container.items
          .query(ordered, { maxItemCount: 2, continuationToken: filtered.continuationToken })
          .fetchNext(),
      ).rejects.toThrow(/enableQueryControl/);
    });

    it('reads every document when one iterator is drained', async () => {
      const seen: number[] = [];
      const iterator = container.items.query(ordered, { maxItemCount: 2 });
      while (iterator.hasMoreResults()) {
        const page = await iterator.fetchNext();
        seen.push(...(page.resources ?? []).map((item: { n: number }) => item.n));
      }
      expect(seen).toEqual([4, 5, 6, 7, 8, 9, 10]);
    });

    it('refuses a cross-partition query shape it does not model, rather than run it unlike Azure', async () => {
      await expect(
        container.items
          .query('SELECT c.type, COUNT(1) AS n FROM c GROUP BY c.type', { forceQueryPlan: true })
          .fetchNext(),
      ).rejects.toMatchObject({ code: 400 });
      // A property named like a keyword, or a keyword inside a string, is no clause.
      const page = await container.items
        .query("SELECT * FROM c WHERE c.type = 'top-up' OR c.count = 1 OR c.max = 2")
        .fetchAll();
      expect(page.resources).toEqual([]);
    });
  });

  describe('several physical partitions, as an Azure account past 50 GB has', () => {
    let container: Container;
    let proxy: CosmosProxy;
    const keys = Array.from({ length: 8 }, (_, index) => `key-${index}`);
    beforeAll(async () => {
      proxy = await startCosmosProxy(emulator.endpoint);
      const client = new CosmosClient({
        endpoint: proxy.url,
        key: emulatorKey,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      const { database } = await client.databases.createIfNotExists({ id: 'ranges' });
      ({ container } = await database.containers.createIfNotExists({
        id: 'items',
        partitionKey: { paths: ['/pk'], version: 2 },
        indexingPolicy: {
          compositeIndexes: [
            [
              { path: '/type', order: 'ascending' },
              { path: '/at', order: 'ascending' },
            ],
            [
              { path: '/type', order: 'ascending' },
              { path: '/none', order: 'ascending' },
            ],
          ],
        },
      }));
      for (const [index, pk] of keys.entries()) {
        await container.items.create({
          id: `d${index}`,
          pk,
          type: 't',
          at: `2026-01-0${index + 1}`,
          body: 'x'.repeat(100),
          none: null,
        });
      }
    });
    afterAll(() => proxy.close());

    it('shows two partition key ranges, each holding the documents whose key hashes into it', async () => {
      const { resources: ranges } = await container.readPartitionKeyRanges().fetchAll();
      expect(ranges.map((range) => range.id)).toEqual(['0', '1']);
      const byRange = await Promise.all(
        ranges.map(async (range) => {
          const response = await fetch(`${emulator.endpoint}/dbs/ranges/colls/items/docs`, {
            method: 'POST',
            headers: {
              'content-type': 'application/query+json',
              'x-ms-documentdb-isquery': 'True',
              'x-ms-documentdb-partitionkeyrangeid': range.id,
            },
            body: JSON.stringify({ query: 'SELECT VALUE c.pk FROM c', parameters: [] }),
          });
          return ((await response.json()) as { Documents: string[] }).Documents.sort();
        }),
      );
      for (const [index, found] of byRange.entries()) {
        expect(found).toEqual(keys.filter((key) => rangeOf(key) === String(index)).sort());
        expect(found.length).toBeGreaterThan(0);
      }
    });

    it('sends a cross-partition query to each range and merges their ORDER BY in the SDK', async () => {
      proxy.seen.length = 0;
      const { resources } = await container.items
        .query("SELECT * FROM c WHERE c.type = 't' ORDER BY c.type ASC, c.at ASC", {
          forceQueryPlan: true,
          maxItemCount: 3,
        })
        .fetchAll();
      expect(resources.map((item) => item.pk)).toEqual(keys);
      const ranges = new Set(
        proxy.seen.filter((seen) => seen.kind === 'query').map((seen) => seen.rangeId),
      );
      expect(ranges).toEqual(new Set(['0', '1']));
    });

    it('throws on a cross-partition ORDER BY over a null, as the SDK does on Azure (azure-sdk-for-js#30122)', async () => {
      await expect(
        container.items
          .query("SELECT * FROM c WHERE c.type = 't' ORDER BY c.type ASC, c.none ASC")
          .fetchAll(),
      ).rejects.toThrow(/unrecognizable type object/);
    });

    it('counts, finds the least, projects, takes the top and the distinct across ranges, as Azure plans them', async () => {
      const run = async (query: string) =>
        (await container.items.query(query, { forceQueryPlan: true, maxItemCount: 2 }).fetchAll())
          .resources;
      expect(await run("SELECT VALUE COUNT(1) FROM c WHERE c.type = 't'")).toEqual([8]);
      expect(await run("SELECT VALUE COUNT(1) FROM c WHERE c.type = 'none'")).toEqual([0]);
      expect(await run("SELECT VALUE MIN(c.at) FROM c WHERE c.type = 't'")).toEqual(['2026-01-01']);
      expect(await run("SELECT VALUE MAX(c.at) FROM c WHERE c.type = 't'")).toEqual(['2026-01-08']);
      expect(await run("SELECT VALUE MIN(c.at) FROM c WHERE c.type = 'none'")).toEqual([]);
      expect(await run('SELECT DISTINCT VALUE c.type FROM c')).toEqual(['t']);
      expect(
        (await run('SELECT c.pk, c.at FROM c')).sort((a, b) => a.at.localeCompare(b.at)),
      ).toEqual(keys.map((pk, index) => ({ pk, at: `2026-01-0${index + 1}` })));
      expect(
        await run("SELECT TOP 3 c.pk FROM c WHERE c.type = 't' ORDER BY c.type ASC, c.at ASC"),
      ).toEqual(keys.slice(0, 3).map((pk) => ({ pk })));
    });

    it('places each write by its own partition key: one id in two ranges, and a cross-partition query over both after writes', async () => {
      proxy.seen.length = 0;
      const [left, right] = [
        keys.find((key) => rangeOf(key) === '0')!,
        keys.find((key) => rangeOf(key) === '1')!,
      ];
      const inRange = async (rangeId: string) => {
        const response = await fetch(`${emulator.endpoint}/dbs/ranges/colls/items/docs`, {
          method: 'POST',
          headers: {
            'content-type': 'application/query+json',
            'x-ms-documentdb-isquery': 'True',
            'x-ms-documentdb-partitionkeyrangeid': rangeId,
          },
          body: JSON.stringify({
            query: "SELECT VALUE c.pk FROM c WHERE c.id = 'twin'",
            parameters: [],
          }),
        });
        return ((await response.json()) as { Documents: string[] }).Documents;
      };
      // Queried once before the writes, as a timer's repeated query is.
      const byKeys = "SELECT VALUE c.n FROM c WHERE c.id = 'twin' AND ARRAY_CONTAINS(@keys, c.pk)";
      const across = async () =>
        (
          await container.items
            .query<number>(
              { query: byKeys, parameters: [{ name: '@keys', value: [left, right] }] },
              // As the app queries across partitions: a page from each range.
              { forceQueryPlan: true },
            )
            .fetchAll()
        ).resources.sort();
      expect(await across()).toEqual([]);
      await container.items.create({ id: 'twin', pk: left, type: 'twin', n: 1 });
      await container.items.create({ id: 'twin', pk: right, type: 'twin', n: 2 });
      expect(await inRange('0')).toEqual([left]);
      expect(await inRange('1')).toEqual([right]);
      expect(await across()).toEqual([1, 2]);
      await container.item('twin', right).replace({ id: 'twin', pk: right, type: 'twin', n: 3 });
      expect(await across()).toEqual([1, 3]);
      const { resources } = await container.items
        .query<number>("SELECT VALUE c.n FROM c WHERE c.id = 'twin'", { partitionKey: right })
        .fetchAll();
      expect(resources).toEqual([3]);
      // The cross-partition queries went to each range (the single-partition one to none).
      const ranges = new Set(
        proxy.seen
          .filter((seen) => seen.kind === 'query' && seen.rangeId !== undefined)
          .map((seen) => seen.rangeId),
      );
      expect(ranges).toEqual(new Set(['0', '1']));
    });

    it("refuses a document whose partition key differs from the request's (400, substatus 1001), alone or in a batch", async () => {
      await expect(
        container.item('d0', 'key-0').replace({ id: 'd0', pk: 'key-1', type: 't' }),
      ).rejects.toMatchObject({ code: 400, substatus: 1001 });
      await expect(
        container.items.batch(
          [{ operationType: 'Create', resourceBody: { id: 'other', pk: 'key-1' } }],
          'key-0',
        ),
      ).rejects.toThrow(/doesn't match the one specified/);
      await expect(
        container.items.batch(
          [
            {
              operationType: 'Create',
              resourceBody: { id: 'other', pk: 'key-0' },
              partitionKey: 'key-1',
            },
          ],
          'key-0',
        ),
      ).rejects.toThrow(/different partition key value than the request/);
      const { resources } = await container.items
        .query("SELECT VALUE COUNT(1) FROM c WHERE c.id = 'other'")
        .fetchAll();
      expect(resources).toEqual([0]);
    });
  });

  describe('its queries as the app runs them again and again (the compiled code kept per query)', () => {
    let container: Container;
    beforeAll(async () => {
      const client = new CosmosClient({
        endpoint: emulator.endpoint,
        key: emulatorKey,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      const { database } = await client.databases.createIfNotExists({ id: 'quickened' });
      ({ container } = await database.containers.createIfNotExists({
        id: 'items',
        partitionKey: { paths: ['/pk'] },
      }));
      await container.items.create({
        id: 'shirt',
        pk: 'p',
        tags: ['coats', 1, null, { category: 'shirts', color: 'blue' }, ['nested']],
      });
      await container.items.create({ id: 'plain', pk: 'p', tags: ['1', 'jackets'] });
    });
    const ids = async (query: string, parameters: SqlParameter[] = []) =>
      (
        await container.items
          .query<string>({ query: `SELECT VALUE c.id FROM c WHERE ${query}`, parameters })
          .fetchAll()
      ).resources.sort();

    it("answers ARRAY_CONTAINS as Azure does (learn.microsoft.com's examples): scalars by type and value, objects whole or, with true, in part", async () => {
      const { resources } = await container.items
        .query(
          `SELECT VALUE {
            containsItem: ARRAY_CONTAINS(["coats", "jackets", "sweatshirts"], "coats"),
            missingItem: ARRAY_CONTAINS(["coats", "jackets", "sweatshirts"], "hoodies"),
            containsFullMatchObject: ARRAY_CONTAINS([{ category: "shirts", color: "blue" }], { category: "shirts", color: "blue" }),
            missingFullMatchObject: ARRAY_CONTAINS([{ category: "shirts", color: "blue" }], { category: "shirts" }),
            containsPartialMatchObject: ARRAY_CONTAINS([{ category: "shirts", color: "blue" }], { category: "shirts" }, true),
            missingPartialMatchObject: ARRAY_CONTAINS([{ category: "shirts", color: "blue" }], { category: "shorts", color: "blue" }, true)
          } FROM c WHERE c.id = 'plain'`,
        )
        .fetchAll();
      expect(resources).toEqual([
        {
          containsItem: true,
          missingItem: false,
          containsFullMatchObject: true,
          missingFullMatchObject: false,
          containsPartialMatchObject: true,
          missingPartialMatchObject: false,
        },
      ]);
      // The same on a document's array, the value a parameter as the app passes it.
      const containing = (value: JSONValue, partial?: boolean) =>
        ids(`ARRAY_CONTAINS(c.tags, @value${partial === undefined ? '' : `, ${partial}`})`, [
          { name: '@value', value },
        ]);
      expect(await containing('coats')).toEqual(['shirt']);
      expect(await containing(1)).toEqual(['shirt']);
      expect(await containing('1')).toEqual(['plain']);
      expect(await containing(null)).toEqual(['shirt']);
      expect(await containing({ category: 'shirts', color: 'blue' })).toEqual(['shirt']);
      expect(await containing({ category: 'shirts' })).toEqual([]);
      expect(await containing({ category: 'shirts' }, true)).toEqual(['shirt']);
      expect(await containing({ category: 'shirts' }, false)).toEqual([]);
      expect(await containing(['nested'])).toEqual(['shirt']);
      expect(await containing('category')).toEqual([]);
    });

    it('keeps no answer with the compiled query: the same query sees a write, and another parameter array', async () => {
      const among = (values: JSONValue[]) =>
        ids('ARRAY_CONTAINS(@ids, c.id)', [{ name: '@ids', value: values }]);
      expect(await among(['shirt', 'later'])).toEqual(['shirt']);
      expect(await among(['plain'])).toEqual(['plain']);
      expect(await among([{ id: 'shirt' }, 'plain'])).toEqual(['plain']);
      await container.items.create({ id: 'later', pk: 'p', tags: [] });
      expect(await among(['shirt', 'later'])).toEqual(['later', 'shirt']);
      await container.item('shirt', 'p').replace({ id: 'shirt', pk: 'p', tags: ['hoodies'] });
      expect(
        await ids('ARRAY_CONTAINS(c.tags, @value)', [{ name: '@value', value: 'coats' }]),
      ).toEqual([]);
      expect(
        await ids('ARRAY_CONTAINS(c.tags, @value)', [{ name: '@value', value: 'hoodies' }]),
      ).toEqual(['shirt']);
    });
  });

  describe("a query in one logical partition (the stand-in reads only that partition's documents)", () => {
    let container: Container;
    beforeAll(async () => {
      const client = new CosmosClient({
        endpoint: emulator.endpoint,
        key: emulatorKey,
        connectionPolicy: { enableEndpointDiscovery: false },
      });
      const { database } = await client.databases.createIfNotExists({ id: 'by-partition' });
      ({ container } = await database.containers.createIfNotExists({
        id: 'items',
        partitionKey: { paths: ['/pk'] },
      }));
    });

    type Row = { id: string; pk: string; n: number };
    /** What a single-partition query answers: each document's id and n, in id order. */
    const inPartition = async (pk: string) =>
      (
        await container.items
          .query<Row>('SELECT c.id, c.pk, c.n FROM c ORDER BY c.id ASC', { partitionKey: pk })
          .fetchAll()
      ).resources;
    const across = async () =>
      (await container.items.query<Row>('SELECT c.id, c.pk, c.n FROM c').fetchAll()).resources.sort(
        (a, b) => `${a.pk}/${a.id}`.localeCompare(`${b.pk}/${b.id}`),
      );

    it("sees each create, replace, patch, batch and delete at once, a refused batch changing nothing, and never another partition's documents", async () => {
      // The same id in two partitions, and a document created before the partition's first query.
      await container.items.create({ id: 'same', pk: 'p1', n: 1 });
      await container.items.create({ id: 'same', pk: 'p2', n: 100 });
      expect(await inPartition('p1')).toEqual([{ id: 'same', pk: 'p1', n: 1 }]);
      expect(await inPartition('p2')).toEqual([{ id: 'same', pk: 'p2', n: 100 }]);

      await container.items.create({ id: 'a', pk: 'p1', n: 1 });
      expect(await inPartition('p1')).toEqual([
        { id: 'a', pk: 'p1', n: 1 },
        { id: 'same', pk: 'p1', n: 1 },
      ]);

      await container.item('a', 'p1').replace({ id: 'a', pk: 'p1', n: 2 });
      expect((await inPartition('p1'))[0]).toEqual({ id: 'a', pk: 'p1', n: 2 });

      await container.item('a', 'p1').patch([{ op: 'incr', path: '/n', value: 5 }]);
      expect((await inPartition('p1'))[0]).toEqual({ id: 'a', pk: 'p1', n: 7 });

      const batch = await container.items.batch(
        [
          {
            operationType: 'Create',
            partitionKey: 'p1',
            resourceBody: { id: 'b', pk: 'p1', n: 1 },
          },
          {
            operationType: 'Replace',
            partitionKey: 'p1',
            id: 'same',
            resourceBody: { id: 'same', pk: 'p1', n: 3 },
          },
          { operationType: 'Delete', partitionKey: 'p1', id: 'a' },
        ],
        'p1',
      );
      expect(batch.result?.map((result) => result.statusCode)).toEqual([201, 200, 204]);
      expect(await inPartition('p1')).toEqual([
        { id: 'b', pk: 'p1', n: 1 },
        { id: 'same', pk: 'p1', n: 3 },
      ]);

      // Refused by its last operation: what the first three did is undone, and the query says so.
      const refused = await container.items.batch(
        [
          {
            operationType: 'Create',
            partitionKey: 'p1',
            resourceBody: { id: 'c', pk: 'p1', n: 1 },
          },
          {
            operationType: 'Replace',
            partitionKey: 'p1',
            id: 'b',
            resourceBody: { id: 'b', pk: 'p1', n: 50 },
          },
          { operationType: 'Delete', partitionKey: 'p1', id: 'same' },
          {
            operationType: 'Create',
            partitionKey: 'p1',
            resourceBody: { id: 'b', pk: 'p1', n: 9 },
          },
        ],
        'p1',
      );
      expect(refused.result?.map((result) => result.statusCode)).toEqual([424, 424, 424, 409]);
      expect(await inPartition('p1')).toEqual([
        { id: 'b', pk: 'p1', n: 1 },
        { id: 'same', pk: 'p1', n: 3 },
      ]);

      await container.item('b', 'p1').delete();
      expect(await inPartition('p1')).toEqual([{ id: 'same', pk: 'p1', n: 3 }]);
      // The other partition's document of the same id was never touched, nor shown in p1.
      expect(await inPartition('p2')).toEqual([{ id: 'same', pk: 'p2', n: 100 }]);

      // Every document of p1 deleted: its query answers empty; p2 and a cross-partition read agree.
      await container.item('same', 'p1').delete();
      expect(await inPartition('p1')).toEqual([]);
      expect(await inPartition('p2')).toEqual([{ id: 'same', pk: 'p2', n: 100 }]);
      expect(await across()).toEqual([{ id: 'same', pk: 'p2', n: 100 }]);
      // Written again after it was emptied, the partition shows its new document.
      await container.items.upsert({ id: 'again', pk: 'p1', n: 1 });
      expect(await inPartition('p1')).toEqual([{ id: 'again', pk: 'p1', n: 1 }]);
    });
  });

  it('keeps connections open between requests', async () => {
    const response = await fetch(`${emulator.endpoint}/`);
    await response.arrayBuffer();
    expect(response.headers.get('connection')).toBe('keep-alive');
  });
});
