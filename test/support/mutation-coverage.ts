import { afterAll, beforeAll, inject } from 'vitest';

/**
 * Setup file of the mutation run (vitest.mutation.config.mts), active only in StrykerJS's dry
 * run. Stryker records which tests reach each mutant, and runs only those against it; code
 * reached outside any test is "static" and costs the whole suite per mutant. Our integration
 * files start their app and write their fixtures in `beforeAll`, so without this nearly every
 * mutant of shared/ was static (a whole-suite run each: two days for a complete run).
 *
 * What a file's hooks reach can only change that file's tests (each file has its own app and
 * database), so it is counted as reached by every test of the file: those tests run, with the
 * mutant active from Stryker's own `beforeAll`, which runs before the file's. Code run while
 * modules load stays static, as it must: a mutant there needs the module loaded with it.
 */
interface StrykerNamespace {
  currentTestId?: string | undefined;
  mutantCoverage?: {
    static: Record<string, number>;
    perTest: Record<string, Record<string, number>>;
  };
}

interface TaskLike {
  type: string;
  name: string;
  suite?: TaskLike | undefined;
  file?: { filepath: string } | undefined;
  tasks?: TaskLike[];
}

const mode = inject('mode' as never) as string | undefined;
const globalNamespace = inject('globalNamespace' as never) as string | undefined;

// Stryker's own test id (@stryker-mutator/vitest-runner, stryker-setup.js: toRawTestId).
function testId(test: TaskLike): string {
  const parts = [test.name];
  for (let suite = test.suite; suite; suite = suite.suite) parts.unshift(suite.name);
  return `${test.file?.filepath ?? 'unknown.js'}#${parts.join(' ').trim()}`;
}

function testsOf(task: TaskLike): TaskLike[] {
  if (task.type === 'test') return [task];
  return (task.tasks ?? []).flatMap(testsOf);
}

if (mode === 'dry-run' && globalNamespace) {
  const global = globalThis as unknown as Record<string, StrykerNamespace | undefined>;
  const ns = (global[globalNamespace] ??= {});
  const hooks = `${globalNamespace}#hooks of this file`;
  let current: string | undefined = ns.currentTestId;
  let inFile = false;
  Object.defineProperty(ns, 'currentTestId', {
    configurable: true,
    get: () => current ?? (inFile ? hooks : undefined),
    set: (value: string | undefined) => {
      current = value;
    },
  });
  beforeAll(() => {
    inFile = true;
  });
  // eslint-disable-next-line no-empty-pattern
  afterAll(({}, suite) => {
    inFile = false;
    const perTest = ns.mutantCoverage?.perTest;
    const reached = perTest?.[hooks];
    if (!perTest || !reached) return;
    delete perTest[hooks];
    for (const test of testsOf(suite as unknown as TaskLike)) {
      const coverage = (perTest[testId(test)] ??= {});
      for (const [mutant, hits] of Object.entries(reached)) {
        coverage[mutant] = (coverage[mutant] ?? 0) + hits;
      }
    }
  });
}
