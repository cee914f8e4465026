import * as z from 'zod';
import { degradations, statusFrom } from '../shared/app/operator-status';
import { defineHttp } from '../shared/http/define';
import { timerFunctions } from './timers';

const healthView = z
  .object({
    status: z.enum(['ok', 'degraded', 'unavailable']),
    checks: z.object({
      cosmos: z.enum(['ok', 'unavailable']),
      email: z.string(),
      timers: z.enum(['ok', 'stale', 'unknown']),
      outbox: z.enum(['ok', 'backed-up', 'unknown']),
    }),
    degraded: z.array(z.string()).describe('What is wrong when degraded: ids and names only'),
  })
  .meta({ id: 'Health' });

/**
 * Liveness and Cosmos reachability, for probes and operators (docs/api.md): `degraded` (still
 * 200) when a timer is stale or an outbox is backed up, `unavailable` (503) only when Cosmos
 * cannot be reached. Both looks are cached (app/health.ts): an anonymous flood asks Cosmos at
 * most twice per period.
 */
export const health = defineHttp({
  name: 'health',
  methods: ['GET'],
  route: 'health',
  summary: 'Health of the app and its dependencies',
  tags: ['meta'],
  access: { kind: 'anonymous' },
  responses: {
    200: { description: 'Healthy, or degraded', schema: healthView },
    503: { description: 'Cosmos is unreachable', schema: healthView },
  },
  errors: [],
  async handle({ services }) {
    const email = services.emailSender.name;
    if (!(await services.pingCosmos())) {
      const checks = { cosmos: 'unavailable', email, timers: 'unknown', outbox: 'unknown' };
      return { status: 503, json: { status: 'unavailable', checks, degraded: [] } };
    }
    const documents = await services.operationsSnapshot();
    if (documents === null) {
      const checks = { cosmos: 'ok', email, timers: 'unknown', outbox: 'unknown' };
      return { status: 200, json: { status: 'ok', checks, degraded: [] } };
    }
    const { staleTimers, backedUpOutboxes } = degradations(
      statusFrom(documents, timerFunctions, services),
    );
    const degraded = [
      ...staleTimers.map((name) => `timer ${name} is stale`),
      ...backedUpOutboxes.map((name) => `the ${name} outbox is backed up`),
    ];
    return {
      status: 200,
      json: {
        status: degraded.length > 0 ? 'degraded' : 'ok',
        checks: {
          cosmos: 'ok',
          email,
          timers: staleTimers.length > 0 ? 'stale' : 'ok',
          outbox: backedUpOutboxes.length > 0 ? 'backed-up' : 'ok',
        },
        degraded,
      },
    };
  },
});
