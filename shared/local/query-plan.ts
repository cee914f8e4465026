/**
 * The query plan Azure Cosmos DB's gateway answers for a cross-partition query, for the shapes
 * this stand-in models: `SELECT [DISTINCT] [TOP n] [VALUE] <*, properties or one aggregate>
 * FROM c [WHERE ...] [ORDER BY ...]`. The SDK runs the plan itself: it sends `rewrittenQuery`
 * (or the query, when that is empty) to each partition key range and merges what they answer.
 *
 * The plans and rewritten texts follow the gateway's, as the .NET SDK's recorded baselines show
 * them (Azure/azure-cosmos-dotnet-v3, Microsoft.Azure.Cosmos.Tests/BaselineTest/TestBaseline/
 * QueryPlanBaselineTests.Aggregates.xml, .OrderBy.xml, .Distinct.xml, .Top.xml). A shape the
 * stand-in does not model (GROUP BY, OFFSET, JOIN, subqueries, aggregates without VALUE, AVG)
 * is refused with an Error: locally a new kind of query fails rather than run unlike Azure.
 */

type Token = {
  kind: 'word' | 'string' | 'number' | 'parameter' | 'symbol';
  text: string;
  at: number;
};

const symbols = ['<=', '>=', '!=', '<>', '||', '??'];

/** Words, strings, numbers, @parameters and symbols, with their offsets in the text. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index]!;
    if (/\s/.test(char)) {
      index += 1;
    } else if (char === "'" || char === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== char) end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) throw new Error(`unterminated string in: ${text}`);
      tokens.push({ kind: 'string', text: text.slice(index, end + 1), at: index });
      index = end + 1;
    } else if (/[A-Za-z_]/.test(char)) {
      const word = /^[A-Za-z_]\w*/.exec(text.slice(index))![0];
      tokens.push({ kind: 'word', text: word, at: index });
      index += word.length;
    } else if (char === '@') {
      const name = /^@\w+/.exec(text.slice(index))?.[0];
      if (!name) throw new Error(`a lone @ in: ${text}`);
      tokens.push({ kind: 'parameter', text: name, at: index });
      index += name.length;
    } else if (/\d/.test(char)) {
      const number = /^\d+(\.\d+)?/.exec(text.slice(index))![0];
      tokens.push({ kind: 'number', text: number, at: index });
      index += number.length;
    } else {
      const pair = text.slice(index, index + 2);
      const symbol = symbols.includes(pair) ? pair : char;
      tokens.push({ kind: 'symbol', text: symbol, at: index });
      index += symbol.length;
    }
  }
  return tokens;
}

/** A keyword of the query itself: a word at depth 0 that is not a property (`c.count`). */
function keywordAt(tokens: Token[], index: number, word: string): boolean {
  const token = tokens[index];
  return (
    token?.kind === 'word' && token.text.toUpperCase() === word && tokens[index - 1]?.text !== '.'
  );
}

export type Aggregate = 'Count' | 'Min' | 'Max' | 'Sum';

const aggregateNames: Record<string, Aggregate> = {
  COUNT: 'Count',
  MIN: 'Min',
  MAX: 'Max',
  SUM: 'Sum',
};

export interface OrderByItem {
  expression: string;
  order: 'Ascending' | 'Descending';
}

/** A parsed query: its clauses as text, as the stand-in plans and runs them. */
export interface QueryShape {
  distinct: boolean;
  top: number | null;
  /** `*`, a VALUE expression, a projection (alias → expression) or a VALUE aggregate. */
  select:
    | { kind: 'all' }
    | { kind: 'value'; expression: string }
    | { kind: 'properties'; properties: [string, string][] }
    | { kind: 'aggregate'; aggregate: Aggregate; argument: string };
  alias: string;
  where: string | null;
  orderBy: OrderByItem[];
  /** The ORDER BY clause as written, for the rewritten query. */
  orderByText: string | null;
}

const unmodelled = /^(GROUP|OFFSET|LIMIT|JOIN|EXISTS|ARRAY)$/;

function topLevelSplit(tokens: Token[], text: string, from: number, to: number): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = tokens[from]?.at ?? text.length;
  for (let index = from; index < to; index += 1) {
    const token = tokens[index]!;
    if ('([{'.includes(token.text) && token.kind === 'symbol') depth += 1;
    if (')]}'.includes(token.text) && token.kind === 'symbol') depth -= 1;
    if (depth === 0 && token.text === ',' && token.kind === 'symbol') {
      parts.push(text.slice(start, token.at).trim());
      start = tokens[index + 1]?.at ?? text.length;
    }
  }
  const end = tokens[to]?.at ?? text.length;
  parts.push(text.slice(start, end).trim());
  return parts;
}

/** The alias the gateway gives a projected expression: its last property name, else `$n`. */
function projectedAlias(expression: string, position: number): [string, string] {
  const named = /^([\s\S]+?)\s+AS\s+(\w+)$/i.exec(expression);
  if (named) return [named[2]!, named[1]!.trim()];
  const property = /\.(\w+)$/.exec(expression) ?? /\["(\w+)"\]$/.exec(expression);
  return [property ? property[1]! : `$${position}`, expression];
}

