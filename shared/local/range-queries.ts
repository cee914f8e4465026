import { parseQuery, tokenize, type Parameter, type QueryShape } from './query-plan';

/**
 * What one partition key range (or one logical partition) answers to a query, over the
 * documents that live there, as Azure's backend answers the SDK: the query engine is the
 * emulator's own (@zeit/cosmosdb-query), and what it cannot run is done here the way the backend
 * does it: the partial aggregates of a rewritten aggregate query (`[{"item": ...}]`), and a
 * DISTINCT. A page holds at most `maxItemCount` results, with a continuation for the rest.
 */
export interface Engine {
  exec(
    sql: string,
    documents: object[],
    options: { parameters: Parameter[]; maxItemCount?: number | null; continuation?: unknown },
  ): { result: unknown[]; continuation: unknown };
}

export interface Page {
  items: unknown[];
  continuation: unknown;
}

/** A continuation this stand-in issued itself (the engine's own ones are passed through). */
interface OffsetToken {
  standInOffset: number;
}

const isOffsetToken = (token: unknown): token is OffsetToken =>
  typeof (token as OffsetToken | null)?.standInOffset === 'number';

/** The aggregate queries the plans gave out, by their rewritten text. */
const aggregates = new Map<string, QueryShape>();

/** Remembers a plan's rewritten aggregate query, so that a range running it knows its parts. */
export function rememberAggregate(rewrittenQuery: string, shape: QueryShape): void {
  if (aggregates.size > 1000) aggregates.delete(aggregates.keys().next().value!);
  aggregates.set(rewrittenQuery, shape);
}

/** A range's partial aggregate, in the array the rewritten query selects as its VALUE. */
function partialAggregate(
  engine: Engine,
  shape: QueryShape,
  documents: object[],
  parameters: Parameter[],
) {
  if (shape.select.kind !== 'aggregate') throw new Error('not an aggregate');
  const { aggregate, argument } = shape.select;
  const where = shape.where === null ? '' : ` WHERE ${shape.where}`;
  const run = (call: string): unknown =>
    engine.exec(`SELECT VALUE ${call} FROM ${shape.alias}${where}`, documents, { parameters })
      .result[0];
  const value = run(`${aggregate.toUpperCase()}(${argument})`);
  // JSON drops an undefined member, as the backend omits the MIN of no documents.
  if (aggregate === 'Min' || aggregate === 'Max') {
    const count = run(`COUNT(${argument})`);
    return [{ item: value, item2: { [aggregate.toLowerCase()]: value, count } }];
  }
  return [{ item: value }];
}

/** The query without its DISTINCT keyword. */
function withoutDistinct(query: string): string {
  const keyword = tokenize(query).find((token) => token.text.toUpperCase() === 'DISTINCT')!;
  return `${query.slice(0, keyword.at)}${query.slice(keyword.at + keyword.text.length)}`;
}

function pageOf(results: unknown[], maxItemCount: number | null, continuation: unknown): Page {
  const offset = isOffsetToken(continuation) ? continuation.standInOffset : 0;
  const size = maxItemCount !== null && maxItemCount > 0 ? maxItemCount : results.length;
  const end = offset + size;
  return {
    items: results.slice(offset, end),
    continuation: end < results.length ? ({ standInOffset: end } satisfies OffsetToken) : null,
  };
}

/** One page of a query's results over `documents`. */
export function runQuery(
  engine: Engine,
  documents: object[],
  query: string,
  parameters: Parameter[],
  maxItemCount: number | null,
  continuation: unknown,
): Page {
  const aggregate = aggregates.get(query);
  if (aggregate) {
    return {
      items: [partialAggregate(engine, aggregate, documents, parameters)],
      continuation: null,
    };
  }
  if (/^\s*SELECT\s+VALUE\s+\[\{"item"/i.test(query)) {
    throw Object.assign(new Error('an aggregate query this stand-in did not plan'), {
      badRequest: true,
    });
  }
  if (
    /^\s*SELECT\s+DISTINCT\b/i.test(query) &&
    parseQuery(query, parameters).orderBy.length === 0
  ) {
    const seen = new Set<string>();
    const distinct = engine
      .exec(withoutDistinct(query), documents, { parameters })
      .result.filter((item) => {
        const key = JSON.stringify(item ?? null);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    return pageOf(distinct, maxItemCount, continuation);
  }
  if (isOffsetToken(continuation)) {
    return pageOf(engine.exec(query, documents, { parameters }).result, maxItemCount, continuation);
  }
  try {
    const { result, continuation: next } = engine.exec(query, documents, {
      parameters,
      maxItemCount,
      continuation,
    });
    return { items: result, continuation: next };
  } catch (error) {
    // The engine pages by _rid, which a projection does not select: page it here instead.
    if (!/_rid field is required/.test((error as Error).message)) throw error;
    return pageOf(engine.exec(query, documents, { parameters }).result, maxItemCount, null);
  }
}
