import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const readyMarker = '@@READY ';

/** Tells the parent the child is serving, and where (one line on stdout). */
export function announceReady(details: Record<string, string>): void {
  process.stdout.write(`${readyMarker}${JSON.stringify(details)}\n`);
}

export interface Child<T> {
  process: ChildProcess;
  details: T;
  /** Sends a message (the child listens on its IPC channel) and waits for the child's answer. */
  ask(message: object): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts a bundled bench process and waits for its ready line. */
export async function startChild<T>(
  script: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Promise<Child<T>> {
  const child = spawn(process.execPath, [...args, script], {
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.channel?.unref();
  const details = await new Promise<T>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith(readyMarker)) resolve(JSON.parse(line.slice(readyMarker.length)) as T);
      else console.error(line);
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with code ${code}`)));
    child.once('error', reject);
  });
  return {
    process: child,
    details,
    ask: (message) =>
      new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.send(message, (error) => error && reject(error));
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

let ticksPerSecond: number | undefined;

/**
 * CPU seconds (user + system) a process has used so far, from /proc on Linux; null elsewhere.
 * Read around a scenario, it shows which process the machine's cores were spent in.
 */
export function cpuSeconds(pid: number): number | null {
  try {
    ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

export type CpuMeter = () => () => Record<string, number | null>;

/** Starts counting the CPU seconds of each named process; the function returned stops. */
export function cpuMeter(processes: Record<string, number | undefined>): CpuMeter {
  return () => {
    const started = Object.entries(processes).map(
      ([name, pid]) => [name, pid, pid === undefined ? null : cpuSeconds(pid)] as const,
    );
    return () =>
      Object.fromEntries(
        started.map(([name, pid, before]) => {
          const after = pid === undefined ? null : cpuSeconds(pid);
          return [
            name,
            before === null || after === null ? null : Number((after - before).toFixed(2)),
          ];
        }),
      );
  };
}
