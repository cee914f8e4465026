import { defineConfig } from 'vitest/config';
import { suite } from './vitest.config.mts';

// The suite StrykerJS runs against each mutant (npm run test:mutation): the unit tests and the
// integration tests through the handlers. Left out: tests of the build, the deploy package, the
// local host's processes and the browser pages (they test packaging, not the mutated rules, and
// would run a build or a browser per mutant), the 10,000-request fuzz and the round-trip budgets.
// (Not the contract project either: it reads what a whole run saw.)
export default defineConfig({
  test: {
    ...suite,
    reporters: ['default'],
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    exclude: [
      'test/integration/deploy-package.test.ts',
      'test/integration/packaging.test.ts',
      'test/integration/local-stack.test.ts',
      'test/integration/link-pages.test.ts',
      'test/integration/fuzz.test.ts',
      'test/integration/round-trip-budgets.test.ts',
      'test/integration/embedded-emulator.test.ts',
      'test/unit/readme.test.ts',
      'test/unit/infra.test.ts',
    ],
  },
});
