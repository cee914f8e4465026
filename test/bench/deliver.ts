import { constants } from 'node:fs';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createCosmosClient } from '../../shared/adapters/cosmos/client';
import { ensureDatabase } from '../../shared/adapters/cosmos/schema';
import { deliverEmails, type DeliveryReport } from '../../shared/app/deliver-emails';
import { loadConfig } from '../../shared/config';
import { createServices } from '../../shared/composition';
import type { CpuMeter } from './child-process';
import { benchPartners, seedOutbox } from './seed';

export interface DeliveryThroughput {
  emails: number;
  seconds: number;
  emailsPerSecond: number;
  /** Delivered emails already in the container, which the due query must pass over. */
  deliveredPresent: number;
  /** Seconds the seed took (not part of the figure). */
  seedSeconds: number;
  /** deliverEmails' own report: sent, retried, failed, skipped, throttled, outOfBudget. */
  report: DeliveryReport;
  concurrency: number;
  /** CPU seconds of the app's process (the use case) and of the emulator meanwhile (Linux). */
  cpuSeconds: Record<string, number | null>;
}

/**
 * Where the .eml files go: in memory (/dev/shm) where the machine has it, else the temporary
 * directory. The FileOutbox stands in for ACS, an HTTPS call on Azure: on a VM's disk its file
 * writes took 0.2 to 0.9 ms each from one run to the next, which is the disk's figure, not the
 * delivery's.
 */
async function memoryBackedDirectory(): Promise<string> {
  try {
    await access('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/**
 * The deliverEmails use case as the timer runs it, with the real FileOutbox writing .eml files
 * into a temporary directory in memory, over an outbox seeded with `delivered` sent emails and `pending`
 * ones due now, spread over 1,000 partners, in a database of its own.
 */
export async function benchDeliverEmails(options: {
  endpoint: string;
  devKeyFile: string;
  pending: number;
  delivered: number;
  log: (line: string) => void;
  cpu: CpuMeter;
}): Promise<DeliveryThroughput> {
  const outboxDir = await mkdtemp(path.join(await memoryBackedDirectory(), 'bench-outbox-'));
  const config = loadConfig({
    AUTH_MODE: 'dev',
    COSMOS_ENDPOINT: options.endpoint,
    COSMOS_DATABASE: 'bench-outbox',
    DEV_KEY_FILE: options.devKeyFile,
    EMAIL_OUTBOX_DIR: outboxDir,
    // The bench measures the delivery machinery, not an ACS quota: no budget holds it back.
    EMAIL_SENDS_PER_MINUTE: '100000',
    EMAIL_SENDS_PER_HOUR: '1000000',
    ...(process.env.EMAIL_DELIVERY_CONCURRENCY
      ? { EMAIL_DELIVERY_CONCURRENCY: process.env.EMAIL_DELIVERY_CONCURRENCY }
      : {}),
  });
  const client = await createCosmosClient(config.cosmos);
  try {
    const database = await ensureDatabase(client, config.cosmos.database);
    const now = new Date();
    const seedStarted = performance.now();
    await seedOutbox(
      database.container('partners'),
      benchPartners(1000, now),
      options.delivered,
      options.pending,
      now,
    );
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    options.log(
      `outbox seeded: ${options.delivered} delivered, ${options.pending} pending (${seedSeconds.toFixed(1)} s)`,
    );
    const services = await createServices(config, { cosmosClient: client });
    const logger = {
      info: () => undefined,
      warn: () => undefined,
      error: (message: string) => options.log(message),
    };
    const stopCpu = options.cpu();
    const started = performance.now();
    const report = await deliverEmails(services, logger);
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = stopCpu();
    const files = (await readdir(outboxDir)).filter((name) => name.endsWith('.eml')).length;
    if (files !== report.sent) throw new Error(`${report.sent} sent but ${files} .eml files`);
    return {
      emails: report.sent,
      seconds: Number(seconds.toFixed(2)),
      emailsPerSecond: Number((report.sent / seconds).toFixed(1)),
      deliveredPresent: options.delivered,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      report: { ...report },
      concurrency: config.email.deliveryConcurrency,
      cpuSeconds,
    };
  } finally {
    client.dispose();
    await rm(outboxDir, { recursive: true, force: true });
  }
}
