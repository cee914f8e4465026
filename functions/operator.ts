import { retryFailedEmail } from '../shared/app/email-retry';
import { operatorStatus } from '../shared/app/operator-status';
import { publicItemId } from '../shared/domain/operations';
import { defineHttp } from '../shared/http/define';
import { ok } from '../shared/http/responses';
import {
  emailIdParams,
  operatorStatusView,
  retriedEmailView,
} from '../shared/http/schemas/operations';
import { timerFunctions } from './timers';

/** What operators watch: timers, outboxes and overdue work on one page (docs/api.md). */
export const getOperatorStatus = defineHttp({
  name: 'getOperatorStatus',
  methods: ['GET'],
  route: 'operator/status',
  summary: 'Timers, outbox backlogs and overdue work, for operators',
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator'] },
  responses: {
    200: { description: 'The status', schema: operatorStatusView },
  },
  errors: [],
  async handle({ services }) {
    return ok(await operatorStatus(services, timerFunctions));
  },
});

/** Puts an email that failed for good back in the outbox (docs/api.md). */
export const retryEmail = defineHttp({
  name: 'retryEmail',
  methods: ['POST'],
  route: 'operator/emails/{emailId}/retry',
  summary: 'Put an email that failed for good back in the outbox',
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator'] },
  params: emailIdParams,
  responses: {
    200: { description: 'Back in the outbox, due now', schema: retriedEmailView },
  },
  errors: ['not-found'],
  async handle({ params, services }) {
    const email = await retryFailedEmail(services, params.emailId);
    return ok({
      emailId: publicItemId(email.partnerId, email.id),
      status: 'pending',
      dueAt: email.dueAt,
    });
  },
});
