import type { HttpMethod } from '@azure/functions';
import { functionTable } from './table';

/** What the Functions host is told of one row of the function table when the app starts. */
export type FunctionRegistration =
  | { kind: 'timer'; name: string; schedule: string }
  | { kind: 'http'; name: string; methods: HttpMethod[]; route: string };

/**
 * The function table as the host registers it: names, triggers, routes and schedules, nothing
 * else. The bundle has them computed when it is built (shared/local/build.mjs replaces this module
 * with its value), so a cold start registers every function without evaluating the table: its
 * routes, schemas and use cases load with the first invocation (functions/app.ts).
 */
export const functionRegistrations: readonly FunctionRegistration[] = functionTable.map(
  (definition): FunctionRegistration =>
    definition.kind === 'timer'
      ? { kind: 'timer', name: definition.name, schedule: definition.schedule }
      : {
          kind: 'http',
          name: definition.name,
          methods: [...definition.methods],
          route: definition.route,
        },
);