function parseTop(token: Token | undefined, parameters: Parameter[]): number {
  if (token?.kind === 'number') return Number(token.text);
  if (token?.kind === 'parameter') {
    const value = parameters.find((parameter) => parameter.name === token.text)?.value;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
  }
  throw new Error('TOP takes a whole number or a parameter holding one');
}

export interface Parameter {
  name: string;
  value: unknown;
}

/** The clauses of a query this stand-in can plan; any other shape throws an Error. */
export function parseQuery(text: string, parameters: Parameter[] = []): QueryShape {
  const query = text.trim();
  const tokens = tokenize(query);
  if (!keywordAt(tokens, 0, 'SELECT')) throw new Error(`not a SELECT query: ${query}`);
  let depth = 0;
  const clauses = new Map<string, number>();
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index]!;
    if (token.kind === 'symbol' && '([{'.includes(token.text)) depth += 1;
    if (token.kind === 'symbol' && ')]}'.includes(token.text)) depth -= 1;
    if (token.kind !== 'word' || tokens[index - 1]?.text === '.') continue;
    const word = token.text.toUpperCase();
    if (word === 'SELECT' && index > 0) throw new Error(`subqueries are not modelled: ${query}`);
    if (depth > 0) continue;
    if (unmodelled.test(word) && keywordAt(tokens, index, word)) {
      throw new Error(`the embedded emulator does not model ${word} across partitions: ${query}`);
    }
    if (['FROM', 'WHERE', 'ORDER'].includes(word) && !clauses.has(word)) clauses.set(word, index);
  }
  const from = clauses.get('FROM');
  if (from === undefined) throw new Error(`no FROM clause: ${query}`);
  const where = clauses.get('WHERE');
  const order = clauses.get('ORDER');
  if (order !== undefined && !keywordAt(tokens, order + 1, 'BY')) {
    throw new Error(`ORDER without BY: ${query}`);
  }
  const alias = tokens[from + 1];
  const afterFrom = where ?? order ?? tokens.length;
  if (alias?.kind !== 'word' || afterFrom !== from + 2) {
    throw new Error(`the embedded emulator models only FROM <alias>: ${query}`);
  }
  const slice = (start: number, end: number | undefined): string =>
    query.slice(tokens[start]!.at, tokens[end ?? tokens.length]?.at ?? query.length).trim();

  let cursor = 1;
  const distinct = keywordAt(tokens, cursor, 'DISTINCT');
  if (distinct) cursor += 1;
  let top: number | null = null;
  if (keywordAt(tokens, cursor, 'TOP')) {
    top = parseTop(tokens[cursor + 1], parameters);
    cursor += 2;
  }
  const value = keywordAt(tokens, cursor, 'VALUE');
  if (value) cursor += 1;
  const selected = slice(cursor, from);
  const aggregateAt = tokens.findIndex(
    (token, index) =>
      index >= cursor &&
      index < from &&
      token.kind === 'word' &&
      /^(COUNT|MIN|MAX|SUM|AVG)$/i.test(token.text) &&
      tokens[index + 1]?.text === '(' &&
      tokens[index - 1]?.text !== '.',
  );
  let select: QueryShape['select'];
  if (aggregateAt >= 0) {
    const call = /^(\w+)\(([\s\S]+)\)$/.exec(selected);
    const aggregate = aggregateNames[call?.[1]?.toUpperCase() ?? ''];
    if (!value || aggregateAt !== cursor || !call || !aggregate) {
      throw new Error(
        `the embedded emulator models only SELECT VALUE COUNT|MIN|MAX|SUM(...) aggregates: ${query}`,
      );
    }
    select = { kind: 'aggregate', aggregate, argument: call[2]!.trim() };
  } else if (selected === '*') {
    if (value) throw new Error(`SELECT VALUE * is not a query: ${query}`);
    select = { kind: 'all' };
  } else if (value) {
    select = { kind: 'value', expression: selected };
  } else {
    select = {
      kind: 'properties',
      properties: topLevelSplit(tokens, query, cursor, from).map((item, index) =>
        projectedAlias(item, index + 1),
      ),
    };
  }
  const orderByText = order === undefined ? null : slice(order + 2, undefined);
  const orderBy = (
    order === undefined ? [] : topLevelSplit(tokens, query, order + 2, tokens.length)
  ).map((item): OrderByItem => {
    const direction = /\s+(ASC|DESC)$/i.exec(item);
    return {
      expression: direction ? item.slice(0, direction.index).trim() : item,
      order: direction?.[1]?.toUpperCase() === 'DESC' ? 'Descending' : 'Ascending',
    };
  });
  if (select.kind === 'aggregate' && (orderBy.length > 0 || distinct || top !== null)) {
    throw new Error(`an aggregate with ORDER BY, DISTINCT or TOP is not modelled: ${query}`);
  }
  if (distinct && orderBy.length > 0 && select.kind !== 'value') {
    throw new Error(`DISTINCT with ORDER BY is modelled for SELECT DISTINCT VALUE only: ${query}`);
  }
  if (distinct && top !== null) {
    throw new Error(`DISTINCT with TOP is not modelled: ${query}`);
  }
  return {
    distinct,
    top,
    select,
    alias: alias.text,
    where: where === undefined ? null : slice(where + 1, order),
    orderBy,
    orderByText,
  };
}

