import { CosmosClient, type Container } from '@azure/cosmos';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorKey } from '../../shared/adapters/cosmos/client';
import { linearFromClause, startCosmosEmulator } from '../../shared/local/embedded';

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

    it('refuses a cross-partition query shape it cannot plan, rather than run it as Azure would not', async () => {
      await expect(
        container.items.query('SELECT TOP 1 * FROM c ORDER BY c.n').fetchNext(),
      ).rejects.toMatchObject({ code: 400 });
    });
  });

  it('keeps connections open between requests', async () => {
    const response = await fetch(`${emulator.endpoint}/`);
    await response.arrayBuffer();
    expect(response.headers.get('connection')).toBe('keep-alive');
  });
});
