import { auditEvent } from '../domain/audit';
import { isEnrolled } from '../domain/enrollment';
import {
  enrollIn,
  invitationDeadline,
  invitationDueAt,
  isInvitationDue,
  isInvitationOverdue,
  markInvited,
  type IncentiveProgram,
} from '../domain/incentives';
import { unknownLink, type InvitationDocument } from '../domain/link';
import { preferredLanguage, type Partner } from '../domain/partner';
import { actorOf, systemActor, type Principal } from '../domain/principal';
import { incentiveInvitationEmail } from './emails/incentive-emails';
import { eventOf } from './events';
import { queue } from './outbox';
import { findInvitation, openInvitation } from './invitations';
import { changePartner, loadPartner, type PartnerChange } from './partners';
import type { Logger, PartnerDocument, Versioned } from './ports';
import type { Services } from './services';

/** The link kind of the invitation, as in /api/links/incentive-invitations/{token}. */
export const incentiveInvitationLinkKind = 'incentive-invitations';

/**
 * Called with every approval, automatic or by a reviewer, in the approval's own batch: the
 * partner becomes due for the indirect reseller incentives invitation (docs/rules.md section 10).
 */
export function onEnrollmentApproved(services: Services, partner: Partner): Partner {
  const approvedAt = partner.enrollment.approvedAt;
  // Stryker disable next-line ConditionalExpression: an enrollment is approved once (approved only goes to active) and the invitation needs it approved, so at approval the status is always not-invited
  if (approvedAt === null || partner.incentives.indirectReseller.status !== 'not-invited')
    return partner;
  return {
    ...partner,
    incentiveInviteDueAt: invitationDueAt(
      new Date(approvedAt),
      services.config.incentives.inviteDelayDays,
    ),
  };
}

type InvitationOutcome = 'queued' | 'missing-email' | 'nothing-due';

export interface IncentiveInvitationReport {
  queued: number;
  missingEmail: number;
  /** Partners still held for want of an MPN account email, after this run. */
  held: number;
  overdue: number;
}

/**
 * The sendIncentiveInvitations timer (docs/rules.md section 10): queues the invitation of every
 * partner due. The partner's update, the invitation, its audit event and its email are one
 * batch guarded by the partner's etag, so however often or concurrently the timer runs, each
 * partner is invited once. A missing MPN account email and an invitation still not sent 30
 * days after approval are error lines naming the partner, on every run until resolved.
 * Log lines never carry the link: its token is a secret.
 */
export async function sendIncentiveInvitations(
  services: Services,
  logger: Logger,
): Promise<IncentiveInvitationReport> {
  const now = services.clock.now();
  const report: IncentiveInvitationReport = { queued: 0, missingEmail: 0, held: 0, overdue: 0 };
  const seen = new Set<string>();
  for await (const candidate of services.partners.incentiveInvitationsDue(now)) {
    const partnerId = candidate.value.partnerId;
    seen.add(partnerId);
    // The query read the partner: its etag guards the batch, so no second read is needed.
    const { partner, result: outcome } = await changePartner(
      services,
      partnerId,
      undefined,
      ({ value }) => invite(services, value, now),
      candidate,
    );
    const approvedAt = partner.value.enrollment.approvedAt;
    if (outcome === 'queued') {
      report.queued += 1;
      logger.info(`incentives invitation queued for partner ${partnerId}`, { partnerId });
      if (approvedAt !== null && now >= invitationDeadline(new Date(approvedAt))) {
        logger.warn(
          `incentives invitation for partner ${partnerId} queued late, 30 days or more after the approval of ${approvedAt}`,
          { partnerId },
        );
      }
    }
    if (outcome === 'missing-email') {
      report.missingEmail += 1;
      logger.error(
        `incentives invitation for partner ${partnerId} cannot be sent: its master record has no MPN account email; it is held, and goes out on the first run after an operator fills it in`,
        { partnerId },
      );
    }
    reportOverdue(partner.value, now, report, logger);
  }
  // Held partners are out of the due index, but the 30-day alert goes on for them every run.
  for await (const held of services.partners.incentiveInvitationsHeld(now)) {
    report.held += 1;
    if (!seen.has(held.value.partnerId)) reportOverdue(held.value, now, report, logger);
  }
  return report;
}

function reportOverdue(
  partner: Partner,
  now: Date,
  report: IncentiveInvitationReport,
  logger: Logger,
): void {
  const approvedAt = partner.enrollment.approvedAt;
  if (!isInvitationOverdue(partner.incentives, approvedAt, now)) return;
  report.overdue += 1;
  logger.error(
    `incentives invitation for partner ${partner.partnerId} is overdue: approved ${approvedAt}, not sent within 30 days`,
    { partnerId: partner.partnerId, approvedAt },
  );
}

