import type { TestProject } from 'vitest/node';
import { startCosmosEmulator } from '../../shared/local/embedded';

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
  if (process.env.COSMOS_ENDPOINT) {
    project.provide('cosmosEndpoint', process.env.COSMOS_ENDPOINT);
    return async () => undefined;
  }
  const emulator = await startCosmosEmulator(0);
  project.provide('cosmosEndpoint', emulator.endpoint);
  return () => emulator.close();
}
