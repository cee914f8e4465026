import type { Actor } from './principal';
import { DomainError } from './errors';

/**
 * The indirect reseller enrollment state machine (domain.md sections 2-3). Every change of
 * status goes through `transition`, which refuses anything this table does not allow: there
 * is no way back from approved or active (irreversible).
 */
export const enrollmentStatuses = [
  'not-enrolled',
  'pending-approval',
  'approved',
  'active',
  'rejected',
] as const;
export type EnrollmentStatus = (typeof enrollmentStatuses)[number];

export const allowedTransitions: Readonly<Record<EnrollmentStatus, readonly EnrollmentStatus[]>> = {
  'not-enrolled': ['pending-approval'],
  'pending-approval': ['approved', 'rejected'],
  approved: ['active'],
  active: [],
  rejected: ['pending-approval'],
};

export interface EnrollmentTransition {
  at: string;
  from: EnrollmentStatus;
  to: EnrollmentStatus;
  actor: Actor;
  reason: string | null;
}

export interface Enrollment {
  status: EnrollmentStatus;
  submittedAt: string | null;
  approvedAt: string | null;
  activatedAt: string | null;
  rejectedAt: string | null;
  rejectedReason: string | null;
  history: EnrollmentTransition[];
}

export function notEnrolled(): Enrollment {
  return {
    status: 'not-enrolled',
    submittedAt: null,
    approvedAt: null,
    activatedAt: null,
    rejectedAt: null,
    rejectedReason: null,
    history: [],
  };
}

export function canTransition(from: EnrollmentStatus, to: EnrollmentStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** Applies one allowed transition; refuses any other with 409. Pure: time comes in. */
export function transition(
  enrollment: Enrollment,
  to: EnrollmentStatus,
  actor: Actor,
  at: Date,
  reason: string | null = null,
): Enrollment {
  const from = enrollment.status;
  if (!canTransition(from, to)) {
    if (from === 'approved' || from === 'active') {
      throw new DomainError(
        'irreversible',
        `The enrollment is ${from}; becoming an indirect reseller cannot be undone or repeated.`,
      );
    }
    throw new DomainError('conflict', `The enrollment cannot go from ${from} to ${to}.`);
  }
  const iso = at.toISOString();
  return {
    ...enrollment,
    status: to,
    ...(to === 'pending-approval'
      ? { submittedAt: iso, rejectedAt: null, rejectedReason: null, approvedAt: null }
      : {}),
    ...(to === 'approved' ? { approvedAt: iso } : {}),
    ...(to === 'active' ? { activatedAt: iso } : {}),
    ...(to === 'rejected' ? { rejectedAt: iso, rejectedReason: reason } : {}),
    history: [...enrollment.history, { at: iso, from, to, actor, reason }],
  };
}

/** Enrolled means approved or active: from then on the partner is an indirect reseller. */
export function isEnrolled(enrollment: Enrollment): boolean {
  return enrollment.status === 'approved' || enrollment.status === 'active';
}