const orderByFilter = '{documentdb-formattableorderbyquery-filter}';

function payloadOf(shape: QueryShape): string {
  switch (shape.select.kind) {
    case 'all':
      return shape.alias;
    case 'value':
      return shape.select.expression;
    case 'properties':
      return `{${shape.select.properties.map(([name, expression]) => `"${name}": ${expression}`).join(', ')}}`;
    case 'aggregate':
      throw new Error('an aggregate has no ORDER BY payload');
  }
}

/** The query each range runs for a cross-partition ORDER BY, as the gateway rewrites it. */
function rewrittenOrderBy(shape: QueryShape): string {
  const items = shape.orderBy.map((item) => `{"item": ${item.expression}}`).join(', ');
  let condition =
    shape.where === null ? `(${orderByFilter})` : `((${shape.where}) AND (${orderByFilter}))`;
  if (shape.select.kind === 'value')
    condition = `(${condition} AND IS_DEFINED(${shape.select.expression}))`;
  const top = shape.top === null ? '' : `TOP ${shape.top} `;
  return `SELECT ${top}${shape.alias}._rid, [${items}] AS orderByItems, ${payloadOf(shape)} AS payload\nFROM ${shape.alias}\nWHERE ${condition}\nORDER BY ${shape.orderByText}`;
}

/**
 * The query each range runs for a VALUE aggregate: each range answers its partial result in an
 * array (`[{"item": ...}]`), MIN and MAX with the count beside (`item2`), which the SDK's
 * aggregators merge.
 */
export function rewrittenAggregate(shape: QueryShape): string {
  if (shape.select.kind !== 'aggregate') throw new Error('not an aggregate');
  const { aggregate, argument } = shape.select;
  const call = `${aggregate.toUpperCase()}(${argument})`;
  const item =
    aggregate === 'Min' || aggregate === 'Max'
      ? `{"item": ${call}, "item2": {"${aggregate.toLowerCase()}": ${call}, "count": COUNT(${argument})}}`
      : `{"item": ${call}}`;
  const where = shape.where === null ? '' : `\nWHERE (${shape.where})`;
  return `SELECT VALUE [${item}]\nFROM ${shape.alias}${where}`;
}

export interface QueryPlan {
  partitionedQueryExecutionInfoVersion: 2;
  queryInfo: {
    distinctType: 'None' | 'Ordered' | 'Unordered';
    top: number | null;
    offset: null;
    limit: null;
    orderBy: OrderByItem['order'][];
    orderByExpressions: string[];
    groupByExpressions: [];
    groupByAliases: [];
    aggregates: Aggregate[];
    groupByAliasToAggregateType: Record<string, never>;
    rewrittenQuery: string;
    hasSelectValue: boolean;
    hasNonStreamingOrderBy: false;
    dCountInfo: null;
  };
  queryRanges: { min: string; max: string; isMinInclusive: boolean; isMaxInclusive: boolean }[];
  hybridSearchQueryInfo: null;
}

/** The gateway's plan for a query (the whole key space: no query here pins a partition key). */
export function queryPlan(text: string, parameters: Parameter[] = []): QueryPlan {
  const shape = parseQuery(text, parameters);
  const rewrittenQuery =
    shape.select.kind === 'aggregate'
      ? rewrittenAggregate(shape)
      : shape.orderBy.length > 0
        ? rewrittenOrderBy(shape)
        : '';
  return {
    partitionedQueryExecutionInfoVersion: 2,
    queryInfo: {
      distinctType: !shape.distinct ? 'None' : shape.orderBy.length > 0 ? 'Ordered' : 'Unordered',
      top: shape.top,
      offset: null,
      limit: null,
      orderBy: shape.orderBy.map((item) => item.order),
      orderByExpressions: shape.orderBy.map((item) => item.expression),
      groupByExpressions: [],
      groupByAliases: [],
      aggregates: shape.select.kind === 'aggregate' ? [shape.select.aggregate] : [],
      groupByAliasToAggregateType: {},
      rewrittenQuery,
      hasSelectValue: shape.select.kind === 'value' || shape.select.kind === 'aggregate',
      hasNonStreamingOrderBy: false,
      dCountInfo: null,
    },
    queryRanges: [{ min: '', max: 'FF', isMinInclusive: true, isMaxInclusive: false }],
    hybridSearchQueryInfo: null,
  };
}

/** Whether the gateway refuses to run the query across partitions itself (400 with the plan). */
export function needsClientPipeline(plan: QueryPlan): boolean {
  const info = plan.queryInfo;
  return (
    info.orderBy.length > 0 ||
    info.aggregates.length > 0 ||
    info.distinctType !== 'None' ||
    info.top !== null
  );
}
