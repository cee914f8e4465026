import { spawn, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * The embedded Cosmos DB emulator (@vercel/cosmosdb-server over HTTP). Its gaps: a
 * transactional batch is applied operation by operation (only a refused first operation is
 * atomic), queries scan the whole container, TTL is not enforced, and data lives in memory.
 */
export async function startCosmosEmulator(
  port: number,
  hostname = '127.0.0.1',
): Promise<{ endpoint: string; close(): Promise<void> }> {
  // Required at run time only: a dev dependency, never part of the deployed bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHttpServer } = require('@vercel/cosmosdb-server') as {
    createHttpServer: (options?: { keepAlive?: boolean }) => Server;
  };
  // Without keepAlive it answers every request with Connection: close, so each Cosmos call
  // paid a new TCP connection; Cosmos DB itself keeps them open, as the SDK expects.
  const server = createHttpServer({ keepAlive: true });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${hostname}:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Azurite for AzureWebJobsStorage, started with --disableTelemetry (it phones home otherwise). */
export function startAzurite(
  location: string,
  onExit: (code: number | null) => void,
): ChildProcess {
  const entry = require.resolve('azurite/dist/src/azurite.js');
  const child = spawn(
    process.execPath,
    [
      entry,
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--location',
      path.resolve(location),
      '--blobHost',
      '127.0.0.1',
      '--queueHost',
      '127.0.0.1',
      '--tableHost',
      '127.0.0.1',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  child.on('exit', onExit);
  return child;
}
