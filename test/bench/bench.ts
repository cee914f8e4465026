import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { functionTable } from '../../functions/table';
import { apiScenarios, loadScenarioNames } from './api-scenarios';
import { cpuMeter, startChild, type Child } from './child-process';
import {
  measureColdStart,
  measureRequireByModule,
  type ColdStart,
  type RequireByModule,
} from './cold-start';
import { benchDeliverEmails, type DeliveryThroughput } from './deliver';
import { benchDeliverEvents, type EventDeliveryThroughput } from './deliver-events';
import { goalLines, goals, type Goal } from './goals';
import type { LoadSettings } from './load';
import { notSelected, ScenarioRunner, type Scenario } from './scenarios';

/**
 * `npm run bench`: the API measured against the datastore's own speed, side by side in one run
 * on one machine, and the deliverEmails and cold start figures; one JSON document on stdout
 * and in bench/results.json. Progress goes to stderr.
 */
interface Results {
  machine: Record<string, unknown>;
  settings: LoadSettings & Record<string, number>;
  scenarios: Scenario[];
  deliverEmails: DeliveryThroughput | { skipped: string };
  deliverEvents: EventDeliveryThroughput | { skipped: string };
  coldStart: (ColdStart & { requireByModule?: RequireByModule }) | { skipped: string };
  /** Each figure against its goal (docs/performance.md). */
  goals: Goal[];
}

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    partners: { type: 'string', default: '1000' },
    customers: { type: 'string', default: '10000' },
    'pending-emails': { type: 'string', default: '10000' },
    'delivered-emails': { type: 'string', default: '100000' },
    events: { type: 'string', default: '10000' },
    'event-endpoints': { type: 'string', default: '100' },
    'cold-start-runs': { type: 'string', default: '10' },
    output: { type: 'string', default: 'bench/results.json' },
    /** Comma-separated scenario names (and deliverEmails, deliverEvents, coldStart); all by default. */
    only: { type: 'string' },
    /**
     * Profiles the host under get-me's load (bench/profiles/get-me.cpuprofile) and adds the
     * breakdown of its CPU per request to get-me's row.
     */
    'profile-host': { type: 'boolean', default: false },
    /** Profiles the emulator's process for the whole run (bench/profiles/emulator-*.cpuprofile). */
    'profile-emulator': { type: 'boolean', default: false },
  },
});

const selected = args.only === undefined ? null : new Set(args.only.split(','));
const wanted = (name: string): boolean => selected === null || selected.has(name);
const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};
const bundled = (name: string): string => path.resolve(__dirname, `${name}.js`);
const loadAverage = (): number[] => os.loadavg().map((value) => Number(value.toFixed(2)));

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: loadAverage(),
    startedAt: new Date().toISOString(),
    datastore: '@vercel/cosmosdb-server (embedded emulator: in memory, every query a full scan)',
  };
}

/** Prints the results document and writes it to --output (bench/results.json). */
async function report(parts: {
  started: Record<string, unknown>;
  settings: LoadSettings;
  scenarios: Scenario[];
  deliverEmails?: Results['deliverEmails'];
  deliverEvents?: Results['deliverEvents'];
  coldStart: Results['coldStart'];
}): Promise<void> {
  const measured = {
    scenarios: parts.scenarios,
    deliverEmails: parts.deliverEmails ?? { skipped: notSelected },
    deliverEvents: parts.deliverEvents ?? { skipped: notSelected },
    coldStart: parts.coldStart,
  };
  const results: Results = {
    machine: { ...parts.started, loadAverageAtEnd: loadAverage() },
    settings: {
      ...parts.settings,
      partners: Number(args.partners),
      customers: Number(args.customers),
    },
    ...measured,
    goals: goals(measured),
  };
  for (const line of goalLines(results.goals)) log(line);
  const document = JSON.stringify(results, null, 2);
  await mkdir(path.dirname(path.resolve(args.output)), { recursive: true });
  await writeFile(path.resolve(args.output), `${document}\n`);
  process.stdout.write(`${document}\n`);
  log(`written to ${args.output}`);
}

