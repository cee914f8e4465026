import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { functionTimeoutMs } from '../../shared/config';
import { loggedFields } from '../support/logged-fields';

const root = path.resolve(__dirname, '../..');
const hostJson = JSON.parse(readFileSync(path.join(root, 'host.json'), 'utf8')) as {
  functionTimeout: string;
  logging: {
    applicationInsights: { samplingSettings: { isEnabled: boolean; excludedTypes?: string } };
    logLevel: Record<string, string>;
  };
};
const rules = (
  JSON.parse(readFileSync(path.join(root, 'infra', 'modules', 'alert-rules.json'), 'utf8')) as {
    rules: { key: string; query: string[] }[];
  }
).rules;

/** .NET's log levels, in order (Microsoft.Extensions.Logging.LogLevel). */
const levels = ['Trace', 'Debug', 'Information', 'Warning', 'Error', 'Critical', 'None'];

/**
 * The minimum level host.json lets through for a category: the entry with the longest matching
 * prefix wins, `default` when none matches (Microsoft.Extensions.Logging LoggerRuleSelector).
 */
function minimumLevel(category: string): string {
  const matching = Object.keys(hostJson.logging.logLevel)
    .filter((prefix) => prefix !== 'default')
    .filter((prefix) => category === prefix || category.startsWith(`${prefix}.`))
    .sort((a, b) => b.length - a.length);
  return hostJson.logging.logLevel[matching[0] ?? 'default']!;
}

describe('host.json against the log lines the alerts read', () => {
  it('keeps every trace line the alerts count out of sampling, so no alert under-counts under load', async () => {
    const logged = await loggedFields();
    const read = new Set<string>();
    for (const rule of rules) {
      const query = rule.query.join('\n');
      expect(query.trimStart().startsWith('traces') || query.includes('traces |'), rule.key).toBe(
        true,
      );
      for (const [, prefix] of query.matchAll(/message startswith "([a-z ]+) \{"/g))
        read.add(prefix!);
    }
    expect([...read].sort()).toEqual(['invocation', 'outbox backlog', 'timer run']);
    for (const prefix of read) expect(logged.has(prefix), prefix).toBe(true);
    const sampling = hostJson.logging.applicationInsights.samplingSettings;
    const excluded = (sampling.excludedTypes ?? '').split(';').map((type) => type.trim());
    expect(!sampling.isEnabled || excluded.includes('Trace')).toBe(true);
  });

  it("lets the app's lines through at Information: the worker logs them under Function.<name>.User", () => {
    for (const functionName of ['deliverEvents', 'getMe'])
      expect(levels.indexOf(minimumLevel(`Function.${functionName}.User`))).toBeLessThanOrEqual(
        levels.indexOf('Information'),
      );
  });
});

describe("host.json's functionTimeout", () => {
  it('is the one shared/config.ts holds COSMOS_TIMER_DEADLINE_MS under', () => {
    const [hours, minutes, seconds] = hostJson.functionTimeout.split(':').map(Number);
    expect(((hours! * 60 + minutes!) * 60 + seconds!) * 1000).toBe(functionTimeoutMs);
  });
});
