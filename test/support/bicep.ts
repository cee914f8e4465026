import { readFileSync } from 'node:fs';

/**
 * A small reader of Bicep, enough for test/unit/infra.test.ts to hold infra/ to the code where
 * the Bicep CLI cannot be installed: tokens (comments dropped, strings kept whole with their
 * interpolations tokenised), top-level statements, object entries, and the identifiers an
 * expression refers to. It knows the constructs infra/ uses and refuses the ones it does not.
 */
export type Token =
  | { kind: 'identifier' | 'number' | 'punctuation' | 'newline'; text: string; line: number }
  | { kind: 'string'; text: string; line: number; interpolations: Token[][] };

const multiCharPunctuation = ['.?', '??', '=>', '==', '!=', '<=', '>=', '&&', '||', '::'];
const keywords = new Set(['for', 'in', 'if', 'existing', 'true', 'false', 'null']);
/** Namespaces of the built-in functions (`az.resourceGroup()`, `sys.union()`). */
const namespaces = new Set(['az', 'sys']);

class Lexer {
  private position = 0;
  private line = 1;

  constructor(private readonly source: string) {}

  /** Tokens up to the end, or up to the `}` closing an interpolation when `inInterpolation`. */
  tokens(inInterpolation = false): Token[] {
    const tokens: Token[] = [];
    let depth = 0;
    const { source } = this;
    while (this.position < source.length) {
      const char = source[this.position]!;
      const rest = source.slice(this.position);
      if (char === '\n') {
        tokens.push({ kind: 'newline', text: '\n', line: this.line++ });
        this.position++;
      } else if (/\s/.test(char)) {
        this.position++;
      } else if (rest.startsWith('//')) {
        const end = source.indexOf('\n', this.position);
        this.position = end === -1 ? source.length : end;
      } else if (rest.startsWith('/*')) {
        const end = source.indexOf('*/', this.position + 2);
        if (end === -1) throw new Error(`line ${this.line}: unterminated comment`);
        const lines = source.slice(this.position, end).split('\n').length - 1;
        if (lines > 0) tokens.push({ kind: 'newline', text: '\n', line: this.line });
        this.line += lines;
        this.position = end + 2;
      } else if (rest.startsWith("'''")) {
        const end = source.indexOf("'''", this.position + 3);
        if (end === -1) throw new Error(`line ${this.line}: unterminated multi-line string`);
        const text = source.slice(this.position + 3, end);
        tokens.push({ kind: 'string', text, line: this.line, interpolations: [] });
        this.line += text.split('\n').length - 1;
        this.position = end + 3;
      } else if (char === "'") {
        tokens.push(this.string());
      } else if (/[A-Za-z_]/.test(char)) {
        const text = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)![0];
        tokens.push({ kind: 'identifier', text, line: this.line });
        this.position += text.length;
      } else if (/[0-9]/.test(char)) {
        const text = /^[0-9]+/.exec(rest)![0];
        tokens.push({ kind: 'number', text, line: this.line });
        this.position += text.length;
      } else {
        if (inInterpolation && char === '}' && depth === 0) {
          this.position++;
          return tokens;
        }
        if (char === '{') depth++;
        if (char === '}') depth--;
        const text = multiCharPunctuation.find((candidate) => rest.startsWith(candidate)) ?? char;
        tokens.push({ kind: 'punctuation', text, line: this.line });
        this.position += text.length;
      }
    }
    if (inInterpolation) throw new Error(`line ${this.line}: unterminated interpolation`);
    return tokens;
  }

  private string(): Token {
    const line = this.line;
    const interpolations: Token[][] = [];
    let text = '';
    this.position++; // opening quote
    for (;;) {
      const char = this.source[this.position];
      if (char === undefined || char === '\n') throw new Error(`line ${line}: unterminated string`);
      if (char === "'") break;
      if (char === '\\') {
        text += this.source.slice(this.position, this.position + 2);
        this.position += 2;
      } else if (this.source.startsWith('${', this.position)) {
        const start = this.position;
        this.position += 2;
        interpolations.push(this.tokens(true));
        text += this.source.slice(start, this.position);
      } else {
        text += char;
        this.position++;
      }
    }
    this.position++; // closing quote
    return { kind: 'string', text, line, interpolations };
  }
}

export function tokenize(source: string): Token[] {
  return new Lexer(source).tokens();
}

const opens = new Set(['(', '[', '{']);
const closes = new Set([')', ']', '}']);
const isPunctuation = (token: Token | undefined, text: string): boolean =>
  token?.kind === 'punctuation' && token.text === text;

/** A top-level statement: a declaration, an import, a decorator or `targetScope`. */
export interface Statement {
  keyword: string;
  /** The declared name (param, var, resource, module, output, func, each name imported); '' otherwise. */
  name: string;
  tokens: Token[];
  line: number;
}

