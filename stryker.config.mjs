// Mutation testing (npm run test:mutation): StrykerJS changes one place of the code at a time
// and runs the tests that cover it; a mutant that no test notices is a rule no test proves.
// Score, surviving mutants and how to read them: docs/testing.md.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: ['shared/domain/**/*.ts', 'shared/app/**/*.ts'],
  coverageAnalysis: 'perTest',
  // Static mutants (code run while a module loads: tables, constants, schemas) are not run: each
  // would reload the modules and run every test that imports its file. They are reported as
  // ignored (not in the score), counted in docs/testing.md "Scores measured", with the tests that
  // prove those tables instead.
  ignoreStatic: true,
  // Two cores shared with the rest of the machine: one or two test runners, never more.
  concurrency: 2,
  // Generous: other work on the machine slows a run down, and a run that merely took longer
  // than the first one must not count as a mutant killed by a timeout.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  // The first run of the whole suite, on a machine shared with other work: minutes, not five.
  dryRunTimeoutMinutes: 60,
  // A rerun tests only the mutants whose code or covering tests changed since the last run.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // The complete run (docs/testing.md) scored shared/domain 100% and shared/app 94.39%: a run
  // under 94% fails, so a change that leaves mutants unnoticed fails the next run.
  thresholds: { high: 95, low: 94, break: 94 },
  tempDirName: '.stryker-tmp',
  // Not copied into the sandbox: build output, and other runs' sandboxes and reports.
  ignorePatterns: ['.stryker-tmp*', 'reports', 'dist', 'dist-tsc', '.deploy', '.local'],
};
export default config;
