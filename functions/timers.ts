import { deliverEmails } from '../shared/app/deliver-emails';
import { deliverEvents } from '../shared/app/deliver-events';
import { escalatePendingEnrollments } from '../shared/app/escalation';
import { sendIncentiveInvitations } from '../shared/app/incentives';
import { expireTransfers } from '../shared/app/transfers';
import { loggerFor } from '../shared/adapters/logger';
import { defineTimer } from '../shared/functions';

/** docs/operations.md, Timers: named exactly so, NCRONTAB with seconds first. */
export const deliverEmailsTimer = defineTimer({
  name: 'deliverEmails',
  schedule: '0 */1 * * * *',
  description: 'Sends every email waiting in the outbox; retries failures with backoff',
  async handler(_timer, context, services) {
    const report = await deliverEmails(services, loggerFor(context));
    if (report.sent + report.retried + report.failed > 0)
      context.log(`deliverEmails: ${JSON.stringify(report)}`);
  },
});

export const deliverEventsTimer = defineTimer({
  name: 'deliverEvents',
  schedule: '0 */1 * * * *',
  description:
    'Publishes waiting events and delivers them to webhook endpoints; retries with backoff; disables endpoints failing for three days',
  async handler(_timer, context, services) {
    const report = await deliverEvents(services, loggerFor(context));
    if (Object.values(report).some((count) => count > 0))
      context.log(`deliverEvents: ${JSON.stringify(report)}`);
  },
});

export const escalatePendingEnrollmentsTimer = defineTimer({
  name: 'escalatePendingEnrollments',
  schedule: '0 0 * * * *',
  description:
    'Emails the reviewers once for each enrollment pending beyond the business-day window',
  async handler(_timer, context, services) {
    const escalated = await escalatePendingEnrollments(services, loggerFor(context));
    context.log(`escalatePendingEnrollments: ${escalated} escalated`);
  },
});

export const sendIncentiveInvitationsTimer = defineTimer({
  name: 'sendIncentiveInvitations',
  schedule: '0 0 * * * *',
  description:
    'Queues the incentives invitation of each partner due, to its MPN account email; logs an error for any overdue',
  async handler(_timer, context, services) {
    const report = await sendIncentiveInvitations(services, loggerFor(context));
    context.log(`sendIncentiveInvitations: ${JSON.stringify(report)}`);
  },
});

export const expireTransfersTimer = defineTimer({
  name: 'expireTransfers',
  schedule: '0 0 * * * *',
  description:
    'Expires transfer requests pending for 30 days, telling both partners; completes any transfer step a crash interrupted',
  async handler(_timer, context, services) {
    const report = await expireTransfers(services, loggerFor(context));
    context.log(`expireTransfers: ${JSON.stringify(report)}`);
  },
});
