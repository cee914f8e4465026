import type { Actor } from './principal';
import { DomainError } from './errors';
import type { Address, Contact } from './contact';

/**
 * The indirect reseller enrollment state machine (docs/rules.md sections 2-3). Every change of
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

/** What the global admin submitted (docs/rules.md section 2). */
export interface EnrollmentForm {
  reviewedDetails: { companyName: string; mpnId: string; address?: Address };
  primaryContact: Contact;
  submittedBy: Actor;
}

/** Who accepted which version of the indirect reseller agreement, and when (section 3). */
export interface AgreementAcceptance {
  templateId: string;
  version: string;
  acceptedAt: string;
  userId: string;
  name: string;
  email: string | null;
}

export interface Enrollment {
  status: EnrollmentStatus;
  submittedAt: string | null;
  approvedAt: string | null;
  activatedAt: string | null;
  rejectedAt: string | null;
  rejectedReason: string | null;
  /** When the reviewers' mailbox was told this enrollment waits too long (once per submission). */
  escalatedAt: string | null;
  form: EnrollmentForm | null;
  agreement: AgreementAcceptance | null;
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
    escalatedAt: null,
    form: null,
    agreement: null,
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
      ? {
          submittedAt: iso,
          rejectedAt: null,
          rejectedReason: null,
          approvedAt: null,
          escalatedAt: null,
        }
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

/** Submitted and not refused: pending, approved or active. A second submission conflicts. */
export function isInProgressOrDone(enrollment: Enrollment): boolean {
  return enrollment.status === 'pending-approval' || isEnrolled(enrollment);
}

/**
 * docs/rules.md section 4: from enrollment on, the partner cannot add new direct customers. The
 * customers module calls this; the rule lives here with the enrollment it depends on.
 */
export function assertMayAddDirectCustomers(enrollment: Enrollment): void {
  if (isEnrolled(enrollment)) {
    throw new DomainError(
      'no-new-direct-customers',
      'Since enrolling as an indirect reseller this partner cannot add new direct customers; its existing direct customers stay as they are.',
    );
  }
}
