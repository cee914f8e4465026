import { InvocationContext } from '@azure/functions';
import { measured } from '../../shared/adapters/invocation-log';
import { loggerFor } from '../../shared/adapters/logger';
import { reportBacklog } from '../../shared/app/backlog';
import { defineTimer } from '../../shared/functions';
import { ManualClock } from './clock';

/**
 * The fields of each JSON line the app logs (`<prefix> {...}`), found by running the code that
 * writes them: `invocation` (every invocation), `timer run` (every timer run) and
 * `outbox backlog` (each delivery timer). The alert rules of infra/ may read only these.
 */
export async function loggedFields(): Promise<Map<string, Set<string>>> {
  const lines: string[] = [];
  const context = new InvocationContext({
    functionName: 'probe',
    invocationId: 'probe-invocation',
    logHandler: (_level, ...args) => lines.push(args.map(String).join(' ')),
  });
  const services = {
    forInvocation: () => services,
    config: { cosmos: { deadlineMs: { timer: 1_000 } } },
    clock: new ManualClock(),
    operations: {
      heartbeat: async () => null,
      save: async () => true,
      counts: async () => ({ waiting: 0, oldestWaitingAt: null, failed: 0, recentFailures: [] }),
    },
  };
  await measured(context, services as never, 1_000, async () => ({ status: 200 }), {
    correlationId: 'c0ffee',
    statusOf: (result) => result.status,
  });
  const timer = defineTimer({
    name: 'probe',
    schedule: '0 */1 * * * *',
    description: 'reports a backlog',
    async handler(_timer, timerContext, timerServices) {
      await reportBacklog(timerServices, loggerFor(timerContext), 'emails', { newlyFailed: 0 });
      return { counted: 0 };
    },
  });
  await timer.handler({} as never, context, services as never);
  const fields = new Map<string, Set<string>>();
  for (const line of lines) {
    const match = /^([a-z][a-z ]*[a-z]) (\{.*\})$/s.exec(line);
    if (!match) continue;
    const keys = Object.keys(JSON.parse(match[2]!) as object);
    const known = fields.get(match[1]!) ?? new Set<string>();
    keys.forEach((key) => known.add(key));
    fields.set(match[1]!, known);
  }
  return fields;
}
