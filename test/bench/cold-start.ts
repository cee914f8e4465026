import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { FrameReader, timeByModule, type CpuProfile } from './cpu-profile';

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
  /** Its median CPU ms: beside bundleCpuMs, the ratio a busy machine moves least. */
  bareNodeCpuMs: number;
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

/** Only PATH and the settings Azure requires, as on the worker. */
const coldStartEnvironment = {
  PATH: process.env.PATH ?? '',
  COSMOS_ENDPOINT: 'https://account.documents.azure.com:443/',
  // Entra mode, as on Azure: the API's client id and the idempotency secret it requires.
  AUTH_AUDIENCE: '5b1e9f3a-2c4d-4e6f-8a0b-1c2d3e4f5a6b',
  IDEMPOTENCY_SECRET: 'bench-secret-of-at-least-thirty-two-characters',
};

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
      env: coldStartEnvironment,
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
    bareNodeCpuMs: round(median(bare.map((s) => s.cpuMs))),
    runs: options.runs,
    functionsRegistered: options.expectedFunctions,
  };
}

/** Where a cold start's CPU goes: milliseconds per start by source module, the largest first. */
export interface RequireByModule {
  runs: number;
  /** Mean CPU ms per start of the profiled (unminified) copy, all modules together. */
  totalMs: number;
  modules: { module: string; ms: number }[];
}

/**
 * Profiles `runs` cold starts of an unminified copy of the bundle (the same files, the same
 * split) and adds up each sample's time by the source module its code came from, read through
 * the copy's source maps. Node's own start (its bootstrap, the module loader) is one line.
 */
export async function measureRequireByModule(options: {
  entry: string;
  preload: string;
  runs: number;
  top?: number;
}): Promise<RequireByModule> {
  const directory = await mkdtemp(path.join(tmpdir(), 'cold-profile-'));
  try {
    for (let index = 0; index < options.runs; index += 1) {
      await run(
        process.execPath,
        [
          '--cpu-prof',
          '--cpu-prof-dir',
          directory,
          '--cpu-prof-interval',
          '100',
          '--require',
          options.preload,
          '-e',
          `require(${JSON.stringify(options.entry)})`,
        ],
        {
          cwd: path.dirname(options.entry),
          env: coldStartEnvironment,
          maxBuffer: 16 * 1024 * 1024,
        },
      );
    }
    const profiles = await Promise.all(
      (await readdir(directory)).map(
        async (file) =>
          JSON.parse(await readFile(path.join(directory, file), 'utf8')) as CpuProfile,
      ),
    );
    const byModule = timeByModule(profiles, new FrameReader());
    const grouped = new Map<string, number>();
    for (const [module, microseconds] of byModule) {
      const name = /^node:|^\((?!garbage)/.test(module)
        ? 'node (its start, the module loader)'
        : module;
      grouped.set(name, (grouped.get(name) ?? 0) + microseconds);
    }
    const perRun = (microseconds: number): number =>
      round(microseconds / 1000 / profiles.length, 2);
    const sorted = [...grouped].sort((a, b) => b[1] - a[1]);
    const top = options.top ?? 15;
    const rest = sorted.slice(top).reduce((sum, [, microseconds]) => sum + microseconds, 0);
    return {
      runs: profiles.length,
      totalMs: perRun([...grouped.values()].reduce((sum, value) => sum + value, 0)),
      modules: [
        ...sorted
          .slice(0, top)
          .map(([module, microseconds]) => ({ module, ms: perRun(microseconds) })),
        ...(rest > 0 ? [{ module: `${sorted.length - top} other modules`, ms: perRun(rest) }] : []),
      ],
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
