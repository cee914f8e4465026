import { describe, expect, it } from 'vitest';
import { containerDefinitions } from '../../shared/adapters/cosmos/schema';
import { declaredQueries, type DeclaredQuery } from '../../shared/adapters/cosmos/queries';

/**
 * Cosmos DB's indexing-policy rules (learn.microsoft.com/azure/cosmos-db/index-policy), applied
 * to every declared query: the index each one needs is derived from its text and looked up in
 * containers.json, the file Bicep deploys. The embedded emulator ignores indexing policies, so
 * only this test stands between a query and a full scan on Azure.
 */
interface SortItem {
  path: string;
  order: 'ascending' | 'descending';
}

interface QueryShape {
  equalities: string[];
  filtered: string[];
  arrays: string[];
  orderBy: SortItem[];
  /** Paths a condition keeps to a value (an equality with one, or a range): never null. */
  valued: string[];
  /** Paths an aggregate reads (MIN, MAX): served from their range index. */
  aggregated: string[];
}

/** `c.enrollment.status` → `/enrollment/status`. */
const toPath = (expression: string): string =>
  `/${expression.replace(/^c\./, '').split('.').join('/')}`;

/** The top-level AND conditions of the WHERE clause (a parenthesised OR stays one condition). */
function conjuncts(where: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < where.length; index += 1) {
    const char = where[index];
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (depth === 0 && /^\sAND\s/i.test(where.slice(index, index + 5))) {
      parts.push(where.slice(start, index).trim());
      start = index + 5;
    }
  }
  parts.push(where.slice(start).trim());
  return parts;
}

function shapeOf(query: DeclaredQuery): QueryShape {
  const match =
    /^SELECT (?:TOP \d+ )?(?:DISTINCT )?(?:VALUE )?(.+?) FROM c WHERE (.+?)(?: ORDER BY (.+))?$/i.exec(
      query.text,
    );
  if (!match) throw new Error(`${query.name}: not a SELECT ... FROM c WHERE ... query`);
  const shape: QueryShape = {
    equalities: [],
    filtered: [],
    arrays: [],
    orderBy: [],
    valued: [],
    aggregated: [],
  };
  for (const aggregate of match[1]!.matchAll(/\b(?:MIN|MAX)\((c(?:\.\w+)+)\)/g)) {
    shape.aggregated.push(toPath(aggregate[1]!));
  }
  for (const condition of conjuncts(match[2]!)) {
    const equality = /^(c(?:\.\w+)+) = (@\w+|'[^']*'|null)$/.exec(condition);
    const range = /^(c(?:\.\w+)+) (?:<=|>=|<|>) @\w+$/.exec(condition);
    const array = /^ARRAY_CONTAINS\((c(?:\.\w+)+), @\w+\)$/.exec(condition);
    if (equality) shape.equalities.push(toPath(equality[1]!));
    else if (array) shape.arrays.push(toPath(array[1]!));
    if ((equality && equality[2] !== 'null') || range) {
      shape.valued.push(toPath((equality ?? range)![1]!));
    }
    for (const property of condition.matchAll(/\bc(?:\.\w+)+/g)) {
      if (!array) shape.filtered.push(toPath(property[0]));
    }
  }
  for (const item of match[3]?.split(',') ?? []) {
    const [expression, direction] = item.trim().split(/\s+/);
    shape.orderBy.push({
      path: toPath(expression!),
      order: direction?.toUpperCase() === 'DESC' ? 'descending' : 'ascending',
    });
  }
  return shape;
}

const containerOf = (query: DeclaredQuery) => {
  const container = containerDefinitions.find((candidate) => candidate.id === query.container);
  if (!container) throw new Error(`${query.name}: no container ${query.container}`);
  return container;
};

const partitionKeyOf = (query: DeclaredQuery): string => containerOf(query).partitionKey;

/**
 * Sort values no filter pins, but that are a string in every document the query can match.
 * Across two partition key ranges the SDK's merge throws on a null (azure-sdk-for-js#30122) or
 * on a value missing in one range and present in the other.
 */
const alwaysStrings = new Map([
  ['/partnerId', 'the partition key: every document has one'],
  ['/createdAt', 'every partner document has it (domain/partner.ts newPartner)'],
  [
    '/enrollment/submittedAt',
    'set on entering pending-approval and kept after (domain/enrollment.ts transition): every status the submitted queue lists; not-enrolled has its own queue',
  ],
]);

/** Always indexed by Cosmos DB, whatever the policy says. */
const systemPaths = new Set(['/id']);

