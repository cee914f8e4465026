import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ColdStart {
  /** Median ms from the process's start to every function registered: the esbuild bundle. */
  bundleMs: number;
  /** The same for the unbundled tsc output (dist-tsc/), requiring node_modules file by file. */
  unbundledMs: number;
  speedup: number;
  /** Median CPU ms (user + system) of the same runs: steadier than wall time on a busy machine. */
  bundleCpuMs: number;
  unbundledCpuMs: number;
  /** Median ms of the require() alone, without node's own start. */
  bundleRequireMs: number;
  unbundledRequireMs: number;
  /** Median ms of a bare `node -e 0` to the same point: what neither can go below. */
  bareNodeMs: number;
  runs: number;
  functionsRegistered: number;
}

interface Sample {
  ms: number;
  requireMs: number;
  cpuMs: number;
  registered: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const round = (value: number, digits = 1): number => Number(value.toFixed(digits));

/**
 * One fresh node process that loads `entry` as the Functions worker does (the preload stands in
 * for @azure/functions-core and records each registration), then reports the time since the
 * process started (performance.now(): its time origin is the process's start) and its CPU
 * time. The environment holds only PATH and the two settings Azure requires, as on the worker:
 * no NODE_OPTIONS or NODE_EXTRA_CA_CERTS from the shell, which would slow both alike.
 */
async function sample(entry: string | null, preload: string): Promise<Sample> {
  const report =
    "const c = process.cpuUsage(), t = performance.now(); process.stdout.write('@@COLD ' + t + ' ' + (t - t0) + ' ' + (c.user + c.system) / 1000 + '\\n')";
  const script = `const t0 = performance.now(); ${entry === null ? '' : `require(${JSON.stringify(entry)}); `}${report}`;
  const { stdout } = await run(
    process.execPath,
    [...(entry === null ? [] : ['--require', preload]), '-e', script],
    {
      cwd: entry === null ? process.cwd() : path.dirname(entry),
      env: {
        PATH: process.env.PATH ?? '',
        COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
        // Entra mode, as on Azure: the API's client id and the idempotency secret it requires.
        AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
        IDEMPOTENCY_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
      },
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const timing = /@@COLD ([\d.]+) ([\d.]+) ([\d.]+)/.exec(stdout);
  if (!timing) throw new Error(`no timing from ${entry}: ${stdout.slice(0, 500)}`);
  const registrations = stdout.split('@@REGISTRATIONS@@')[1];
  return {
    ms: Number(timing[1]),
    requireMs: Number(timing[2]),
    cpuMs: Number(timing[3]),
    registered: registrations ? (JSON.parse(registrations) as unknown[]).length : 0,
  };
}

/** Interleaves bundle, unbundled and bare runs so a busy moment weighs on all three alike. */
export async function measureColdStart(options: {
  bundle: string;
  unbundled: string;
  preload: string;
  runs: number;
  expectedFunctions: number;
}): Promise<ColdStart> {
  const bundle: Sample[] = [];
  const unbundled: Sample[] = [];
  const bare: Sample[] = [];
  await sample(options.bundle, options.preload); // file system cache, like a warm worker image
  await sample(options.unbundled, options.preload);
  for (let index = 0; index < options.runs; index += 1) {
    bundle.push(await sample(options.bundle, options.preload));
    unbundled.push(await sample(options.unbundled, options.preload));
    bare.push(await sample(null, options.preload));
  }
  for (const [name, samples] of [
    ['bundle', bundle],
    ['unbundled', unbundled],
  ] as const) {
    const wrong = samples.find((s) => s.registered !== options.expectedFunctions);
    if (wrong) {
      throw new Error(
        `${name} registered ${wrong.registered} functions, not ${options.expectedFunctions}`,
      );
    }
  }
  const bundleMs = median(bundle.map((s) => s.ms));
  const unbundledMs = median(unbundled.map((s) => s.ms));
  return {
    bundleMs: round(bundleMs),
    unbundledMs: round(unbundledMs),
    speedup: round(unbundledMs / bundleMs, 2),
    bundleCpuMs: round(median(bundle.map((s) => s.cpuMs))),
    unbundledCpuMs: round(median(unbundled.map((s) => s.cpuMs))),
    bundleRequireMs: round(median(bundle.map((s) => s.requireMs))),
    unbundledRequireMs: round(median(unbundled.map((s) => s.requireMs))),
    bareNodeMs: round(median(bare.map((s) => s.ms))),
    runs: options.runs,
    functionsRegistered: options.expectedFunctions,
  };
}