/** Re-checks the version the batch is guarded by (the etag), then writes the invitation. */
function invite(services: Services, partner: Partner, now: Date): PartnerChange<InvitationOutcome> {
  if (
    !isEnrolled(partner.enrollment) ||
    !isInvitationDue(partner.incentives, partner.incentiveInviteDueAt, now)
  ) {
    return { partner: null, result: 'nothing-due' };
  }
  const to = partner.mpnAccountEmail;
  if (!to) {
    // Out of the due index until an operator fills the email in (resumeHeldInvitation): a
    // partner that cannot be invited must not stay first in line and starve the others.
    return {
      partner: {
        ...partner,
        incentiveInviteDueAt: null,
        incentiveInviteHeldSince: now.toISOString(),
        updatedAt: now.toISOString(),
      },
      result: 'missing-email',
    };
  }

  const opened = openInvitation(services, partner.partnerId, 'incentive-invitation', now);
  const invitation: InvitationDocument = {
    ...opened.document,
    language: preferredLanguage(partner),
  };
  const link = `${services.config.links.publicBaseUrl}/api/links/${incentiveInvitationLinkKind}#${opened.token}`;
  const email = incentiveInvitationEmail(
    partner,
    to,
    preferredLanguage(partner),
    link,
    invitation.expiresAt,
  );
  return {
    partner: {
      ...partner,
      incentives: markInvited(partner.incentives, invitation.invitationId, now),
      incentiveInviteDueAt: null,
      updatedAt: now.toISOString(),
    },
    also: [
      invitation,
      auditEvent(services.ids.newId(), partner.partnerId, now, systemActor, 'incentives-invited', {
        from: 'not-invited',
        to: 'invited',
        reason: `indirect reseller incentives invitation ${invitation.invitationId} sent to the MPN account email`,
      }),
      queue(services, partner.partnerId, 'incentive-invitation', email),
      eventOf(services, partner.partnerId, 'incentives.invited', {
        program: 'indirect-reseller',
        invitedAt: now.toISOString(),
      }),
    ],
    result: 'queued',
  };
}

/** GET /api/me/incentives: the partner, whose two programs the view lists. */
export async function readIncentives(services: Services, partnerId: string): Promise<Partner> {
  return (await loadPartner(services, partnerId)).value;
}

/**
 * POST /api/me/incentives/{program}/enrollment: enrolls in one program, leaving the other as it
 * is (docs/rules.md section 10). Enrolling in the indirect reseller incentives uses up the
 * invitation's link, in the same batch. A repeat writes nothing and returns the first time.
 */
export async function enrollInIncentiveProgram(
  services: Services,
  principal: Principal,
  program: IncentiveProgram,
): Promise<{ partner: Partner; created: boolean }> {
  const { partner, result } = await changePartner(
    services,
    principal.tenantId,
    undefined,
    async ({ value: current }): Promise<PartnerChange<boolean>> => {
      const now = services.clock.now();
      const enrolled = enrollIn(
        current.incentives,
        program,
        { directBill: current.programs.directBill },
        now,
      );
      if (!enrolled.first) return { partner: null, result: false };
      const from =
        program === 'indirect-reseller'
          ? current.incentives.indirectReseller.status
          : current.incentives.directBill.status;
      return {
        partner: { ...current, incentives: enrolled.incentives, updatedAt: now.toISOString() },
        also: [
          auditEvent(
            services.ids.newId(),
            current.partnerId,
            now,
            actorOf(principal),
            'incentives-enrolled',
            { from, to: 'enrolled', reason: `${program} incentives` },
          ),
          eventOf(services, current.partnerId, 'incentives.enrolled', {
            program,
            enrolledAt: enrolled.enrolledAt,
          }),
        ],
        replace:
          program === 'indirect-reseller' ? await usedInvitation(services, current, now) : [],
        result: true,
      };
    },
  );
  return { partner: partner.value, created: result };
}

/** The partner's incentive invitation, marked used, when its link is still active. */
async function usedInvitation(
  services: Services,
  partner: Partner,
  now: Date,
): Promise<Versioned<PartnerDocument>[]> {
  const invitationId = partner.incentives.indirectReseller.invitationId;
  if (invitationId === null) return [];
  const found = await services.partners.invitationById<InvitationDocument>(
    partner.partnerId,
    'incentive-invitation',
    invitationId,
  );
  // Stryker disable next-line ConditionalExpression: an incentive invitation is never revoked and only the first indirect-reseller enrollment (which reaches here once) marks it used, so a found one is active
  if (!found || found.value.status !== 'active') return [];
  return [
    {
      value: { ...found.value, status: 'used', usedAt: now.toISOString() },
      etag: found.etag,
    },
  ];
}

export interface IncentiveInvitationDetails {
  companyName: string;
  mpnId: string | null;
  invitedAt: string;
  expiresAt: string;
}

/**
 * POST /api/incentive-invitations/lookup: the invitation behind a link, whatever its state
 * (the page says when it is expired, used or revoked); an unknown link throws not-found.
 */
export async function readIncentiveInvitation(
  services: Services,
  token: string,
): Promise<IncentiveInvitationDetails & { invitation: InvitationDocument }> {
  const { value: invitation } = await findInvitation(services, token, 'incentive-invitation');
  const partner = await services.partners.get(invitation.partnerId);
  if (!partner) throw unknownLink();
  return {
    invitation,
    companyName: partner.value.companyName,
    mpnId: partner.value.mpnId,
    invitedAt: invitation.createdAt,
    expiresAt: invitation.expiresAt,
  };
}
