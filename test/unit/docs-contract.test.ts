import { readFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { eventTypes } from '../../shared/domain/events';
import { emailKinds } from '../../shared/domain/email';
import { linkPageHeaders } from '../../shared/http/link-landing';
import { rolesTable } from '../support/roles-table';

/**
 * What the documentation states about the app, held to the app: who may call each route (from
 * the function table), the event catalogue, who gets each email, the link pages' CSP, the
 * Node version.
 */
const root = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const api = read('docs/api.md');

/** Each route's entry in docs/api.md: its heading and its first paragraph. */
function entries(): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of api.matchAll(/^#### `([A-Z]+ \/api\/[^`]+)`\n\n([\s\S]*?)(?:\n\n|$)/gm))
    found.set(match[1]!, match[2]!.replace(/\s+/g, ' '));
  return found;
}

const roleWords: Record<string, string> = {
  GlobalAdmin: 'global admin',
  AdminAgent: 'admin agent',
  SalesAgent: 'sales agent',
  Operator: 'Operator',
  EnrollmentReviewer: 'EnrollmentReviewer',
};

describe('docs/api.md says who may call each route as the function table does', () => {
  it('has the table generated from the function table', async () => {
    const options = {
      ...(await resolveConfig(path.join(root, 'docs/api.md'))),
      parser: 'markdown',
    };
    const expected = (await format(rolesTable(httpFunctions()), options)).trim();
    const section =
      /<!-- roles table: generated from the function table -->\n\n([\s\S]*?)\n\n<!-- end of roles table -->/.exec(
        api,
      );
    expect(section?.[1]).toBe(expected);
  });

  it("opens each route's entry with who may call it, naming exactly the roles it takes", () => {
    const found = entries();
    const wrong: string[] = [];
    for (const { route, methods, access } of httpFunctions())
      for (const method of methods) {
        const name = `${method} /api/${route}`;
        const text = found.get(name);
        if (text === undefined) {
          wrong.push(`${name}: no entry`);
          continue;
        }
        if (access.kind === 'anonymous') continue;
        // Who: the words before the entry's first full stop, colon or code span.
        const who = /^[^.:`]*/.exec(text)![0].toLowerCase();
        const roles: readonly string[] = access.roles ?? [];
        const named = Object.entries(roleWords)
          .filter(([, words]) => who.includes(words.toLowerCase()))
          .map(([role]) => role);
        if (access.kind === 'operator' && !who.startsWith('operator'))
          wrong.push(`${name}: "${who}" does not say Operator`);
        if (access.kind === 'signed-in' && named.sort().join() !== [...roles].sort().join())
          wrong.push(
            `${name}: "${who}" names ${named.join(', ') || 'no role'}, the route takes ${roles.join(', ') || 'any'}`,
          );
        if (roles.length > 0 && /\bany\b/.test(who))
          wrong.push(`${name}: "${who}" says any, the route takes ${roles.join(', ')}`);
      }
    expect(wrong).toEqual([]);
  });

  it('says the GlobalAdmin app role counts only where the deployment opts in, as the default is', () => {
    expect(api).toContain('`AUTH_GLOBAL_ADMIN_APP_ROLE=true`; off by default');
    expect(api).not.toMatch(/counts the `GlobalAdmin` app role\s+as a global admin/);
    expect(read('docs/operations.md')).toMatch(/\| `AUTH_GLOBAL_ADMIN_APP_ROLE` +\| `false`/);
  });
});

describe('the event catalogue', () => {
  it('lists exactly the events the app writes, in docs/api.md and the API contract', () => {
    const types = /Types: ([\s\S]*?)\.\n/.exec(api.slice(api.indexOf('### Events for automation')));
    const listed = [...types![1]!.matchAll(/`([a-z.-]+)`/g)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...eventTypes].sort());
    expect(eventTypes).not.toContain('transfer.accepted');
  });
});

describe('docs/rules.md, Emails', () => {
  it('has a row, with who gets it and in which language, for every email the app queues', () => {
    const rules = read('docs/rules.md');
    const table = rules.slice(rules.indexOf('## Emails'));
    // outbox.ts queues only these kinds (the compiler holds every queue() call to the list).
    const queued = new Set(emailKinds);
    expect(queued.size).toBeGreaterThan(10);
    const rows = table.split('\n').filter((line) => line.startsWith('| '));
    const missing = [...queued].filter(
      (kind) =>
        !rows.some(
          (row) =>
            row.includes(`\`${kind}\``) && /\| [^|]*\b(language|English|French)\b/i.test(row),
        ),
    );
    expect(missing).toEqual([]);
  });
});

describe('docs/security.md', () => {
  it("quotes the link pages' Content-Security-Policy as they send it", () => {
    expect(read('docs/security.md').replace(/\s+/g, ' ')).toContain(
      linkPageHeaders['Content-Security-Policy'],
    );
  });
});

describe('the README', () => {
  it('names the Node.js version package.json requires', () => {
    const { engines } = JSON.parse(read('package.json')) as { engines: { node: string } };
    const minimum = /^>=(\d+\.\d+)/.exec(engines.node)![1]!;
    expect(read('README.md')).toContain(`Node.js ${minimum}`);
  });
});
