import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { suite } from './vitest.config.mts';

/**
 * Unit tests first: they are fast and decide most mutants of the rules, and StrykerJS stops a
 * mutant's run at its first failing test, so a killed mutant rarely waits for the integration
 * files.
 */
class UnitTestsFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const unit = (file: TestSpecification) => file.moduleId.includes('/test/unit/');
    return [...sorted.filter(unit), ...sorted.filter((file) => !unit(file))];
  }
}

// The suite StrykerJS runs against each mutant (npm run test:mutation): the unit tests and the
// integration tests through the handlers. Left out: tests of the build, the deploy package, the
// local host's processes and the browser pages (they test packaging, not the mutated rules, and
// would run a build or a browser per mutant), the 10,000-request fuzz and the round-trip budgets.
// (Not the contract project either: it reads what a whole run saw.)
//
// One worker runs the files of a mutant's run one after the other without reloading the modules
// (isolate: false): three times faster than a worker per file. Each run still starts a worker of
// its own (vitest stops a shared one when its run ends), so a mutant of code run while modules
// load (a static mutant) is loaded with the mutant active, as Stryker needs.
export default defineConfig({
  test: {
    ...suite,
    reporters: ['default'],
    // Counts what a file's beforeAll reaches as reached by the file's tests (see the file).
    setupFiles: ['test/support/mutation-coverage.ts'],
    isolate: false,
    sequence: { sequencer: UnitTestsFirst },
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    exclude: [
      'test/integration/deploy-package.test.ts',
      'test/integration/packaging.test.ts',
      'test/integration/local-stack.test.ts',
      'test/integration/link-pages.test.ts',
      'test/integration/api-reference.test.ts',
      'test/integration/browser.test.ts',
      'test/integration/fuzz.test.ts',
      'test/integration/round-trip-budgets.test.ts',
      'test/integration/embedded-emulator.test.ts',
      'test/unit/readme.test.ts',
      'test/unit/infra.test.ts',
    ],
  },
});
