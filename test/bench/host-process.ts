import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
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
  process.on('message', (message: ProfileCommand) => void profile(message));
  announceReady({ url: host.url });
}

/** The bench asks for a CPU profile of a scenario: `start`, then `stop` into a file. */
type ProfileCommand = { profile: 'start' } | { profile: 'stop'; file: string };
let session: Session | undefined;

async function profile(command: ProfileCommand): Promise<void> {
  if (command.profile === 'start') {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
  } else if (session) {
    const { profile: written } = await session.post('Profiler.stop');
    writeFileSync(command.file, JSON.stringify(written));
    session.disconnect();
    session = undefined;
  }
  process.send?.({ profiled: command.profile });
}

void main();
