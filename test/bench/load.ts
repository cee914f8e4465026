import { performance } from 'node:perf_hooks';
import type { CpuMeter } from './child-process';

/** What one load run measured: completed requests per second and latency percentiles. */
export interface Measured {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Requests that failed or answered anything but the expected status. */
  errors: number;
  /** CPU seconds each process used while measured (Linux), to see where the cores went. */
  cpuSeconds?: Record<string, number | null>;
}

export interface LoadSettings {
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

/** Counts the CPU of the processes involved, from the end of the warm-up. */
export type Metered = LoadSettings & { cpu?: CpuMeter };

const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Nearest-rank percentile of latencies in milliseconds. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

function summarise(latencies: number[], errors: number, elapsedMs: number): Measured {
  latencies.sort((a, b) => a - b);
  return {
    rps: round(latencies.length / (elapsedMs / 1000), 1),
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    requests: latencies.length,
    errors,
  };
}

/**
 * The raw baseline's load: `connections` loops, each awaiting one call after the other, for
 * the duration (after a warm-up that is not measured). A call's latency is measured around it
 * with the same clock autocannon uses for the API, and counted only when it succeeds.
 */
export async function runPool(
  settings: Metered,
  call: (iteration: number) => Promise<void>,
): Promise<Measured> {
  let iteration = 0;
  const loop = async (seconds: number, latencies: number[] | null): Promise<number> => {
    const end = performance.now() + seconds * 1000;
    let errors = 0;
    await Promise.all(
      Array.from({ length: settings.connections }, async () => {
        while (performance.now() < end) {
          const started = performance.now();
          try {
            await call(iteration++);
            latencies?.push(performance.now() - started);
          } catch {
            errors += 1;
          }
        }
      }),
    );
    return errors;
  };
  await loop(settings.warmupSeconds, null);
  const latencies: number[] = [];
  const stopCpu = settings.cpu?.();
  const started = performance.now();
  const errors = await loop(settings.durationSeconds, latencies);
  const elapsed = performance.now() - started;
  return withCpu(summarise(latencies, errors, elapsed), stopCpu);
}

function withCpu(
  measured: Measured,
  stopCpu: (() => Record<string, number | null>) | undefined,
): Measured {
  return stopCpu ? { ...measured, cpuSeconds: stopCpu() } : measured;
}

export interface HttpLoad {
  url: string;
  method: 'GET' | 'POST';
  /** One request per entry, each connection cycling through them (e.g. one token each). */
  requests: { path: string; headers: Record<string, string>; body?: string }[];
  expectedStatus: number;
}

interface AutocannonInstance {
  on(
    event: 'response',
    listener: (client: unknown, status: number, bytes: number, ms: number) => void,
  ): void;
  then: Promise<{ duration: number; errors: number; timeouts: number }>['then'];
}

type Autocannon = (options: Record<string, unknown>) => AutocannonInstance;

/**
 * The API's load, from autocannon at the same concurrency as the baseline: latencies are taken
 * from its per-response timings (exact, where its own histogram keeps whole milliseconds) and
 * only for answers with the expected status.
 */
export async function runAutocannon(settings: Metered, load: HttpLoad): Promise<Measured> {
  // A dev dependency, required at run time by the bench only (never bundled).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const autocannon = require('autocannon') as Autocannon;
  const run = async (seconds: number, latencies: number[] | null): Promise<Measured> => {
    let unexpected = 0;
    const instance = autocannon({
      url: load.url,
      connections: settings.connections,
      duration: seconds,
      method: load.method,
      requests: load.requests.map((request) => ({ method: load.method, ...request })),
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status === load.expectedStatus) latencies?.push(ms);
      else unexpected += 1;
    });
    const result = await instance;
    return summarise(
      latencies ?? [],
      unexpected + result.errors + result.timeouts,
      result.duration * 1000, // autocannon's own window, in seconds
    );
  };
  if (settings.warmupSeconds > 0) await run(settings.warmupSeconds, null);
  const stopCpu = settings.cpu?.();
  return withCpu(await run(settings.durationSeconds, []), stopCpu);
}
