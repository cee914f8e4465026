import { reportBacklog } from '../shared/app/backlog';
import { deliverEmails } from '../shared/app/deliver-emails';
import { deliverEvents } from '../shared/app/deliver-events';
import { escalatePendingEnrollments } from '../shared/app/escalation';
import { sendIncentiveInvitations } from '../shared/app/incentives';
import { expireTransfers } from '../shared/app/transfers';
import { loggerFor } from '../shared/adapters/logger';
import { defineTimer, type TimerFunctionDefinition } from '../shared/functions';

/**
 * docs/operations.md, Timers: named exactly so, NCRONTAB with seconds first. What a handler
 * returns is its run's summary: logged in its `timer run {...}` line and kept in its heartbeat.
 */
export const deliverEmailsTimer = defineTimer({
  name: 'deliverEmails',
  schedule: '0 */1 * * * *',
  description: 'Sends every email waiting in the outbox; retries failures with backoff',
  async handler(_timer, context, services) {
    const logger = loggerFor(context);
    const report = await deliverEmails(services, logger);
    // The backlog it leaves, for the status page, the health check and the alerts.
    const backlog = await reportBacklog(services, logger, 'emails', { newlyFailed: report.failed });
    return {
      ...report,
      pending: backlog.pending,
      failedForGood: backlog.failed,
      oldestPendingAt: backlog.oldestPendingAt,
    };
  },
});

export const deliverEventsTimer = defineTimer({
  name: 'deliverEvents',
  schedule: '0 */1 * * * *',
  description:
    'Publishes waiting events and delivers them to webhook endpoints; retries with backoff; disables endpoints failing for three days',
  async handler(_timer, context, services) {
    const logger = loggerFor(context);
    const report = await deliverEvents(services, logger);
    // Only the operators' own endpoints alert: a partner's failing endpoint is its own matter.
    const backlog = await reportBacklog(services, logger, 'events', {
      newlyFailed: report.platformFailed,
    });
    return {
      ...report,
      pending: backlog.pending,
      failedForGood: backlog.failed,
      oldestPendingAt: backlog.oldestPendingAt,
      endpointsFailing: backlog.endpointsFailing ?? 0,
    };
  },
});

export const escalatePendingEnrollmentsTimer = defineTimer({
  name: 'escalatePendingEnrollments',
  schedule: '0 0 * * * *',
  description:
    'Emails the reviewers once for each enrollment pending beyond the business-day window',
  async handler(_timer, context, services) {
    return { ...(await escalatePendingEnrollments(services, loggerFor(context))) };
  },
});

export const sendIncentiveInvitationsTimer = defineTimer({
  name: 'sendIncentiveInvitations',
  schedule: '0 0 * * * *',
  description:
    'Queues the incentives invitation of each partner due, to its MPN account email; logs an error for any overdue',
  async handler(_timer, context, services) {
    return { ...(await sendIncentiveInvitations(services, loggerFor(context))) };
  },
});

export const expireTransfersTimer = defineTimer({
  name: 'expireTransfers',
  schedule: '0 0 * * * *',
  description:
    'Expires transfer requests pending for 30 days, telling both partners; completes any transfer step a crash interrupted',
  async handler(_timer, context, services) {
    return { ...(await expireTransfers(services, loggerFor(context))) };
  },
});

/** Every timer of the app, in the function table and on the status page. */
export const timerFunctions: readonly TimerFunctionDefinition[] = [
  deliverEmailsTimer,
  deliverEventsTimer,
  escalatePendingEnrollmentsTimer,
  sendIncentiveInvitationsTimer,
  expireTransfersTimer,
];
