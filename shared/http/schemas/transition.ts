import * as z from 'zod';
import { stepStatuses, transitionSteps, waitingParties } from '../../domain/transition';
import { funnelStages } from '../../domain/transition-report';
import { isoTimestamp, pageQuery } from './common';

const count = z.number().int();

/** GET /api/me/transition (docs/api.md): each step of the partner's transition, and its counts. */
export const transitionView = z
  .object({
    partnerId: z.string(),
    companyName: z.string(),
    steps: z.array(
      z.object({
        step: z.enum(transitionSteps),
        status: z.enum(stepStatuses),
        at: isoTimestamp.optional().describe('When the step was done'),
        dueBy: isoTimestamp.optional().describe('When the step is due'),
        waitingOn: z.enum(waitingParties).optional(),
        detail: z.string().describe("Plain words, in the language of the partner's emails"),
        action: z
          .object({
            method: z.enum(['GET', 'POST', 'PUT']),
            path: z.string().describe('Under the API root; {customerId} names any customer'),
            summary: z.string(),
          })
          .optional(),
      }),
    ),
    next: z.enum(transitionSteps).nullable().describe('The first step that is `todo`, if any'),
    counts: z.object({
      providers: count,
      customers: z.object({ directBill: count, extendedToProvider: count, indirect: count }),
      subscriptions: z.object({ directBillActive: count, inTransfer: count, transferred: count }),
    }),
  })
  .meta({
    id: 'Transition',
    description: "Each step of the partner's transition, what it waits on, and what to do next",
  });

export const pipelineQuery = pageQuery;

/** GET /api/me/reseller-pipeline (docs/api.md). */
export const pipelineView = z
  .object({
    invited: z.array(
      z.object({
        invitationId: z.string(),
        mpnId: z.string(),
        email: z.string(),
        sentAt: isoTimestamp,
        expiresAt: isoTimestamp,
      }),
    ),
    resellers: z.array(
      z.object({
        resellerId: z.string(),
        companyName: z.string(),
        status: z.enum(['active', 'ended']),
        since: isoTimestamp,
        customersExtended: count,
        transfersPending: count,
        transfersCompleted: count,
        lastActivityAt: isoTimestamp,
      }),
    ),
    continuationToken: z.string().nullable(),
  })
  .meta({
    id: 'ResellerPipeline',
    description: "A provider's open invitations and a page of its resellers, with what each moved",
  });

/** At most this many days in one report (a year, leap day included). */
export const maxReportDays = 366;

const day = z.iso.date({ error: 'must be a date YYYY-MM-DD that exists' });

/** `?from=&to=`: dates YYYY-MM-DD (UTC days, both included), at most 366 days. */
export const transitionReportQuery = z
  .strictObject({ from: day, to: day })
  .refine(({ from, to }) => from <= to, { message: 'must not be before from', path: ['to'] })
  .refine(
    ({ from, to }) =>
      from > to || (Date.parse(to) - Date.parse(from)) / 86_400_000 + 1 <= maxReportDays,
    { message: `must be at most ${maxReportDays} days after from, counting both`, path: ['to'] },
  );

/** GET /api/operator/reports/transitions (docs/api.md). */
export const transitionReportView = z
  .object({
    from: z.string(),
    to: z.string(),
    funnel: z.object(
      Object.fromEntries(funnelStages.map((stage) => [stage, count])) as {
        [S in (typeof funnelStages)[number]]: typeof count;
      },
    ),
    timeToApprovalHours: z.object({
      p50: z.number().nullable(),
      p90: z.number().nullable(),
      max: z.number().nullable(),
    }),
    pastReviewWindow: count,
    stuck: z.array(
      z.object({
        partnerId: z.string(),
        companyName: z.string(),
        step: z.enum(transitionSteps),
        since: isoTimestamp,
      }),
    ),
  })
  .meta({
    id: 'TransitionReport',
    description: 'The funnel, time to approval and stuck partners over a period, for operators',
  });