async function main(): Promise<void> {
  const settings: LoadSettings = {
    connections: Number(args.connections),
    durationSeconds: Number(args.duration),
    warmupSeconds: Number(args.warmup),
  };
  // The processes of the run, by role, as they start: their CPU is counted per scenario.
  const processes: Record<string, number | undefined> = { bench: process.pid };
  const runner = new ScenarioRunner({ ...settings, cpu: cpuMeter(processes) }, wanted, log);
  const started = machine();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-'));
  const devKeyFile = path.join(workDir, 'dev-signing-key.json');
  let emulator: Child<{ endpoint: string }> | undefined;
  try {
    // First, while nothing else of the bench runs.
    let coldStart: (ColdStart & { requireByModule?: RequireByModule }) | { skipped: string } = {
      skipped: notSelected,
    };
    if (wanted('coldStart')) {
      log(`cold start: ${args['cold-start-runs']} runs each of the bundle and the tsc output`);
      coldStart = await measureColdStart({
        // The entry the Functions worker loads (package.json main): source maps on, then the bundle.
        bundle: path.resolve('dist/functions/main.js'),
        unbundled: path.resolve('dist-tsc/functions/index.js'),
        preload: path.resolve('test/support/functions-core-preload.cjs'),
        runs: Number(args['cold-start-runs']),
        expectedFunctions: functionTable.length,
      });
      log('cold start: where its CPU goes, by source module (an unminified copy, profiled)');
      coldStart.requireByModule = await measureRequireByModule({
        entry: path.resolve(__dirname, 'cold/functions/main.js'),
        preload: path.resolve('test/support/functions-core-preload.cjs'),
        runs: Number(args['cold-start-runs']),
      });
    }
    if (![...loadScenarioNames, 'deliverEmails', 'deliverEvents'].some(wanted)) {
      return report({ started, settings, scenarios: [], coldStart });
    }
    emulator = await startChild<{ endpoint: string }>(
      bundled('emulator'),
      { PATH: process.env.PATH },
      args['profile-emulator']
        ? [
            '--cpu-prof',
            '--cpu-prof-dir',
            path.resolve('bench/profiles'),
            '--cpu-prof-name',
            `emulator-${Date.now()}.cpuprofile`,
          ]
        : [],
    );
    processes.emulator = emulator.process.pid;
    log(`emulator at ${emulator.details.endpoint}`);
    const scenarios = await apiScenarios(runner, {
      endpoint: emulator.details.endpoint,
      devKeyFile,
      workDir,
      partners: Number(args.partners),
      customers: Number(args.customers),
      hostScript: bundled('host'),
      floorScript: bundled('floor'),
      profileDir: args['profile-host'] ? path.resolve('bench/profiles') : null,
      onHost: (pid) => (processes.host = pid),
      log,
    });
    let delivery: Results['deliverEmails'] = { skipped: notSelected };
    if (wanted('deliverEmails')) {
      log(
        `deliverEmails: ${args['pending-emails']} pending, ${args['delivered-emails']} delivered`,
      );
      delivery = await benchDeliverEmails({
        endpoint: emulator.details.endpoint,
        devKeyFile,
        cpu: cpuMeter({ app: process.pid, emulator: emulator.process.pid }),
        pending: Number(args['pending-emails']),
        delivered: Number(args['delivered-emails']),
        log,
      });
    }
    let events: Results['deliverEvents'] = { skipped: notSelected };
    if (wanted('deliverEvents')) {
      log(`deliverEvents: ${args.events} events to ${args['event-endpoints']} endpoints`);
      events = await benchDeliverEvents({
        endpoint: emulator.details.endpoint,
        devKeyFile,
        cpu: cpuMeter({ app: process.pid, emulator: emulator.process.pid }),
        events: Number(args.events),
        endpoints: Number(args['event-endpoints']),
        log,
      });
    }
    await report({
      started,
      settings,
      scenarios,
      deliverEmails: delivery,
      deliverEvents: events,
      coldStart,
    });
  } finally {
    await emulator?.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