function splitStatements(tokens: Token[]): Statement[] {
  const statements: Statement[] = [];
  let current: Token[] = [];
  let depth = 0;
  const flush = (): void => {
    if (current.length === 0) return;
    const [first, second] = current;
    if (first!.kind !== 'identifier' && !isPunctuation(first, '@'))
      throw new Error(`line ${first!.line}: unexpected '${first!.text}' at top level`);
    const keyword = isPunctuation(first, '@') ? '@' : first!.text;
    const declares = ['param', 'var', 'resource', 'module', 'output', 'func'].includes(keyword);
    if (keyword === 'import') {
      // import { a, b } from 'file.bicep': declares a and b.
      const close = current.findIndex((token) => isPunctuation(token, '}'));
      for (const token of current.slice(2, close))
        if (token.kind === 'identifier')
          statements.push({ keyword, name: token.text, tokens: current, line: first!.line });
      current = [];
      return;
    }
    if (!declares && !['@', 'targetScope', 'metadata'].includes(keyword))
      throw new Error(`line ${first!.line}: the Bicep reader does not know '${keyword}'`);
    statements.push({
      keyword,
      name: declares ? (second?.text ?? '') : '',
      tokens: current,
      line: first!.line,
    });
    current = [];
  };
  for (const token of tokens) {
    if (token.kind === 'punctuation' && opens.has(token.text)) depth++;
    if (token.kind === 'punctuation' && closes.has(token.text)) depth--;
    if (token.kind === 'newline' && depth === 0) flush();
    else if (token.kind !== 'newline' || current.length > 0) current.push(token);
  }
  flush();
  return statements;
}

/** Index of the `=` that starts a statement's value, at bracket depth 0; -1 when none. */
function assignmentIndex(tokens: Token[]): number {
  let depth = 0;
  for (const [index, token] of tokens.entries()) {
    if (token.kind === 'punctuation' && opens.has(token.text)) depth++;
    if (token.kind === 'punctuation' && closes.has(token.text)) depth--;
    if (depth === 0 && isPunctuation(token, '=')) return index;
  }
  return -1;
}

/** Index of the bracket closing the one at `open`. */
function closingIndex(tokens: Token[], open: number): number {
  let depth = 0;
  for (let index = open; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind === 'punctuation' && opens.has(token.text)) depth++;
    if (token.kind === 'punctuation' && closes.has(token.text) && --depth === 0) return index;
  }
  throw new Error(`line ${tokens[open]!.line}: unclosed '${tokens[open]!.text}'`);
}

/** A property key sits first on its line, or after `{` or `,`, and is followed by `:`. */
function isPropertyKey(tokens: Token[], index: number): boolean {
  const previous = tokens[index - 1];
  return (
    isPunctuation(tokens[index + 1], ':') &&
    (previous === undefined ||
      previous.kind === 'newline' ||
      isPunctuation(previous, '{') ||
      isPunctuation(previous, ','))
  );
}

/** The entries of the object literal opening at `open`: key -> its value's tokens. */
export function objectEntries(tokens: Token[], open: number): Map<string, Token[]> {
  if (!isPunctuation(tokens[open], '{'))
    throw new Error(`line ${tokens[open]?.line}: expected an object`);
  const close = closingIndex(tokens, open);
  const entries = new Map<string, Token[]>();
  let index = open + 1;
  while (index < close) {
    const token = tokens[index]!;
    if ((token.kind === 'identifier' || token.kind === 'string') && isPropertyKey(tokens, index)) {
      let end = index + 2;
      let depth = 0;
      for (; end < close; end++) {
        const candidate = tokens[end]!;
        if (candidate.kind === 'punctuation' && opens.has(candidate.text)) depth++;
        if (candidate.kind === 'punctuation' && closes.has(candidate.text)) depth--;
        if (depth === 0 && (candidate.kind === 'newline' || isPunctuation(candidate, ','))) break;
      }
      entries.set(token.text, tokens.slice(index + 2, end));
      index = end;
    } else {
      index++;
    }
  }
  return entries;
}

/**
 * The value at a path of property keys inside an expression: descends through the first object
 * literal of each value (`{ ... }`, `[for x in y: { ... }]`, `if (c) { ... }`), so
 * `valueAt(body, ['properties', 'resource', 'id'])` reads nested properties.
 */
export function valueAt(tokens: Token[], path: string[]): Token[] | undefined {
  let value = tokens;
  for (const key of path) {
    const open = value.findIndex((token) => isPunctuation(token, '{'));
    if (open === -1) return undefined;
    const entry = objectEntries(value, open).get(key);
    if (entry === undefined) return undefined;
    value = entry;
  }
  return value;
}

/** The string literal a value is, or undefined when it is anything else. */
export function stringValue(tokens: Token[] | undefined): string | undefined {
  const [only, ...others] = tokens ?? [];
  return only?.kind === 'string' && only.interpolations.length === 0 && others.length === 0
    ? only.text
    : undefined;
}

/** Every token, interpolations included (depth first). */
export function flatten(tokens: Token[]): Token[] {
  return tokens.flatMap((token) =>
    token.kind === 'string' ? [token, ...token.interpolations.flatMap(flatten)] : [token],
  );
}

interface Symbols {
  /** Identifiers read as values: parameters, variables, resources, modules. */
  references: Set<string>;
  /** Loop variables and lambda parameters. */
  bound: Set<string>;
}

