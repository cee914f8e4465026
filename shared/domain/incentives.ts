import { DomainError } from './errors';

/**
 * The incentive programs (docs/rules.md section 10): the indirect reseller incentives, to which a
 * partner is invited within 30 days of its enrollment's approval, and the direct-bill incentive
 * programs. The two are managed separately: enrolling in one changes nothing in the other.
 */
export const incentivePrograms = ['indirect-reseller', 'direct-bill'] as const;
export type IncentiveProgram = (typeof incentivePrograms)[number];

export const incentiveStatuses = ['not-invited', 'invited', 'enrolled'] as const;
export type IncentiveStatus = (typeof incentiveStatuses)[number];

export interface IndirectResellerIncentives {
  status: 'not-invited' | 'invited' | 'enrolled';
  invitedAt: string | null;
  enrolledAt: string | null;
  /** The public id of the invitation whose email was queued (one per partner). */
  invitationId: string | null;
}

/**
 * The direct-bill programs need no invitation: a direct-bill partner may enroll at once. Until
 * it does, its status reads `not-invited`, the one status docs/api.md gives a program not enrolled
 * in ("invited" would claim an invitation that was never sent); whether enrolling is open is
 * told apart by `mayEnroll`, not by the status.
 */
export interface DirectBillIncentives {
  status: 'not-invited' | 'enrolled';
  enrolledAt: string | null;
}

export interface Incentives {
  indirectReseller: IndirectResellerIncentives;
  directBill: DirectBillIncentives;
}

/** What a program's enrollment depends on beyond the incentives themselves. */
export interface IncentiveEligibility {
  /** The partner is in the direct-bill program (its master record says so). */
  directBill: boolean;
}

export function noIncentives(): Incentives {
  return {
    indirectReseller: {
      status: 'not-invited',
      invitedAt: null,
      enrolledAt: null,
      invitationId: null,
    },
    directBill: { status: 'not-invited', enrolledAt: null },
  };
}

/** docs/rules.md section 10: the invitation goes out within 30 days of the approval. */
export const invitationWindowDays = 30;
/** The latest day it may fall due, so that an hourly timer still sends it inside the window. */
export const maxInvitationDelayDays = invitationWindowDays - 1;

const dayMs = 24 * 3600 * 1000;

/** When the invitation falls due: `delayDays` after the approval, never past day 29. */
export function invitationDueAt(approvedAt: Date, delayDays: number): string {
  const days = Math.min(Math.max(0, Math.floor(delayDays)), maxInvitationDelayDays);
  return new Date(approvedAt.getTime() + days * dayMs).toISOString();
}

/** The moment an invitation not yet sent becomes an alert (docs/rules.md section 10). */
export function invitationDeadline(approvedAt: Date): Date {
  return new Date(approvedAt.getTime() + invitationWindowDays * dayMs);
}

export function isInvitationDue(incentives: Incentives, dueAt: string | null, now: Date): boolean {
  return (
    incentives.indirectReseller.status === 'not-invited' &&
    dueAt !== null &&
    Date.parse(dueAt) <= now.getTime()
  );
}

/** Not invited, and 30 days or more since the approval: an alert on every timer run. */
export function isInvitationOverdue(
  incentives: Incentives,
  approvedAt: string | null,
  now: Date,
): boolean {
  return (
    incentives.indirectReseller.status === 'not-invited' &&
    approvedAt !== null &&
    now.getTime() >= invitationDeadline(new Date(approvedAt)).getTime()
  );
}

export function markInvited(incentives: Incentives, invitationId: string, now: Date): Incentives {
  return {
    ...incentives,
    indirectReseller: {
      ...incentives.indirectReseller,
      status: 'invited',
      invitedAt: now.toISOString(),
      invitationId,
    },
  };
}

/**
 * Why the partner may not enroll in `program` now, or null when it may (or already has: a
 * repeated enrollment is answered with the first one). The indirect reseller incentives need
 * the invitation; the direct-bill programs need the direct-bill program.
 */
export function enrollmentRefusal(
  incentives: Incentives,
  program: IncentiveProgram,
  eligibility: IncentiveEligibility,
): DomainError | null {
  if (program === 'indirect-reseller') {
    if (incentives.indirectReseller.status !== 'not-invited') return null;
    return new DomainError(
      'forbidden',
      'Enrolling in the indirect reseller incentives needs the invitation, which is sent to the MPN account email within 30 days of the approval of the enrollment; it has not been sent yet.',
    );
  }
  if (incentives.directBill.status === 'enrolled' || eligibility.directBill) return null;
  return new DomainError(
    'not-eligible',
    'Only a partner in the direct-bill program may enroll in the direct-bill incentive programs.',
  );
}

export function enrolledAt(incentives: Incentives, program: IncentiveProgram): string | null {
  return program === 'indirect-reseller'
    ? incentives.indirectReseller.enrolledAt
    : incentives.directBill.enrolledAt;
}

/** Open to enrollment now: not enrolled yet and nothing refuses it. */
export function mayEnroll(
  incentives: Incentives,
  program: IncentiveProgram,
  eligibility: IncentiveEligibility,
): boolean {
  return (
    enrolledAt(incentives, program) === null &&
    enrollmentRefusal(incentives, program, eligibility) === null
  );
}

/**
 * Enrolls in one program and leaves the other as it is. Enrolling again changes nothing and
 * says so (`first: false`), keeping the first enrollment's time.
 */
export function enrollIn(
  incentives: Incentives,
  program: IncentiveProgram,
  eligibility: IncentiveEligibility,
  now: Date,
): { incentives: Incentives; enrolledAt: string; first: boolean } {
  const existing = enrolledAt(incentives, program);
  if (existing !== null) return { incentives, enrolledAt: existing, first: false };
  const refusal = enrollmentRefusal(incentives, program, eligibility);
  if (refusal) throw refusal;
  const at = now.toISOString();
  const updated: Incentives =
    program === 'indirect-reseller'
      ? {
          ...incentives,
          indirectReseller: { ...incentives.indirectReseller, status: 'enrolled', enrolledAt: at },
        }
      : { ...incentives, directBill: { status: 'enrolled', enrolledAt: at } };
  return { incentives: updated, enrolledAt: at, first: true };
}
