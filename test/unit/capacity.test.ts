import { describe, expect, it } from 'vitest';
import { containerDefinitions } from '../../shared/adapters/cosmos/schema';
import {
  assumptions,
  capacityDoc,
  importLoad,
  largestTenantPartitions,
  timerRuns,
} from '../support/capacity-model';

/**
 * docs/capacity.md's results, recomputed from its measured tables (document sizes, round trips)
 * and its stated assumptions, and held to Azure's limits: a change that makes a document larger,
 * or a creation cost a round trip more, changes the arithmetic here and fails until the document
 * says what it now is, or fails for good when a partition goes past its limit.
 */
const doc = capacityDoc();

/** The data rows of the first markdown table after `heading`: the cells of each row. */
function table(heading: string): string[][] {
  const body = doc.split(heading)[1]?.split(/\n#+ /)[0] ?? '';
  const rows = [...body.matchAll(/^\|(.+)\|$/gm)].map(([, cells]) =>
    cells!.split('|').map((cell) => cell.trim()),
  );
  // The first table only: its header, its separator, then its rows until a line that is not one.
  const first = body.slice(body.indexOf('|')).split(/\n(?!\|)/)[0]!;
  const count = first.split('\n').length;
  return rows.slice(2, count);
}

const number = (cell: string): number => Number(cell.replace(/[,%M$]/g, ''));

describe('docs/capacity.md', () => {
  it("keeps each of the largest tenant's logical partitions under 20 GB, as its table says", () => {
    const computed = largestTenantPartitions();
    const rows = table("## The largest tenant's logical partitions").filter((cells) =>
      computed.has(cells[0]!),
    );
    expect(rows.map((cells) => cells[0])).toEqual([...computed.keys()]);
    for (const [name, data, withIndex, share] of rows) {
      const gb = computed.get(name!)!;
      const indexed = gb * assumptions.indexFactor;
      expect({ name, data: number(data!), withIndex: number(withIndex!) }).toEqual({
        name,
        data: Number(gb.toFixed(2)),
        withIndex: Number(indexed.toFixed(2)),
      });
      expect(number(share!)).toBe(
        Math.round((100 * indexed) / assumptions.logicalPartitionLimitGB),
      );
      expect(indexed).toBeLessThan(assumptions.logicalPartitionLimitGB);
    }
  });

  it('asks no physical partition for more RU/s than serverless gives it during the import', () => {
    const computed = importLoad();
    const rows = table('## Request units per physical partition during the import');
    expect(rows.map((cells) => cells[0]!.replace(/`/g, ''))).toEqual(
      [...computed.keys()].map((name) => name.replace(/`/g, '')),
    );
    for (const [name, rus, ceiling, share] of rows) {
      const load = [...computed].find(
        ([key]) => key.replace(/`/g, '') === name!.replace(/`/g, ''),
      )![1];
      expect({ name, rus: number(rus!), ceiling: number(ceiling!), share: number(share!) }).toEqual(
        {
          name,
          rus: Math.round(load.rus),
          ceiling: load.ceiling,
          share: Math.round((100 * load.rus) / load.ceiling),
        },
      );
      expect(load.rus).toBeLessThanOrEqual(load.ceiling);
    }
  });

  it("gives each timer's request units a month, idle and with failures kept, as computed", () => {
    const computed = timerRuns();
    const rows = table('## Timers: request units a month');
    expect(rows.map((cells) => cells[0]!.replace(/`/g, ''))).toEqual([...computed.keys()]);
    const millions = (rus: number): number => Number((rus / 1e6).toFixed(2));
    let idle = 0;
    let failed = 0;
    for (const [name, runs, perRunIdle, perRunFailed, monthIdle, monthFailed] of rows) {
      const timer = computed.get(name!.replace(/`/g, ''))!;
      expect({
        name,
        runs: number(runs!),
        perRunIdle: number(perRunIdle!),
        perRunFailed: number(perRunFailed!),
        monthIdle: number(monthIdle!),
        monthFailed: number(monthFailed!),
      }).toEqual({
        name,
        runs: timer.runs,
        perRunIdle: timer.idle,
        perRunFailed: timer.failed,
        monthIdle: millions(timer.idle * timer.runs),
        monthFailed: millions(timer.failed * timer.runs),
      });
      // A run's burst, over the partitions it queries, is far from any partition's ceiling.
      expect(timer.failed).toBeLessThan(assumptions.serverlessContainerRUs / 2);
      idle += timer.idle * timer.runs;
      failed += timer.failed * timer.runs;
    }
    expect(doc).toContain(
      `${(idle / 1e6).toFixed(1)}M RU a month idle (about $${((idle / 1e6) * assumptions.pricePerMillionRU).toFixed(2)}), ${(failed / 1e6).toFixed(1)}M with failures kept (about $${((failed / 1e6) * assumptions.pricePerMillionRU).toFixed(2)})`,
    );
  });

  it('counts the index terms every document pays for as containers.json declares them', () => {
    const said = [...doc.matchAll(/`(\w+)`' (\d+) (?:included )?paths and (\d+) composites/g)];
    expect(said.map(([, container]) => container)).toEqual(['partners', 'events']);
    for (const [, id, paths, composites] of said) {
      const policy = containerDefinitions.find((container) => container.id === id)!
        .indexingPolicy as { includedPaths: unknown[]; compositeIndexes?: unknown[] };
      expect({ id, paths: Number(paths), composites: Number(composites) }).toEqual({
        id,
        paths: policy.includedPaths.length,
        composites: policy.compositeIndexes?.length ?? 0,
      });
    }
  });
});