function collectSymbols(tokens: Token[], symbols: Symbols): void {
  for (const [index, token] of tokens.entries()) {
    if (token.kind === 'string') {
      token.interpolations.forEach((inner) => collectSymbols(inner, symbols));
      continue;
    }
    if (isPunctuation(token, '=>')) {
      const previous = tokens[index - 1];
      if (previous?.kind === 'identifier') symbols.bound.add(previous.text);
      if (isPunctuation(previous, ')')) {
        let back = index - 2;
        while (back >= 0 && !isPunctuation(tokens[back], '(')) {
          if (tokens[back]!.kind === 'identifier') symbols.bound.add(tokens[back]!.text);
          back--;
        }
      }
      continue;
    }
    if (token.kind !== 'identifier') continue;
    if (token.text === 'for') {
      // for x in ... | for (x, i) in ...
      let ahead = index + 1;
      while (ahead < tokens.length && tokens[ahead]!.text !== 'in') {
        if (tokens[ahead]!.kind === 'identifier') symbols.bound.add(tokens[ahead]!.text);
        ahead++;
      }
      continue;
    }
    const previous = tokens[index - 1];
    const next = tokens[index + 1];
    const isMember = isPunctuation(previous, '.') || isPunctuation(previous, '.?');
    const isDecorator = isPunctuation(previous, '@');
    const isCall = isPunctuation(next, '(');
    if (keywords.has(token.text) || isMember || isDecorator || isCall) continue;
    if (isPropertyKey(tokens, index)) continue;
    symbols.references.add(token.text);
  }
}

/** What a statement's value (or a decorator) refers to; types and declared names excluded. */
function statementSymbols(statement: Statement, symbols: Symbols): void {
  if (statement.keyword === '@') return collectSymbols(statement.tokens, symbols);
  // An import reads nothing; a func reads only its own parameters.
  if (statement.keyword === 'import' || statement.keyword === 'func') return;
  const equals = assignmentIndex(statement.tokens);
  if (equals !== -1) collectSymbols(statement.tokens.slice(equals + 1), symbols);
}

export class BicepFile {
  readonly tokens: Token[];
  readonly statements: Statement[];

  constructor(
    readonly path: string,
    source: string = readFileSync(path, 'utf8'),
  ) {
    this.tokens = tokenize(source);
    this.statements = splitStatements(this.tokens);
  }

  declarations(keyword: 'param' | 'var' | 'resource' | 'module' | 'output'): Statement[] {
    return this.statements.filter((statement) => statement.keyword === keyword);
  }

  /** Parameters and whether each has a default value. */
  parameters(): Map<string, { hasDefault: boolean; defaultValue: Token[] | undefined }> {
    return new Map(
      this.declarations('param').map((statement) => {
        const equals = assignmentIndex(statement.tokens);
        const defaultValue = equals === -1 ? undefined : statement.tokens.slice(equals + 1);
        return [statement.name, { hasDefault: equals !== -1, defaultValue }];
      }),
    );
  }

  /** A statement's value: what follows its `=`. */
  valueOf(statement: Statement): Token[] {
    const equals = assignmentIndex(statement.tokens);
    if (equals === -1) throw new Error(`line ${statement.line}: '${statement.name}' has no value`);
    return statement.tokens.slice(equals + 1);
  }

  /** `module name './path.bicep'` and `resource name 'Type@version'`: the quoted string. */
  targetOf(statement: Statement): string {
    const target = statement.tokens[2];
    if (target?.kind !== 'string') throw new Error(`line ${statement.line}: expected a string`);
    return target.text;
  }

  resourcesOfType(type: string): Statement[] {
    return this.declarations('resource').filter((statement) =>
      this.targetOf(statement).startsWith(`${type}@`),
    );
  }

  /** Identifiers the file reads that it never declares. */
  undeclaredReferences(): string[] {
    const symbols: Symbols = { references: new Set(), bound: new Set() };
    this.statements.forEach((statement) => statementSymbols(statement, symbols));
    const declared = new Set(
      this.statements.filter((statement) => statement.name !== '').map(({ name }) => name),
    );
    return [...symbols.references].filter(
      (name) => !declared.has(name) && !symbols.bound.has(name) && !namespaces.has(name),
    );
  }

  /** Parameters declared and never read. */
  unusedParameters(): string[] {
    const symbols: Symbols = { references: new Set(), bound: new Set() };
    this.statements.forEach((statement) => statementSymbols(statement, symbols));
    return [...this.parameters().keys()].filter((name) => !symbols.references.has(name));
  }

  /** Arguments of every call to a function, e.g. loadJsonContent: each call's tokens. */
  callsTo(functionName: string): Token[][] {
    const tokens = flatten(this.tokens);
    return tokens.flatMap((token, index) =>
      token.kind === 'identifier' &&
      token.text === functionName &&
      isPunctuation(tokens[index + 1], '(')
        ? [tokens.slice(index + 2, closingIndex(tokens, index + 1))]
        : [],
    );
  }
}
