import { defineConfig } from 'vitest/config';

/** The suite: unit and integration tests (one Cosmos emulator for the run, global-setup.ts). */
export const suite = {
  include: ['test/**/*.test.ts'],
  exclude: ['test/contract/**'],
  globalSetup: ['test/support/global-setup.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      { test: { name: 'suite', ...suite, sequence: { groupOrder: 0 } } },
      // After every other file: what the whole suite saw of each operation (test/contract).
      {
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          pool: 'forks',
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
