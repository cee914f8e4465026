import { functionTable } from '../../functions/table';
import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/composition';
import { startLocalHost } from '../../shared/local/host';
import { announceReady } from './child-process';

/**
 * The app as the bench calls it: the esbuild bundle of the function table behind the project's
 * local host, configured from the environment like `npm start`, with timers left to the bench
 * (a timer firing mid-scenario would be noise). Only errors are logged.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const services = await createServices(config);
  const host = await startLocalHost({
    table: functionTable,
    services,
    port: 0,
    runTimers: false,
    log: (entry) => {
      if (entry.level === 'error' || entry.level === 'critical')
        console.error(`[${entry.level}] ${entry.functionName}: ${entry.message}`);
    },
  });
  // Closed, then exited, on the bench's SIGTERM: a CPU profile (--cpu-prof) is written at exit.
  process.once('SIGTERM', () => void host.close().then(() => process.exit(0)));
  announceReady({ url: host.url });
}

void main();
