import { httpFunctions } from '../../functions/table';
import type { HttpMethod } from '../../shared/http/define';
import { runAutocannon, runPool, type Measured, type Metered } from './load';
import type { RequestBreakdown } from './request-breakdown';

/** One row of the results: an API route under load, or the raw SDK call it is compared with. */
export interface Scenario {
  name: string;
  rps: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  baseline?: string;
  ratio?: number;
  requests?: number;
  errors?: number;
  cpuSeconds?: Record<string, number | null>;
  /** Why the scenario did not run (e.g. its route is not in this build). */
  skipped?: string;
  /** The host's CPU per request by part, from a profile under the same load (--profile-host). */
  breakdown?: RequestBreakdown;
}

export interface HttpScenario {
  name: string;
  method: 'GET' | 'POST';
  /** The route as in the function table, e.g. `me/customers`; null for a server not the app's. */
  route: string | null;
  /** Each connection cycles through them (e.g. one token per partner). */
  requests: { path: string; headers: Record<string, string>; body?: string }[];
  expectedStatus: number;
  baseline?: Scenario;
}

export const notSelected = 'not selected (--only)';

function hasRoute(method: HttpMethod, route: string): boolean {
  return httpFunctions().some(
    (definition) => definition.route === route && definition.methods.includes(method),
  );
}

function measured(name: string, result: Measured, baseline?: Scenario): Scenario {
  return {
    name,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    ...(baseline?.rps
      ? { baseline: baseline.name, ratio: Number((result.rps / baseline.rps).toFixed(2)) }
      : {}),
    requests: result.requests,
    errors: result.errors,
    ...(result.cpuSeconds ? { cpuSeconds: result.cpuSeconds } : {}),
  };
}

export function skipped(name: string, reason: string, baseline?: Scenario): Scenario {
  return {
    name,
    rps: null,
    p50Ms: null,
    p99Ms: null,
    ...(baseline ? { baseline: baseline.name } : {}),
    skipped: reason,
  };
}

/** Runs the load scenarios the command line selected, each at the same concurrency. */
export class ScenarioRunner {
  constructor(
    private readonly load: Metered,
    readonly wanted: (name: string) => boolean,
    private readonly log: (line: string) => void,
  ) {}

  /** A raw SDK baseline: the call in `connections` loops (see runPool). */
  async raw(name: string, call: (iteration: number) => Promise<void>): Promise<Scenario> {
    if (!this.wanted(name)) return skipped(name, notSelected);
    this.log(`${name}: ${this.load.connections} loops, ${this.load.durationSeconds} s`);
    return measured(name, await runPool(this.load, call));
  }

  /** An API scenario, or why it did not run: not selected, route absent, first call failed. */
  async http(hostUrl: string, scenario: HttpScenario): Promise<Scenario> {
    const { name, method, route, baseline } = scenario;
    if (!this.wanted(name)) return skipped(name, notSelected, baseline);
    if (route !== null && !hasRoute(method, route)) {
      this.log(`${name}: skipped, ${method} /api/${route} not in this build`);
      return skipped(name, 'route not in this build', baseline);
    }
    const first = scenario.requests[0]!;
    const probe = await fetch(`${hostUrl}${first.path}`, {
      method,
      headers: first.headers,
      ...(first.body === undefined ? {} : { body: first.body }),
    });
    const answer = await probe.text();
    if (probe.status !== scenario.expectedStatus) {
      const reason = `answered ${probe.status}, not ${scenario.expectedStatus}: ${answer.slice(0, 300)}`;
      this.log(`${name}: skipped, ${reason}`);
      return skipped(name, reason, baseline);
    }
    this.log(`${name}: ${this.load.connections} connections, ${this.load.durationSeconds} s`);
    const result = await runAutocannon(this.load, {
      url: hostUrl,
      method,
      requests: scenario.requests,
      expectedStatus: scenario.expectedStatus,
    });
    return measured(name, result, baseline);
  }
}
