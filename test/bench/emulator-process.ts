import { startCosmosEmulator } from '../../shared/local/embedded';
import { announceReady } from './child-process';

/**
 * The embedded Cosmos DB emulator in a process of its own, as for `npm start`: it gets a core
 * to itself instead of sharing the load generator's event loop.
 */
async function main(): Promise<void> {
  const emulator = await startCosmosEmulator(0);
  // Stopped with SIGTERM: exit through Node's own exit, so that a --cpu-prof profile is written.
  process.once('SIGTERM', () => process.exit(0));
  announceReady({ endpoint: emulator.endpoint });
}

void main();
