import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

  it('answers a query plan request without running the query', async () => {
    // On a container that does not exist: running the query would answer 404.
    const response = await fetch(`${emulator.endpoint}/dbs/none/colls/none/docs`, {
      method: 'POST',
      headers: {
        'content-type': 'application/query+json',
        'x-ms-documentdb-isquery': 'True',
        'x-ms-cosmos-is-query-plan-request': 'True',
      },
      body: JSON.stringify({ query: 'SELECT * FROM c', parameters: [] }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ Documents: [], _count: 0 });
  });

  it('keeps connections open between requests', async () => {
    const response = await fetch(`${emulator.endpoint}/`);
    await response.arrayBuffer();
    expect(response.headers.get('connection')).toBe('keep-alive');
  });
});
