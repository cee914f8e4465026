import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { settingNames } from '../../shared/config';
import { problemCatalog } from '../../shared/domain/errors';
import { transitionSteps } from '../../shared/domain/transition';
import { transitionView } from '../../shared/http/schemas/transition';
import { stepDetail } from '../../shared/http/transition-words';

const root = path.resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(path.join(root, file), 'utf8');
const readme = read('README.md');
const docs = readdirSync(path.join(root, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`);

/**
 * The repository's own text files: what a user clones, without what npm, a build or a mutation
 * run writes (`reports/`, `.stryker-tmp`: ignored by git, they quote the code's own imports).
 */
function repositoryFiles(directory = root): string[] {
  const skipped = new Set([
    'node_modules',
    'dist',
    'dist-tsc',
    '.deploy',
    '.local',
    '.git',
    'reports',
    '.stryker-tmp',
  ]);
  const files: string[] = [];
  for (const name of readdirSync(directory)) {
    const full = path.join(directory, name);
    if (skipped.has(name) || name === 'coverage' || name === 'bench') continue;
    if (statSync(full).isDirectory()) files.push(...repositoryFiles(full));
    else if (/\.(?:ts|mts|mjs|cjs|js|json|md|bicep|ya?ml)$|^run$/.test(name))
      if (name !== 'package-lock.json') files.push(path.relative(root, full));
  }
  return files;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6} (.+)$/gm)) anchors.add(anchorOf(match[1]!));
  return anchors;
}

describe('README', () => {
  it('gives the two commands: install-and-start, and test', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });

  it('links to each page of docs/', () => {
    for (const page of docs) expect(readme, page).toContain(`](${page})`);
  });

  it("is a newcomer's page: at most 150 lines, the reference kept in docs/", () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(150);
    // The stand-ins' differences from Azure, the Azure limits and the walk-through have pages
    // of their own, which the README links.
    const standIns = read('docs/stand-ins.md');
    expect(standIns).toMatch(/^## Where the stand-ins differ from Azure$/m);
    expect(standIns).toMatch(/^## Azure limits the app is tuned to$/m);
    expect(read('docs/walkthrough.md')).toMatch(/^## Step by step$/m);
    for (const heading of ['stand-ins and Azure', 'Azure limits', 'Try it'])
      expect(readme).not.toMatch(new RegExp(`^#+ .*${heading}`, 'm'));
  });

  it('shows a transition as the app answers it: its schema, the steps in order, the words the app uses', () => {
    const taste = /curl -s \S+\/api\/me\/transition[^\n]*\n```\n\n```json\n([\s\S]*?)\n```/.exec(
      readme,
    );
    expect(taste, 'the taste shows the answer of GET /api/me/transition').not.toBeNull();
    const shown = transitionView.parse(JSON.parse(taste![1]!));
    expect(shown.steps.map((state) => state.step)).toEqual([...transitionSteps]);
    const approval = shown.steps.find((state) => state.step === 'approval')!;
    expect(approval.detail).toBe(
      stepDetail(
        { step: 'approval', why: 'in-review', dueBy: approval.dueBy!, overdue: false },
        'en',
      ),
    );
  });
});

describe('the documentation', () => {
  it('documents every setting the app reads (docs/operations.md)', () => {
    const operations = read('docs/operations.md');
    for (const name of settingNames())
      expect(operations, name).toMatch(new RegExp(`\\| \`${name}\` +\\|`));
  });

  it('has a section, with an example, for every HTTP route of the function table', () => {
    const guide = read('docs/api.md');
    for (const { methods, route } of httpFunctions())
      for (const method of methods)
        expect(guide, `${method} /api/${route}`).toContain(`#### \`${method} /api/${route}\``);
    const sections = guide.split(/^#### /m).slice(1);
    const withoutExample = sections.filter(
      (section) => !section.includes('```sh') && !/^`GET \/api\/(?:links|docs)/.test(section),
    );
    expect(withoutExample.map((section) => section.split('\n')[0])).toEqual([]);
  });

  it('lists every error code the API answers with', () => {
    const guide = read('docs/api.md');
    for (const code of Object.keys(problemCatalog)) expect(guide, code).toContain(`| \`${code}\``);
  });

  it('has links that lead to files and headings that exist', () => {
    const broken: string[] = [];
    for (const file of ['README.md', ...docs]) {
      const text = read(file);
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^(?:https?:|mailto:)/.test(target!)) continue;
        const [relative, anchor] = target!.split('#');
        const linked = relative
          ? path.resolve(path.dirname(path.join(root, file)), relative)
          : path.join(root, file);
        if (!existsSync(linked)) {
          broken.push(`${file}: ${target}`);
          continue;
        }
        if (
          anchor &&
          linked.endsWith('.md') &&
          !anchorsIn(readFileSync(linked, 'utf8')).has(anchor)
        )
          broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('has every section a code comment cites ("docs/rules.md section 9")', () => {
    const missing: string[] = [];
    for (const file of repositoryFiles().filter((name) => !name.startsWith('docs/'))) {
      const text = read(file);
      for (const [citation, page, numbers] of text.matchAll(
        /docs\/([\w-]+\.md)(?:,? sections? ([\d, -]+(?:and \d+)?))?/g,
      )) {
        if (!existsSync(path.join(root, 'docs', page!))) {
          missing.push(`${file}: ${citation}`);
          continue;
        }
        const headings = read(`docs/${page}`);
        for (const number of numbers?.match(/\d+/g) ?? [])
          if (!new RegExp(`^## ${number}\\. `, 'm').test(headings))
            missing.push(`${file}: ${citation} (no section ${number})`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('the repository', () => {
  it('points at nothing outside itself', () => {
    const outside: string[] = [];
    // The fuzz test's hostile inputs climb out on purpose (path traversal attempts).
    for (const file of repositoryFiles().filter((name) => name !== 'test/support/arbitraries.ts')) {
      const text = read(file);
      for (const [reference] of text.matchAll(/(?:\.\.\/)+[\w.-]+(?:\/[\w.-]+)*/g)) {
        const resolved = path.resolve(path.dirname(path.join(root, file)), reference);
        if (path.relative(root, resolved).startsWith('..')) outside.push(`${file}: ${reference}`);
      }
      if (/shared\/spec|domain\.md|conventions\.md/.test(text)) outside.push(`${file}: the spec`);
    }
    expect(outside).toEqual([]);
  });
});
