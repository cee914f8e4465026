import * as z from 'zod';
import { defineHttp } from '../shared/http/define';

const healthView = z.object({
  status: z.enum(['ok', 'degraded']),
  checks: z.object({ cosmos: z.enum(['ok', 'unavailable']), email: z.string() }),
});

/** Liveness and Cosmos reachability, for probes and operators (docs/api.md). */
export const health = defineHttp({
  name: 'health',
  methods: ['GET'],
  route: 'health',
  summary: 'Health of the app and its dependencies',
  tags: ['meta'],
  access: { kind: 'anonymous' },
  responses: {
    200: { description: 'Healthy', schema: healthView },
    503: { description: 'Cosmos is unreachable', schema: healthView },
  },
  async handle({ services }) {
    const cosmos = (await services.pingCosmos()) ? 'ok' : 'unavailable';
    const body = {
      status: cosmos === 'ok' ? 'ok' : 'degraded',
      checks: { cosmos, email: services.emailSender.name },
    };
    return { status: cosmos === 'ok' ? 200 : 503, json: body };
  },
});
