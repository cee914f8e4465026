import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.mts';

// The suite StrykerJS runs against each mutant (npm run test:mutation): the unit tests and the
// integration tests through the handlers. Left out: tests of the build, the deploy package, the
// local host's processes and the browser pages (they test packaging, not the mutated rules, and
// would run a build or a browser per mutant), the 10,000-request fuzz and the round-trip budgets.
export default mergeConfig(
  base,
  defineConfig({
    test: {
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
  }),
);