function isIncluded(query: DeclaredQuery, path: string, array = false): boolean {
  if (systemPaths.has(path)) return true;
  const included = containerOf(query).indexingPolicy.includedPaths.map((entry) => entry.path);
  return included.includes(array ? `${path}/[]/?` : `${path}/?`) || included.includes('/*');
}

function composites(query: DeclaredQuery): SortItem[][] {
  const policy = containerOf(query).indexingPolicy as { compositeIndexes?: SortItem[][] };
  return policy.compositeIndexes ?? [];
}

const flip = (order: SortItem['order']): SortItem['order'] =>
  order === 'ascending' ? 'descending' : 'ascending';

/** A composite serves an ORDER BY that matches it exactly, or exactly reversed. */
function serves(composite: SortItem[], orderBy: SortItem[]): boolean {
  if (composite.length !== orderBy.length) return false;
  const same = composite.every(
    (entry, index) => entry.path === orderBy[index]!.path && entry.order === orderBy[index]!.order,
  );
  const reversed = composite.every(
    (entry, index) =>
      entry.path === orderBy[index]!.path && entry.order === flip(orderBy[index]!.order),
  );
  return same || reversed;
}

describe('indexes that serve the declared queries (containers.json)', () => {
  it.each(declaredQueries.map((query) => [query.name, query] as const))(
    '%s: every property it filters, sorts or searches in is indexed',
    (_name, query) => {
      const shape = shapeOf(query);
      const missing = [
        ...[
          ...shape.filtered,
          ...shape.aggregated,
          ...shape.orderBy.map((item) => item.path),
        ].filter((path) => !isIncluded(query, path)),
        ...shape.arrays.filter((path) => !isIncluded(query, path, true)),
      ];
      expect(missing).toEqual([]);
    },
  );

  it.each(declaredQueries.map((query) => [query.name, query] as const))(
    '%s: its ORDER BY leads with its equality filters and matches a composite index',
    (_name, query) => {
      const shape = shapeOf(query);
      if (shape.orderBy.length === 0) return;
      const equalities = shape.equalities.filter((path) => path !== partitionKeyOf(query));
      const leading = shape.orderBy.slice(0, equalities.length).map((item) => item.path);
      expect(new Set(leading)).toEqual(new Set(equalities));
      expect(composites(query).some((composite) => serves(composite, shape.orderBy))).toBe(true);
    },
  );

  it.each(
    declaredQueries
      .filter((query) => query.scope === 'cross-partition' && /ORDER BY/.test(query.text))
      .map((query) => [query.name, query] as const),
  )(
    '%s: sorts across partitions only on values never null or missing (the SDK throws on them)',
    (_name, query) => {
      const shape = shapeOf(query);
      const unsafe = shape.orderBy
        .map((item) => item.path)
        .filter((path) => !shape.valued.includes(path) && !alwaysStrings.has(path));
      expect(unsafe).toEqual([]);
    },
  );

  it('single-partition queries filter on their partition key; cross-partition ones do not', () => {
    for (const query of declaredQueries) {
      const filtersOnKey = query.text.includes(
        `c${partitionKeyOf(query).replace('/', '.')} = @partitionKey`,
      );
      expect({ name: query.name, filtersOnKey }).toEqual({
        name: query.name,
        filtersOnKey: query.scope === 'partition',
      });
    }
  });

  it('has no composite index that no query uses: every write pays for each one', () => {
    for (const container of containerDefinitions) {
      const queries = declaredQueries.filter((query) => query.container === container.id);
      const policy = container.indexingPolicy as { compositeIndexes?: SortItem[][] };
      const unused = (policy.compositeIndexes ?? []).filter(
        (composite) => !queries.some((query) => serves(composite, shapeOf(query).orderBy)),
      );
      expect({ container: container.id, unused }).toEqual({ container: container.id, unused: [] });
    }
  });

  it('indexes only listed paths: link secrets, email bodies, forms and profiles never are', () => {
    for (const container of containerDefinitions) {
      const policy = container.indexingPolicy;
      expect(policy.excludedPaths.map((entry) => entry.path)).toContain('/*');
      const included = policy.includedPaths.map((entry) => entry.path);
      expect(included).not.toContain('/*');
      for (const secretive of ['/links', '/html', '/text', '/form', '/profile', '/agreement']) {
        expect(included.filter((path) => path.startsWith(`${secretive}/`))).toEqual([]);
      }
    }
  });
});
