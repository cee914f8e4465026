import type { z } from 'zod';
import type { Versioned } from '../app/ports';
import { navigation, partnerType, type Partner } from '../domain/partner';
import type { AuditEvent } from '../domain/audit';
import type { Enrollment } from '../domain/enrollment';
import { incentivePrograms, mayEnroll, type IncentiveProgram } from '../domain/incentives';
import type { activityItemView, enrollmentView, queueItemView } from './schemas/enrollment';
import type { incentiveView } from './schemas/incentives';
import type { partnerView } from './schemas/partners';

/** A partner as the API shows it (docs/api.md GET /api/me). */
export function toPartnerView({
  value: partner,
  etag,
}: Versioned<Partner>): z.input<typeof partnerView> {
  return {
    partnerId: partner.partnerId,
    companyName: partner.companyName,
    mpnId: partner.mpnId,
    mpnVerified: partner.mpnVerified,
    mpnAccountEmail: partner.mpnAccountEmail,
    country: partner.country,
    profile: partner.profile,
    partnerType: partnerType(partner),
    programs: {
      directBill: partner.programs.directBill,
      ...(partner.programs.indirectProvider
        ? { indirectProvider: partner.programs.indirectProvider }
        : {}),
      indirectReseller: { status: partner.enrollment.status },
    },
    navigation: navigation(partner),
    createdAt: partner.createdAt,
    updatedAt: partner.updatedAt,
    etag,
  };
}

export function toEnrollmentView(enrollment: Enrollment): z.input<typeof enrollmentView> {
  return {
    status: enrollment.status,
    submittedAt: enrollment.submittedAt,
    approvedAt: enrollment.approvedAt,
    activatedAt: enrollment.activatedAt,
    rejectedAt: enrollment.rejectedAt,
    rejectedReason: enrollment.rejectedReason,
    escalatedAt: enrollment.escalatedAt,
    primaryContact: enrollment.form?.primaryContact ?? null,
    agreement: enrollment.agreement,
    history: enrollment.history,
  };
}

export function toQueueItemView(partner: Partner): z.input<typeof queueItemView> {
  const { form } = partner.enrollment;
  return {
    partnerId: partner.partnerId,
    companyName: partner.companyName,
    mpnId: partner.mpnId,
    mpnVerified: partner.mpnVerified,
    country: partner.country,
    status: partner.enrollment.status,
    submittedAt: partner.enrollment.submittedAt,
    escalatedAt: partner.enrollment.escalatedAt,
    reviewedDetails: form?.reviewedDetails ?? null,
    primaryContact: form?.primaryContact ?? null,
  };
}

export function toActivityView(event: AuditEvent): z.input<typeof activityItemView> {
  return {
    id: event.id,
    at: event.at,
    actor: event.actor,
    action: event.action,
    from: event.from,
    to: event.to,
    reason: event.reason,
  };
}

/** docs/api.md GET /api/me/incentives: both programs, each with its own status (docs/rules.md section 10). */
export function toIncentiveViews(partner: Partner): z.input<typeof incentiveView>[] {
  return incentivePrograms.map((program) => toIncentiveView(partner, program));
}

export function toIncentiveView(
  partner: Partner,
  program: IncentiveProgram,
): z.input<typeof incentiveView> {
  const { indirectReseller, directBill } = partner.incentives;
  const invitedAt = program === 'indirect-reseller' ? indirectReseller.invitedAt : null;
  const { status, enrolledAt } = program === 'indirect-reseller' ? indirectReseller : directBill;
  return {
    program,
    status,
    ...(invitedAt === null ? {} : { invitedAt }),
    ...(enrolledAt === null ? {} : { enrolledAt }),
    canEnroll: mayEnroll(partner.incentives, program, { directBill: partner.programs.directBill }),
  };
}
