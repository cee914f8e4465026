import * as z from 'zod';

const guidText = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

/** An outbox item's public id: its partner's id, a dot, its own id (it names its partition). */
export const outboxItemId = z
  .string()
  .regex(new RegExp(`^${guidText}\\.[A-Za-z0-9-]{1,64}$`), {
    error: 'must be an email id as the status page gives it: <partnerId>.<id>',
  })
  .transform((value) => {
    const dot = value.indexOf('.');
    return `${value.slice(0, dot).toLowerCase()}${value.slice(dot)}`;
  })
  .meta({ example: '11111111-1111-1111-1111-111111111111.8a3f5b8e-3c1d-4f2a-9b7e-2d4c6e8f0a1b' });

export const emailIdParams = z.object({ emailId: outboxItemId });

const timestamp = z.iso.datetime();

const failedItem = z.object({
  id: z.string().meta({ description: 'What the retry route takes: <partnerId>.<id>' }),
  kind: z.string(),
  failedAt: timestamp.nullable(),
});

const backlogView = z.object({
  pending: z.number().int().min(0),
  failed: z.number().int().min(0),
  oldestPendingAgeSeconds: z.number().int().min(0).nullable(),
  reportedAt: timestamp.nullable().meta({ description: 'When the delivery timer counted it' }),
  recentFailures: z.array(failedItem),
});

const summaryValue = z.union([z.number(), z.boolean(), z.string(), z.null()]);

export const operatorStatusView = z
  .object({
    timers: z.array(
      z.object({
        name: z.string(),
        lastRunAt: timestamp.nullable(),
        lastSuccessAt: timestamp.nullable(),
        lastOutcome: z.enum(['succeeded', 'failed']).nullable(),
        lastSummary: z.record(z.string(), summaryValue).nullable(),
        stale: z.boolean(),
      }),
    ),
    emails: backlogView,
    events: backlogView.extend({
      endpointsFailing: z.number().int().min(0).meta({
        description:
          "Webhook endpoints whose deliveries wait for a retry: each partner's own matter, counted apart from the backlog",
      }),
    }),
    enrollmentsPastReviewWindow: z.number().int().min(0).nullable(),
    incentiveInvitationsOverdue: z.number().int().min(0).nullable(),
    partnersWithoutMpnEmail: z.number().int().min(0).nullable(),
  })
  .meta({ id: 'Status', description: 'Timers, outbox backlogs and overdue work, for operators' });

export const retriedEmailView = z
  .object({ emailId: z.string(), status: z.literal('pending'), dueAt: timestamp })
  .meta({ id: 'RetriedEmail', description: 'An email back in the outbox' });
