import { describe, expect, it } from 'vitest';
import { declaredQueries } from '../../shared/adapters/cosmos/queries';
import { needsClientPipeline, queryPlan } from '../../shared/local/query-plan';

/**
 * The stand-in's query plans against the gateway's own, as the .NET SDK records them
 * (Azure/azure-cosmos-dotnet-v3 Microsoft.Azure.Cosmos.Tests BaselineTest/TestBaseline/
 * QueryPlanBaselineTests.Aggregates.xml, .OrderBy.xml, .Distinct.xml, .Top.xml): the SDK runs
 * what these say, so they must say what Azure says.
 */
describe("the stand-in gateway's query plans", () => {
  it('rewrites a VALUE COUNT for each range to answer its partial count', () => {
    const info = queryPlan('SELECT VALUE COUNT(1) FROM c').queryInfo;
    expect(info.aggregates).toEqual(['Count']);
    expect(info.hasSelectValue).toBe(true);
    expect(info.rewrittenQuery).toBe('SELECT VALUE [{"item": COUNT(1)}]\nFROM c');
  });

  it('rewrites a VALUE MIN with its count beside it, and keeps the filter', () => {
    const info = queryPlan('SELECT VALUE MIN(c.blah) FROM c WHERE c.key > 1').queryInfo;
    expect(info.aggregates).toEqual(['Min']);
    expect(info.rewrittenQuery).toBe(
      'SELECT VALUE [{"item": MIN(c.blah), "item2": {"min": MIN(c.blah), "count": COUNT(c.blah)}}]\nFROM c\nWHERE (c.key > 1)',
    );
  });

  it('rewrites an ORDER BY of a projection with its items and payload', () => {
    const info = queryPlan('SELECT c.blah, c.blah2 FROM c ORDER BY c.key').queryInfo;
    expect(info.orderBy).toEqual(['Ascending']);
    expect(info.orderByExpressions).toEqual(['c.key']);
    expect(info.hasSelectValue).toBe(false);
    expect(info.rewrittenQuery).toBe(
      'SELECT c._rid, [{"item": c.key}] AS orderByItems, {"blah": c.blah, "blah2": c.blah2} AS payload\nFROM c\nWHERE ({documentdb-formattableorderbyquery-filter})\nORDER BY c.key',
    );
  });

  it('rewrites an ORDER BY of a VALUE to skip undefined values', () => {
    const info = queryPlan('SELECT VALUE c.blah FROM c ORDER BY c.key').queryInfo;
    expect(info.hasSelectValue).toBe(true);
    expect(info.rewrittenQuery).toBe(
      'SELECT c._rid, [{"item": c.key}] AS orderByItems, c.blah AS payload\nFROM c\nWHERE (({documentdb-formattableorderbyquery-filter}) AND IS_DEFINED(c.blah))\nORDER BY c.key',
    );
  });

  it('keeps TOP in an ORDER BY and in the plan', () => {
    const info = queryPlan('SELECT TOP 10 * FROM r ORDER BY r.key').queryInfo;
    expect(info.top).toBe(10);
    expect(info.rewrittenQuery).toBe(
      'SELECT TOP 10 r._rid, [{"item": r.key}] AS orderByItems, r AS payload\nFROM r\nWHERE ({documentdb-formattableorderbyquery-filter})\nORDER BY r.key',
    );
    expect(queryPlan('SELECT TOP @n * FROM c', [{ name: '@n', value: 3 }]).queryInfo).toMatchObject(
      {
        top: 3,
        rewrittenQuery: '',
      },
    );
  });

  it('plans a DISTINCT as unordered, or ordered with an ORDER BY', () => {
    expect(queryPlan('SELECT DISTINCT c.blah FROM c').queryInfo).toMatchObject({
      distinctType: 'Unordered',
      rewrittenQuery: '',
    });
    expect(
      queryPlan('SELECT DISTINCT VALUE c.blah FROM c ORDER BY c.blah').queryInfo,
    ).toMatchObject({
      distinctType: 'Ordered',
      rewrittenQuery:
        'SELECT c._rid, [{"item": c.blah}] AS orderByItems, c.blah AS payload\nFROM c\nWHERE (({documentdb-formattableorderbyquery-filter}) AND IS_DEFINED(c.blah))\nORDER BY c.blah',
    });
  });

  it('lets the gateway run a filter alone, and sends the rest to the SDK', () => {
    expect(needsClientPipeline(queryPlan("SELECT * FROM c WHERE c.type = 'x'"))).toBe(false);
    expect(needsClientPipeline(queryPlan('SELECT c.a FROM c WHERE c.b = 1'))).toBe(false);
    expect(needsClientPipeline(queryPlan('SELECT VALUE COUNT(1) FROM c'))).toBe(true);
    expect(needsClientPipeline(queryPlan('SELECT * FROM c ORDER BY c.a'))).toBe(true);
    expect(needsClientPipeline(queryPlan('SELECT DISTINCT VALUE c.a FROM c'))).toBe(true);
    expect(needsClientPipeline(queryPlan('SELECT TOP 1 * FROM c'))).toBe(true);
  });

  it('reads keywords only where they are clauses: not in strings, not as property names', () => {
    const info = queryPlan(
      "SELECT * FROM c WHERE c.type = 'top-up ORDER BY x' AND c.count = 1 AND c.max = 2",
    ).queryInfo;
    expect(info).toMatchObject({ top: null, orderBy: [], aggregates: [], distinctType: 'None' });
  });

  it.each([
    'SELECT c.type, COUNT(1) AS n FROM c GROUP BY c.type',
    'SELECT * FROM c OFFSET 1 LIMIT 2',
    'SELECT * FROM c JOIN t IN c.tags',
    'SELECT * FROM c WHERE EXISTS (SELECT VALUE t FROM t IN c.tags)',
    'SELECT COUNT(1) AS n FROM c',
    'SELECT VALUE AVG(c.n) FROM c',
    'SELECT DISTINCT TOP 2 c.a FROM c',
  ])('refuses what it does not model: %s', (query) => {
    expect(() => queryPlan(query)).toThrow();
  });

  it('plans every cross-partition query the app declares', () => {
    for (const query of declaredQueries.filter((q) => q.scope === 'cross-partition')) {
      expect(() => queryPlan(query.text), query.name).not.toThrow();
    }
  });
});
