import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The problem codes each operation answered during a test run. Every test app records them
 * (test/support/app.ts); test/contract reads them once every other test file has run (its
 * project runs last, vitest.config.mts), to prove that each code an operation declares is one
 * it answers. The directory is made per run by test/support/global-setup.ts.
 */
export const observationsDirVariable = 'CONTRACT_OBSERVATIONS_DIR';

const seen = new Set<string>();

/** Records that `operationId` answered `code` (once per process and pair). */
export function recordProblem(operationId: string, code: string): void {
  const dir = process.env[observationsDirVariable];
  const line = JSON.stringify([operationId, code]);
  if (!dir || seen.has(line)) return;
  seen.add(line);
  appendFileSync(path.join(dir, `${process.pid}.jsonl`), `${line}\n`);
}

/** Every (operation, code) pair any test process recorded in this run. */
export function readObservations(dir: string): Map<string, Set<string>> {
  const answered = new Map<string, Set<string>>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.jsonl'))) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n').filter(Boolean)) {
      const [operationId, code] = JSON.parse(line) as [string, string];
      answered.set(operationId, (answered.get(operationId) ?? new Set()).add(code));
    }
  }
  return answered;
}

/** The file, beside the problems, where the suite's Cosmos stand-in records its ranges' queries. */
const rangeQueriesFile = 'range-queries.ndjson';

/**
 * Records that a partition key range of the suite's stand-in ran `query` (as the app wrote it,
 * before its plan), once per query and range. Called by the stand-in (global-setup.ts).
 */
export function recordRangeQuery(dir: string, query: string, rangeId: string): void {
  const line = JSON.stringify([query, rangeId]);
  if (seen.has(line)) return;
  seen.add(line);
  appendFileSync(path.join(dir, rangeQueriesFile), `${line}\n`);
}

/**
 * The ranges each query was sent to in this run, or null when no stand-in recorded them (the
 * run went to the account COSMOS_ENDPOINT names).
 */
export function readRangeQueries(dir: string): Map<string, Set<string>> | null {
  const file = path.join(dir, rangeQueriesFile);
  if (!existsSync(file)) return null;
  const sent = new Map<string, Set<string>>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const [query, rangeId] = JSON.parse(line) as [string, string];
    sent.set(query, (sent.get(query) ?? new Set()).add(rangeId));
  }
  return sent;
}
