import type { CosmosClient } from '@azure/cosmos';
import { spawn } from 'node:child_process';
import { functionTable } from '../../functions/table';
import { createCosmosClient, isLocalEndpoint } from '../adapters/cosmos/client';
import { ensureDatabase } from '../adapters/cosmos/schema';
import { ConfigError, loadConfig, type Config } from '../config';
import { createServices } from '../composition';
import { startAzurite, startCosmosEmulator } from './embedded';
import { startLocalHost, type LogEntry } from './host';
import { localDefaults } from './settings';

type Stop = () => Promise<void> | void;

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** Starts what the app depends on: the Cosmos emulator unless one answers, and Azurite. */
async function startDependencies(
  env: Record<string, string | undefined>,
  stops: Stop[],
): Promise<{ config: Config; client: CosmosClient }> {
  const endpoint = env.COSMOS_ENDPOINT!;
  if (isLocalEndpoint(endpoint) && endpoint.startsWith('http:') && !(await answers(endpoint))) {
    const emulator = await startCosmosEmulator(Number(new URL(endpoint).port || 80));
    stops.push(() => emulator.close());
    console.log(`cosmos: embedded emulator at ${emulator.endpoint}`);
  } else {
    console.log(`cosmos: ${endpoint}`);
  }
  if (env.AzureWebJobsStorage === 'UseDevelopmentStorage=true') {
    const azurite = startAzurite('.local/azurite', (code) => {
      if (code !== null && code !== 0)
        console.error(`azurite exited with code ${code} (is another one running?)`);
    });
    stops.push(() => void azurite.kill());
    console.log('storage: Azurite for AzureWebJobsStorage');
  }
  const config = loadConfig(env);
  const client = await createCosmosClient({ ...config.cosmos, identity: config.identity });
  await ensureDatabase(client, config.cosmos.database);
  return { config, client };
}

async function serveLocally(
  { config, client }: { config: Config; client: CosmosClient },
  env: Record<string, string | undefined>,
  stops: Stop[],
): Promise<void> {
  const services = await createServices(config, {
    cosmosClient: client,
    announceEmail: (notice) => {
      console.log(`email to ${notice.to}: "${notice.subject}" (${notice.file})`);
      notice.links.forEach((link) => console.log(`  link: ${link}`));
    },
  });
  const host = await startLocalHost({
    table: functionTable,
    services,
    port: Number(env.PORT ?? 7071),
    hostname: env.LOCAL_HOSTNAME ?? '127.0.0.1',
    runTimers: true,
    // As the host keeps each timer's status in AzureWebJobsStorage: a run missed while
    // `npm start` was stopped runs once, past due, when it starts again.
    scheduleStatusDir: '.local/timers',
    ...(env.LOCAL_MASTER_KEY ? { masterKey: env.LOCAL_MASTER_KEY } : {}),
    log: (entry: LogEntry) => {
      const line = `[${entry.level}] ${entry.functionName}: ${entry.message}`;
      (entry.level === 'error' || entry.level === 'critical' ? console.error : console.log)(line);
    },
  });
  stops.unshift(() => host.close());
  const auth =
    config.auth.mode === 'dev'
      ? 'dev (npm run --silent token -- --tenant <tid> --roles GlobalAdmin)'
      : 'entra';
  console.log(`auth: ${auth}`);
  console.log(`email: ${services.emailSender.name}`);
  console.log(`app: http://localhost:${host.port}/api/health`);
}

/**
 * `npm start`: the embedded dependencies, then the app on http://localhost:7071 served by the
 * project's local host. `npm run start:func` (`--func`): the same dependencies, then Core Tools.
 */
async function main(): Promise<void> {
  const env = localDefaults(process.env);
  const stops: Stop[] = [];
  const shutdown = async (code: number): Promise<never> => {
    for (const stop of stops) await stop();
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  try {
    const dependencies = await startDependencies(env, stops);
    if (process.argv.includes('--func')) {
      const func = spawn('func', ['start'], {
        stdio: 'inherit',
        env: { ...process.env, ...env } as NodeJS.ProcessEnv,
      });
      func.on('error', () => {
        console.error('func (Azure Functions Core Tools) is not installed; use npm start instead.');
        void shutdown(1);
      });
      func.on('exit', (code) => void shutdown(code ?? 0));
      return;
    }
    await serveLocally(dependencies, env, stops);
  } catch (error) {
    console.error(
      error instanceof ConfigError ? error.message : error instanceof Error ? error.message : error,
    );
    await shutdown(1);
  }
}

void main();
