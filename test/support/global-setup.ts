import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startCosmosEmulator } from '../../shared/local/embedded';
import { observationsDirVariable, recordRangeQuery } from './contract-observations';

declare module 'vitest' {
  export interface ProvidedContext {
    cosmosEndpoint: string;
  }
}

/**
 * One embedded Cosmos emulator for the whole run (each test file gets its own database), or
 * the account named by COSMOS_ENDPOINT when set.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Where this run's test apps record the problems they answer: the test processes, and the
  // contract project that runs after them, inherit it.
  const observations = mkdtempSync(path.join(os.tmpdir(), 'contract-observations-'));
  process.env[observationsDirVariable] = observations;
  const forget = (): void => rmSync(observations, { recursive: true, force: true });
  if (process.env.COSMOS_ENDPOINT) {
    project.provide('cosmosEndpoint', process.env.COSMOS_ENDPOINT);
    return async () => forget();
  }
  // It records each query its partition key ranges run, for test/contract to show that the
  // suite sent every cross-partition query the app declares through the SDK's multi-range path.
  const emulator = await startCosmosEmulator(0, '127.0.0.1', {
    onRangeQuery: (query, rangeId) => recordRangeQuery(observations, query, rangeId),
  });
  project.provide('cosmosEndpoint', emulator.endpoint);
  return async () => {
    forget();
    await emulator.close();
  };
}
