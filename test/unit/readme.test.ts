import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { settingNames } from '../../shared/config';

const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('documents every setting the app reads', () => {
    for (const name of settingNames())
      expect(readme, name).toMatch(new RegExp(`\\| \`${name}\` +\\|`));
  });

  it('gives the two commands: install-and-start, and test', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm test');
  });
});
