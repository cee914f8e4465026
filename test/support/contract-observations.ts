import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
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
