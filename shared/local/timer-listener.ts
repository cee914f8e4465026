import type { Timer } from '@azure/functions';
import { Cron } from 'croner';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A timer trigger's schedule as the Functions host keeps it: TimerListener and ScheduleMonitor
 * of azure-webjobs-sdk-extensions (src/WebJobs.Extensions/Extensions/Timers/, read at 2e7550f7).
 * Schedule monitoring is on by default (TimerTriggerAttribute.cs:28, UseMonitor); the host stores
 * each timer's status (last run, next occurrence) in AzureWebJobsStorage, here in a file.
 */
export interface ScheduleStatus {
  last: Date;
  next: Date;
  lastUpdated: Date;
}

/** DateTime.MinValue: "never", as ScheduleStatus records it. */
export const never = new Date('0001-01-01T00:00:00.000Z');

export interface ScheduleStore {
  get(timer: string): Promise<ScheduleStatus | null>;
  set(timer: string, status: ScheduleStatus): Promise<void>;
}

/** One JSON file per timer, like the extension's FileSystemScheduleMonitor. */
export function fileScheduleStore(directory: string): ScheduleStore {
  const file = (timer: string): string => path.join(directory, `${timer}.status.json`);
  return {
    async get(timer) {
      try {
        const stored = JSON.parse(await readFile(file(timer), 'utf8')) as Record<string, string>;
        return {
          last: new Date(stored.last!),
          next: new Date(stored.next!),
          lastUpdated: new Date(stored.lastUpdated!),
        };
      } catch {
        return null;
      }
    },
    async set(timer, status) {
      await mkdir(directory, { recursive: true });
      await writeFile(file(timer), `${JSON.stringify(status)}\n`);
    },
  };
}

export interface Schedule {
  /** The first occurrence strictly after `after` (NCrontab's GetNextOccurrence). */
  next(after: Date): Date;
  /** TimerSchedule.ShouldDisableScheduleMonitor (TimerSchedule.cs:106-135). */
  monitored: boolean;
}

/** A six-field NCRONTAB schedule, seconds first, in UTC (Linux hosts run in UTC). */
export function ncrontab(expression: string): Schedule {
  const cron = new Cron(expression, { timezone: 'UTC', paused: true });
  const next = (after: Date): Date => cron.nextRun(after) ?? new Date(8.64e15);
  // Monitoring is off only for a schedule that fires more than once a minute: every field but
  // the seconds a wildcard, and two occurrences within the next minute.
  const wildcards = expression
    .trim()
    .split(/\s+/)
    .slice(1)
    .every((field) => field === '*');
  const now = new Date();
  const subMinute = wildcards && next(next(now)).getTime() - now.getTime() <= 60_000;
  return { next, monitored: !subMinute };
}

/**
 * ScheduleMonitor.CheckPastDueAsync (ScheduleMonitor.cs:48-124): the status to run with, and
 * whether an occurrence was missed while the host was down (then it runs at once, past due).
 * A changed schedule whose next occurrence has passed is recomputed from now, not past due.
 */
export function checkPastDue(
  schedule: Schedule,
  stored: ScheduleStatus | null,
  now: Date,
): { status: ScheduleStatus; changed: boolean; pastDue: boolean } {
  if (stored === null) {
    const status = { last: never, next: schedule.next(now), lastUpdated: now };
    return { status, changed: true, pastDue: false };
  }
  let from =
    stored.last.getTime() !== never.getTime()
      ? stored.last
      : stored.lastUpdated.getTime() !== never.getTime()
        ? stored.lastUpdated
        : now;
  let expected = schedule.next(from);
  let status = stored;
  let changed = false;
  if (stored.next.getTime() !== expected.getTime()) {
    if (now > expected) {
      expected = schedule.next(now);
      from = now;
    }
    status = { last: never, next: expected, lastUpdated: from };
    changed = true;
  }
  return { status, changed, pastDue: now > status.next };
}

/**
 * TimerListener.InvokeJobFunction (TimerListener.cs:324-341): after a run the next occurrence is
 * computed from the run's start, so a run that outlasts its period is followed at once by
 * another (GetNextTimerInterval, :374-386), where croner's `protect` would skip to the next.
 */
export function statusAfterRun(
  schedule: Schedule,
  status: ScheduleStatus,
  startedAt: Date,
  scheduled: boolean,
): ScheduleStatus {
  const at = scheduled && status.next > startedAt ? status.next : startedAt;
  return { last: at, next: schedule.next(at), lastUpdated: at };
}

/** The trigger's payload as the worker gives it to a Node.js handler (camel-cased TimerInfo). */
export function timerInfo(status: ScheduleStatus | null, isPastDue: boolean): Timer {
  return {
    isPastDue,
    schedule: { adjustForDST: true },
    scheduleStatus: (status === null
      ? null
      : {
          last: status.last.toISOString(),
          next: status.next.toISOString(),
          lastUpdated: status.lastUpdated.toISOString(),
        }) as Timer['scheduleStatus'],
  };
}

export interface TimerListener {
  stop(): Promise<void>;
}

/**
 * Runs one timer on its schedule: at start, past due at once if an occurrence was missed
 * (TimerListener.StartAsync, TimerListener.cs:102-150); then at each next occurrence, one run at
 * a time (the invocation lock), the status stored after each run.
 */
export function listen(
  name: string,
  schedule: Schedule,
  store: ScheduleStore | null,
  run: (timer: Timer) => Promise<void>,
): TimerListener {
  const monitor = schedule.monitored ? store : null;
  let stopped = false;
  let timeout: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let status: ScheduleStatus = { last: never, next: schedule.next(new Date()), lastUpdated: never };

  const invoke = async (pastDue: boolean): Promise<void> => {
    const startedAt = new Date();
    await run(timerInfo(monitor ? status : null, pastDue)).catch(() => undefined);
    status = statusAfterRun(schedule, status, startedAt, !pastDue);
    if (monitor) await monitor.set(name, status).catch(() => undefined);
  };
  const startTimer = (): void => {
    if (stopped) return;
    // A Node timer waits at most 2^31-1 ms: a longer wait is taken in steps.
    const wait = Math.min(Math.max(status.next.getTime() - Date.now(), 1), 2 ** 31 - 1);
    timeout = setTimeout(() => {
      if (status.next.getTime() > Date.now()) return startTimer();
      current = invoke(false).finally(startTimer);
    }, wait);
  };

  current = (async () => {
    const now = new Date();
    const checked = monitor
      ? checkPastDue(schedule, await monitor.get(name), now)
      : { status, changed: false, pastDue: false };
    status = checked.status;
    if (monitor && checked.changed) await monitor.set(name, status).catch(() => undefined);
    if (stopped) return;
    if (checked.pastDue) await invoke(true);
    startTimer();
  })();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timeout);
      await current;
    },
  };
}
