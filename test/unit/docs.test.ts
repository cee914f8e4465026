import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const documents = [
  'README.md',
  ...readdirSync(path.join(root, 'docs')).map((name) => `docs/${name}`),
]
  .filter((file) => file.endsWith('.md'))
  .map((file) => ({ file, text: readFileSync(path.join(root, file), 'utf8') }));

/** Each "`test/…test.ts` › "name"" a document cites as the proof of a claim. */
const citations = documents.flatMap(({ file, text }) =>
  [...text.matchAll(/`(test\/[\w/.-]+\.test\.ts)` › "([^"]+)"/g)].map((match) => ({
    document: file,
    testFile: match[1]!,
    name: match[2]!,
  })),
);

describe('the documentation', () => {
  it('cites tests that exist, under the names they have', () => {
    const missing = citations
      .filter(({ testFile, name }) => {
        const source = path.join(root, testFile);
        return !existsSync(source) || !readFileSync(source, 'utf8').includes(name);
      })
      .map(({ document, testFile, name }) => `${document}: ${testFile} › "${name}"`);
    expect(missing).toEqual([]);
    expect(citations.length).toBeGreaterThan(50);
  });
});
