import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The floors of the house (docs/testing.md, "The shape of the code"): every import points down,
 * `shared/local` → `functions/` → `composition` → `http`, `adapters` → `app` → `domain`, and no
 * module reaches itself through others. Read from the sources with TypeScript's own import
 * scanner, so a new file is held to the arrows the day it is written.
 */
const root = path.resolve(__dirname, '../..');

type Floor =
  | 'functions'
  | 'shared/local'
  | 'shared/composition'
  | 'shared/functions'
  | 'shared/http'
  | 'shared/adapters'
  | 'shared/app'
  | 'shared/domain'
  | 'shared/config'
  | 'shared/redact'
  | 'shared/html';

/** What each floor may import (besides itself). */
const mayImport: Record<Floor, readonly Floor[]> = {
  'shared/local': [
    'functions',
    'shared/composition',
    'shared/functions',
    'shared/http',
    'shared/adapters',
    'shared/app',
    'shared/domain',
    'shared/config',
    'shared/redact',
    'shared/html',
  ],
  functions: [
    'shared/composition',
    'shared/functions',
    'shared/http',
    'shared/adapters',
    'shared/app',
    'shared/domain',
    'shared/config',
    'shared/redact',
    'shared/html',
  ],
  'shared/composition': ['shared/adapters', 'shared/app', 'shared/domain', 'shared/config'],
  'shared/functions': [
    'shared/http',
    'shared/adapters',
    'shared/app',
    'shared/domain',
    'shared/redact',
  ],
  'shared/http': [
    'shared/adapters',
    'shared/app',
    'shared/domain',
    'shared/config',
    'shared/redact',
    'shared/html',
  ],
  'shared/adapters': ['shared/app', 'shared/domain', 'shared/config', 'shared/redact'],
  'shared/app': ['shared/domain', 'shared/config', 'shared/html'],
  'shared/domain': [],
  'shared/config': [],
  'shared/redact': [],
  'shared/html': [],
};

/** The rules import no SDK and do no I/O: these packages only (docs/rules.md is pure logic). */
const domainPackages = new Set(['zod', 'node:net']);

function sources(directory: string): string[] {
  return readdirSync(path.join(root, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.posix.join(directory, entry.name);
    if (entry.isDirectory()) return sources(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

function floorOf(file: string): Floor {
  if (file.startsWith('functions/')) return 'functions';
  const [, second] = file.split('/');
  return `shared/${second!.replace(/\.ts$/, '')}` as Floor;
}

interface Module {
  file: string;
  /** Modules of ours it imports (repository-relative paths). */
  local: string[];
  /** Packages it imports. */
  packages: string[];
}

function resolveLocal(from: string, specifier: string): string {
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  for (const candidate of [`${base}.ts`, `${base}/index.ts`, base]) {
    try {
      readFileSync(path.join(root, candidate));
      return candidate;
    } catch {
      // try the next form
    }
  }
  return base;
}

const modules: Module[] = [...sources('shared'), ...sources('functions')].map((file) => {
  const imports = ts
    .preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true)
    .importedFiles.map((reference) => reference.fileName);
  return {
    file,
    // Code only: a JSON file read (containers.json, host.json) is data, not an arrow.
    local: imports
      .filter((name) => name.startsWith('.') && !name.endsWith('.json'))
      .map((name) => resolveLocal(file, name)),
    packages: imports.filter((name) => !name.startsWith('.')),
  };
});

/** Each import cycle (a strongly connected set of two or more modules), by Tarjan's method. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    order.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!order.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, order.get(next)!));
      }
    }
    if (low.get(node) === order.get(node)) {
      const members: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        members.push(member);
      } while (member !== node);
      if (members.length > 1) found.push(members.sort());
    }
  };
  for (const node of graph.keys()) if (!order.has(node)) visit(node);
  return found;
}

describe('the import arrows', () => {
  it('finds the modules it holds (the scan reads the sources)', () => {
    expect(modules.length).toBeGreaterThan(100);
    expect(modules.find((module) => module.file === 'shared/domain/partner.ts')?.local).toContain(
      'shared/domain/enrollment.ts',
    );
  });

  it('has no import cycle anywhere in the app', () => {
    const graph = new Map(modules.map((module) => [module.file, module.local]));
    expect(cycles(graph)).toEqual([]);
  });

  it('points every import down a floor, never up or sideways into the hosts', () => {
    const upward = modules.flatMap((module) => {
      const floor = floorOf(module.file);
      return module.local
        .filter((target) => {
          const to = floorOf(target);
          return to !== floor && !mayImport[floor].includes(to);
        })
        .map((target) => `${module.file} → ${target}`);
    });
    expect(upward).toEqual([]);
  });

  it('keeps the domain free of SDKs and I/O', () => {
    const foreign = modules
      .filter((module) => floorOf(module.file) === 'shared/domain')
      .flatMap((module) =>
        module.packages
          .filter((name) => !domainPackages.has(name))
          .map((name) => `${module.file} imports ${name}`),
      );
    expect(foreign).toEqual([]);
  });

  it('keeps the test code out of the app', () => {
    const intoTests = modules.flatMap((module) =>
      module.local
        .filter((target) => target.startsWith('test/'))
        .map((t) => `${module.file} → ${t}`),
    );
    expect(intoTests).toEqual([]);
  });
});
