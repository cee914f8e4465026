import * as z from 'zod';
import { degradations, statusFrom } from '../shared/app/operator-status';
import type { Services } from '../shared/app/services';
import { isOperator, type Principal } from '../shared/domain/principal';
import { defineHttp } from '../shared/http/define';
import { timerFunctions } from './timers';

const word = z.enum(['ok', 'degraded', 'down']);

const healthView = z
  .object({
    status: word,
    /** Words only: anyone may ask, so no adapter, timer or outbox is named here. */
    checks: z.object({ cosmos: z.enum(['ok', 'down']), email: z.enum(['ok', 'degraded']) }),
    details: z
      .object({
        emailAdapter: z.string(),
        timers: z.enum(['ok', 'stale', 'unknown']),
        outbox: z.enum(['ok', 'backed-up', 'unknown']),
        degraded: z.array(z.string()).describe('What is wrong when degraded: ids and names only'),
      })
      .optional()
      .describe("For an operator's token only: what is wrong, and the email adapter"),
  })
  .meta({ id: 'Health' });

type Health = z.infer<typeof healthView>;
type Details = NonNullable<Health['details']>;

const answer = (status: 200 | 503, health: Health, details: Details | null) => ({
  status,
  json: details ? { ...health, details } : health,
});

/**
 * Liveness and Cosmos reachability, for probes and operators (docs/api.md): `degraded` (still
 * 200) when a timer is stale or an outbox is backed up, `down` (503) only when Cosmos cannot
 * be reached. Anonymous callers get words only; an operator's token also gets what is wrong and
 * the email adapter. Both looks are cached (app/health.ts): an anonymous flood asks Cosmos at
 * most twice per period.
 */
export const health = defineHttp({
  name: 'health',
  methods: ['GET'],
  route: 'health',
  summary: 'Health of the app and its dependencies (details for operators)',
  tags: ['meta'],
  access: { kind: 'anonymous' },
  responses: {
    200: { description: 'Healthy, or degraded', schema: healthView },
    503: { description: 'Cosmos is unreachable', schema: healthView },
  },
  errors: [],
  async handle({ principal, services }) {
    const operator = isOperatorOf(services, principal);
    const emailAdapter = services.emailSender.name;
    if (!(await services.pingCosmos())) {
      return answer(
        503,
        { status: 'down', checks: { cosmos: 'down', email: 'ok' } },
        operator ? { emailAdapter, timers: 'unknown', outbox: 'unknown', degraded: [] } : null,
      );
    }
    const documents = await services.operationsSnapshot();
    if (documents === null) {
      return answer(
        200,
        { status: 'ok', checks: { cosmos: 'ok', email: 'ok' } },
        operator ? { emailAdapter, timers: 'unknown', outbox: 'unknown', degraded: [] } : null,
      );
    }
    const { staleTimers, backedUpOutboxes } = degradations(
      statusFrom(documents, timerFunctions, services),
    );
    const degraded = [
      ...staleTimers.map((name) => `timer ${name} is stale`),
      ...backedUpOutboxes.map((name) => `the ${name} outbox is backed up`),
    ];
    return answer(
      200,
      {
        status: degraded.length > 0 ? 'degraded' : 'ok',
        checks: { cosmos: 'ok', email: backedUpOutboxes.includes('emails') ? 'degraded' : 'ok' },
      },
      operator
        ? {
            emailAdapter,
            timers: staleTimers.length > 0 ? 'stale' : 'ok',
            outbox: backedUpOutboxes.length > 0 ? 'backed-up' : 'ok',
            degraded,
          }
        : null,
    );
  },
});

function isOperatorOf(services: Services, principal: Principal | null): boolean {
  return (
    principal !== null && isOperator(principal, services.config.auth.operatorTenantId, ['Operator'])
  );
}
