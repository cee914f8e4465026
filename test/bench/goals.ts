import type { ColdStart } from './cold-start';
import type { DeliveryThroughput } from './deliver';
import type { EventDeliveryThroughput } from './deliver-events';
import type { Scenario } from './scenarios';

/**
 * The bench's figures against the goals of docs/performance.md. Each is a ratio to a baseline
 * measured in the same run, or a rate, so a slower machine moves both sides alike (rates
 * excepted: they are read with the machine's load beside them).
 */
export interface Goal {
  figure: string;
  value: number | null;
  goal: string;
  /** null when the figure was not measured in this run (--only, a skipped scenario). */
  met: boolean | null;
}

type Skippable<T> = T | { skipped: string };
const measuredOf = <T extends object>(value: Skippable<T>): T | null =>
  'skipped' in value ? null : value;

const round = (value: number): number => Number(value.toFixed(3));

function goal(
  figure: string,
  value: number | null | undefined,
  comparison: '>=' | '<=',
  target: number,
): Goal {
  const known = value === null || value === undefined || !Number.isFinite(value) ? null : value;
  return {
    figure,
    value: known === null ? null : round(known),
    goal: `${comparison} ${target}`,
    met: known === null ? null : comparison === '>=' ? known >= target : known <= target,
  };
}

export function goals(results: {
  scenarios: Scenario[];
  deliverEmails: Skippable<DeliveryThroughput>;
  deliverEvents: Skippable<EventDeliveryThroughput>;
  coldStart: Skippable<ColdStart>;
}): Goal[] {
  const scenario = (name: string): Scenario | undefined =>
    results.scenarios.find((candidate) => candidate.name === name && candidate.rps !== null);
  const getMe = scenario('get-me');
  const raw = scenario('raw-point-read');
  const cold = measuredOf(results.coldStart);
  return [
    goal('get-me rps / raw point read rps', getMe?.ratio, '>=', 0.75),
    goal(
      'get-me p99 / raw point read p99',
      getMe?.p99Ms && raw?.p99Ms ? getMe.p99Ms / raw.p99Ms : null,
      '<=',
      1.2,
    ),
    goal('cold start / bare node', cold ? cold.bundleMs / cold.bareNodeMs : null, '<=', 3),
    // The same in CPU time, which another process's load moves far less than wall time.
    goal(
      'cold start CPU / bare node CPU',
      cold ? cold.bundleCpuMs / cold.bareNodeCpuMs : null,
      '<=',
      3,
    ),
    goal(
      'deliverEmails per second',
      measuredOf(results.deliverEmails)?.emailsPerSecond,
      '>=',
      1000,
    ),
    goal(
      'deliverEvents per second',
      measuredOf(results.deliverEvents)?.eventsPerSecond,
      '>=',
      1000,
    ),
    goal('list-customers rps / raw page query rps', scenario('list-customers')?.ratio, '>=', 0.8),
  ];
}

/** The goals as lines for the bench's progress output. */
export function goalLines(list: Goal[]): string[] {
  const width = Math.max(...list.map((entry) => entry.figure.length));
  return list.map((entry) => {
    const verdict = entry.met === null ? 'not measured' : entry.met ? 'met' : 'MISSED';
    const value = entry.value === null ? '-' : entry.value.toFixed(2);
    return `${entry.figure.padEnd(width)}  ${value.padStart(8)}  goal ${entry.goal.padEnd(7)}  ${verdict}`;
  });
}
