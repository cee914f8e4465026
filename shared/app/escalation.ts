import { auditEvent } from '../domain/audit';
import { addBusinessDays, isPendingBeyond } from '../domain/business-days';
import { systemActor } from '../domain/principal';
import { enrollmentEscalatedEmail } from './emails/enrollment-emails';
import { eventOf } from './events';
import { queue } from './outbox';
import { landingLink } from './links';
import { changePartner } from './partners';
import type { Logger } from './ports';
import type { Services } from './services';

/**
 * The escalatePendingEnrollments timer (docs/rules.md section 2): an enrollment still pending after
 * the configured business days gets one email to the reviewers' mailbox. The flag and the email
 * are written in one batch guarded by the partner's etag, so however often or concurrently the
 * timer runs, each submission is escalated once.
 */
export interface EscalationReport {
  escalated: number;
  /** Enrollments pending beyond the review window at this run, escalated or not (status page). */
  enrollmentsPastReviewWindow: number;
}

export async function escalatePendingEnrollments(
  services: Services,
  logger: Logger,
): Promise<EscalationReport> {
  const now = services.clock.now();
  const days = services.config.enrollment.escalationBusinessDays;
  // N business days are at least N calendar days: only those can be overdue. The cutoff only
  // narrows the queries (isPendingBeyond decides), so a shorter window escalates the same.
  // Stryker disable next-line ArithmeticOperator: equivalent, as said above
  const window = days * 24 * 3600 * 1000;
  // Stryker disable next-line ArithmeticOperator: a later cutoff only widens the queries; isPendingBeyond decides
  const cutoff = new Date(now.getTime() - window);
  let escalated = 0;
  for await (const found of services.partners.overduePendingEnrollments(cutoff)) {
    const candidate = found.value;
    const submittedAt = candidate.enrollment.submittedAt;
    if (!submittedAt || !isPendingBeyond(new Date(submittedAt), now, days)) continue;
    const { result } = await changePartner(
      services,
      candidate.partnerId,
      undefined,
      ({ value: partner }) => {
        const enrollment = partner.enrollment;
        if (
          enrollment.status !== 'pending-approval' ||
          enrollment.escalatedAt !== null ||
          !enrollment.submittedAt
        ) {
          return { partner: null, result: false };
        }
        const email = enrollmentEscalatedEmail(
          partner,
          services.config.enrollment.reviewersEmail,
          enrollment.submittedAt,
          days,
          landingLink(services.config, 'enrollment-review'),
        );
        return {
          partner: { ...partner, enrollment: { ...enrollment, escalatedAt: now.toISOString() } },
          also: [
            auditEvent(
              services.ids.newId(),
              partner.partnerId,
              now,
              systemActor,
              'enrollment-escalated',
              {
                reason: `pending since ${enrollment.submittedAt}, over ${days} business days (deadline ${addBusinessDays(new Date(enrollment.submittedAt), days).toISOString()})`,
              },
            ),
            queue(services, partner.partnerId, 'enrollment-escalated', email),
            eventOf(services, partner.partnerId, 'enrollment.escalated', {
              submittedAt: enrollment.submittedAt,
              escalatedAt: now.toISOString(),
            }),
          ],
          result: true,
        };
      },
      found, // read by the query: the batch's etag guard is the only round trip
    );
    if (result) {
      escalated += 1;
      logger.warn(`enrollment of partner ${candidate.partnerId} escalated to the reviewers`, {
        partnerId: candidate.partnerId,
      });
    }
  }
  return { escalated, enrollmentsPastReviewWindow: await countPastWindow(services, cutoff) };
}

/** Enrollments pending beyond the business-day window, escalated or not (docs/rules.md section 12). */
async function countPastWindow(services: Services, cutoff: Date): Promise<number> {
  const now = services.clock.now();
  const days = services.config.enrollment.escalationBusinessDays;
  let count = 0;
  for await (const { value } of services.partners.pendingEnrollmentsSubmittedBefore(cutoff)) {
    const submittedAt = value.enrollment.submittedAt;
    if (submittedAt && isPendingBeyond(new Date(submittedAt), now, days)) count += 1;
  }
  return count;
}
