import { addBusinessDays } from './business-days';
import { profileProblems, profileStaleAfter } from './eligibility';
import { invitationDeadline } from './incentives';
import type { Partner } from './partner';
import type { TransitionCounts } from './transition-counts';

/**
 * The transition at a glance (docs/rules.md section 14): where a partner stands on each step of
 * its move from direct bill to indirect reseller, derived from its record and its counts
 * document, and a date. Pure: no read, no clock; the same inputs give the same view.
 */
export const transitionSteps = [
  'profile',
  'enrollment',
  'approval',
  'agreement',
  'provider',
  'customers',
  'subscriptions',
  'incentives',
] as const;
export type TransitionStep = (typeof transitionSteps)[number];

export const stepStatuses = ['done', 'todo', 'waiting', 'blocked', 'not-yet', 'optional'] as const;
export type StepStatus = (typeof stepStatuses)[number];

export const waitingParties = ['reviewers', 'provider', 'platform'] as const;
export type WaitingOn = (typeof waitingParties)[number];

/**
 * Why a step is as it is, with what its plain-words detail names: the words themselves are
 * chosen in the partner's language where the view is answered (shared/http/transition-words.ts).
 */
export type StepReason =
  | { step: 'profile'; why: 'confirmed'; confirmedAt: string }
  | { step: 'profile'; why: 'missing'; fields: string[] }
  | { step: 'profile'; why: 'stale'; confirmedAt: string }
  | { step: 'enrollment'; why: 'submitted'; submittedAt: string }
  | { step: 'enrollment'; why: 'ready' }
  | { step: 'enrollment'; why: 'profile-first' }
  | { step: 'enrollment'; why: 'not-direct-bill' }
  | { step: 'enrollment'; why: 'resubmit'; rejectedAt: string; reason: string | null }
  | { step: 'approval'; why: 'approved'; automatic: boolean }
  | { step: 'approval'; why: 'in-review'; dueBy: string; overdue: boolean }
  | { step: 'approval'; why: 'rejected'; reason: string | null }
  | { step: 'approval'; why: 'not-submitted' }
  | { step: 'agreement'; why: 'accepted'; version: string | null }
  | { step: 'agreement'; why: 'to-accept' }
  | { step: 'agreement'; why: 'after-approval' }
  | { step: 'provider'; why: 'in-partnership'; providers: number }
  | { step: 'provider'; why: 'find-provider'; hadOne: boolean }
  | { step: 'provider'; why: 'after-approval' }
  | { step: 'customers'; why: 'moved'; moved: number; stillDirect: number }
  | { step: 'customers'; why: 'to-move'; stillDirect: number }
  | { step: 'customers'; why: 'none-to-move' }
  | { step: 'customers'; why: 'after-provider' }
  | { step: 'subscriptions'; why: 'transferred'; transferred: number; stillDirect: number }
  | { step: 'subscriptions'; why: 'in-transfer'; inTransfer: number }
  | { step: 'subscriptions'; why: 'to-transfer'; stillDirect: number }
  | { step: 'subscriptions'; why: 'none-to-transfer' }
  | { step: 'subscriptions'; why: 'after-customers' }
  | { step: 'incentives'; why: 'enrolled' }
  | { step: 'incentives'; why: 'invited' }
  | { step: 'incentives'; why: 'due'; dueBy: string; overdue: boolean }
  | { step: 'incentives'; why: 'held' }
  | { step: 'incentives'; why: 'after-approval' };

/** The route that moves a step on (docs/api.md), as a portal calls it. */
export interface StepAction {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  summary: string;
}

export interface StepState {
  step: TransitionStep;
  status: StepStatus;
  /** When it was done. */
  at?: string;
  /** When it is due: an approval 3 business days after submission, the invitation 30 days after it. */
  dueBy?: string;
  waitingOn?: WaitingOn;
  reason: StepReason;
  action?: StepAction;
  /** Since when the partner has been at this step (the stuck list), when it is the current one. */
  since?: string;
}

export interface Transition {
  steps: StepState[];
  /** The first step that is the partner's to do, or null. */
  next: TransitionStep | null;
  /** The step the partner is at (the first to do, waiting or blocked), or null when none is. */
  current: TransitionStep | null;
}

export interface TransitionSettings {
  /** ESCALATION_BUSINESS_DAYS: the review window (3). */
  reviewBusinessDays: number;
}

const actions = {
  profile: { method: 'PUT', path: '/api/me/profile', summary: 'Confirm the partner profile' },
  enrollment: {
    method: 'POST',
    path: '/api/me/enrollment',
    summary: 'Submit the enrollment as an indirect reseller',
  },
  followEnrollment: {
    method: 'GET',
    path: '/api/me/enrollment',
    summary: 'Follow the enrollment while reviewers decide',
  },
  agreement: {
    method: 'POST',
    path: '/api/me/agreement/acceptance',
    summary: 'Accept the indirect reseller agreement (read it with GET /api/me/agreement)',
  },
  provider: {
    method: 'GET',
    path: '/api/indirect-providers',
    summary: 'Choose a provider in your region, then accept its emailed invitation',
  },
  extend: {
    method: 'POST',
    path: '/api/me/customers/{customerId}/relationship-extension',
    summary:
      'Extend a direct-bill customer to your provider (list them with GET /api/me/customers?relationship=direct-bill)',
  },
  invite: {
    method: 'POST',
    path: '/api/me/customer-invitations',
    summary: 'Invite new customers to you and your provider',
  },
  transfer: {
    method: 'POST',
    path: '/api/me/customers/{customerId}/transfers',
    summary: "Ask your provider to take over an extended customer's license subscriptions",
  },
  followTransfers: {
    method: 'GET',
    path: '/api/me/transfers?direction=outgoing&status=pending',
    summary: "Follow the transfers waiting for the provider's answer",
  },
  incentives: {
    method: 'POST',
    path: '/api/me/incentives/indirect-reseller/enrollment',
    summary: 'Enroll in the indirect reseller incentives',
  },
} as const satisfies Record<string, StepAction>;

/** A profile problem's field: its path without the `profile.` every such path starts with. */
const fieldOfProfile = (path: string): string =>
  // Stryker disable next-line Regex: every path profileProblems gives starts with 'profile.' and has it nowhere else
  path.replace(/^profile\./, '');

const later = (...moments: (string | null | undefined)[]): string | null =>
  moments
    .filter((moment): moment is string => Boolean(moment))
    .sort()
    .at(-1) ?? null;

function profileStep(partner: Partner, now: Date, submitted: boolean): StepState {
  const profile = partner.profile;
  const problems = profileProblems(partner, now);
  // Once submitted the profile has served its purpose: its age no longer holds anything up.
  if (profile && (submitted || problems.length === 0)) {
    return {
      step: 'profile',
      status: 'done',
      at: profile.confirmedAt,
      reason: { step: 'profile', why: 'confirmed', confirmedAt: profile.confirmedAt },
    };
  }
  const stale = problems.some((problem) => problem.path === 'profile.confirmedAt');
  return {
    step: 'profile',
    status: 'todo',
    action: actions.profile,
    since:
      profile && stale
        ? profileStaleAfter(new Date(profile.confirmedAt)).toISOString()
        : partner.createdAt,
    reason:
      profile && stale && problems.length === 1
        ? { step: 'profile', why: 'stale', confirmedAt: profile.confirmedAt }
        : {
            step: 'profile',
            why: 'missing',
            fields: problems
              .filter((problem) => problem.path !== 'profile.confirmedAt')
              .map((problem) => fieldOfProfile(problem.path)),
          },
  };
}

function enrollmentStep(partner: Partner, profileDone: boolean): StepState {
  const { enrollment } = partner;
  if (
    enrollment.status === 'pending-approval' ||
    enrollment.status === 'approved' ||
    enrollment.status === 'active'
  ) {
    return {
      step: 'enrollment',
      status: 'done',
      at: enrollment.submittedAt!,
      reason: { step: 'enrollment', why: 'submitted', submittedAt: enrollment.submittedAt! },
    };
  }
  if (!partner.programs.directBill) {
    return {
      step: 'enrollment',
      status: 'blocked',
      since: partner.createdAt,
      reason: { step: 'enrollment', why: 'not-direct-bill' },
    };
  }
  if (enrollment.status === 'rejected') {
    return {
      step: 'enrollment',
      status: 'todo',
      action: actions.enrollment,
      since: enrollment.rejectedAt!,
      reason: {
        step: 'enrollment',
        why: 'resubmit',
        rejectedAt: enrollment.rejectedAt!,
        reason: enrollment.rejectedReason,
      },
    };
  }
  if (!profileDone) {
    return {
      step: 'enrollment',
      status: 'not-yet',
      reason: { step: 'enrollment', why: 'profile-first' },
    };
  }
  return {
    step: 'enrollment',
    status: 'todo',
    action: actions.enrollment,
    since: partner.profile?.confirmedAt ?? partner.createdAt,
    reason: { step: 'enrollment', why: 'ready' },
  };
}

function approvalStep(partner: Partner, now: Date, settings: TransitionSettings): StepState {
  const { enrollment } = partner;
  if (enrollment.status === 'approved' || enrollment.status === 'active') {
    const approval = enrollment.history.find((entry) => entry.to === 'approved');
    return {
      step: 'approval',
      status: 'done',
      at: enrollment.approvedAt!,
      reason: { step: 'approval', why: 'approved', automatic: approval?.actor.kind === 'system' },
    };
  }
  if (enrollment.status === 'pending-approval') {
    const dueBy = addBusinessDays(
      new Date(enrollment.submittedAt!),
      settings.reviewBusinessDays,
    ).toISOString();
    return {
      step: 'approval',
      status: 'waiting',
      waitingOn: 'reviewers',
      dueBy,
      action: actions.followEnrollment,
      since: enrollment.submittedAt!,
      reason: { step: 'approval', why: 'in-review', dueBy, overdue: now.toISOString() > dueBy },
    };
  }
  if (enrollment.status === 'rejected') {
    return {
      step: 'approval',
      status: 'blocked',
      reason: { step: 'approval', why: 'rejected', reason: enrollment.rejectedReason },
    };
  }
  return {
    step: 'approval',
    status: 'not-yet',
    reason: { step: 'approval', why: 'not-submitted' },
  };
}

function agreementStep(partner: Partner): StepState {
  const { enrollment } = partner;
  if (enrollment.status === 'active') {
    return {
      step: 'agreement',
      status: 'done',
      at: enrollment.agreement?.acceptedAt ?? enrollment.activatedAt!,
      reason: {
        step: 'agreement',
        why: 'accepted',
        version: enrollment.agreement?.version ?? null,
      },
    };
  }
  if (enrollment.status === 'approved') {
    return {
      step: 'agreement',
      status: 'todo',
      action: actions.agreement,
      since: enrollment.approvedAt!,
      reason: { step: 'agreement', why: 'to-accept' },
    };
  }
  return {
    step: 'agreement',
    status: 'not-yet',
    reason: { step: 'agreement', why: 'after-approval' },
  };
}

function providerStep(partner: Partner, counts: TransitionCounts): StepState {
  const { enrollment } = partner;
  if (counts.providers > 0) {
    return {
      step: 'provider',
      status: 'done',
      at: counts.firstPartnershipAt ?? counts.countedSince,
      reason: { step: 'provider', why: 'in-partnership', providers: counts.providers },
    };
  }
  // A partner approved may already accept a provider's invitation (docs/rules.md section 6).
  if (enrollment.status === 'approved' || enrollment.status === 'active') {
    return {
      step: 'provider',
      status: 'todo',
      action: actions.provider,
      since: later(enrollment.activatedAt ?? enrollment.approvedAt, counts.lastPartnershipEndedAt)!,
      reason: {
        step: 'provider',
        why: 'find-provider',
        hadOne: counts.firstPartnershipAt !== null,
      },
    };
  }
  return {
    step: 'provider',
    status: 'not-yet',
    reason: { step: 'provider', why: 'after-approval' },
  };
}

function customersStep(partner: Partner, counts: TransitionCounts): StepState {
  const { directBill, extendedToProvider } = counts.customers;
  if (extendedToProvider > 0) {
    return {
      step: 'customers',
      status: 'done',
      at: counts.firstCustomerExtendedAt ?? counts.countedSince,
      reason: {
        step: 'customers',
        why: 'moved',
        moved: extendedToProvider,
        stillDirect: directBill,
      },
    };
  }
  // Moving customers needs an active reseller with a provider (docs/rules.md section 8b).
  if (partner.enrollment.status !== 'active' || counts.providers === 0) {
    return {
      step: 'customers',
      status: 'not-yet',
      reason: { step: 'customers', why: 'after-provider' },
    };
  }
  if (directBill === 0) {
    return {
      step: 'customers',
      status: 'optional',
      action: actions.invite,
      reason: { step: 'customers', why: 'none-to-move' },
    };
  }
  return {
    step: 'customers',
    status: 'todo',
    action: actions.extend,
    since: later(counts.firstPartnershipAt, partner.enrollment.activatedAt)!,
    reason: { step: 'customers', why: 'to-move', stillDirect: directBill },
  };
}

function subscriptionsStep(counts: TransitionCounts, customers: StepState): StepState {
  const { directBillActive, inTransfer, transferred } = counts.subscriptions;
  if (inTransfer > 0) {
    return {
      step: 'subscriptions',
      status: 'waiting',
      waitingOn: 'provider',
      action: actions.followTransfers,
      since: counts.lastTransferRequestedAt ?? counts.countedSince,
      reason: { step: 'subscriptions', why: 'in-transfer', inTransfer },
    };
  }
  if (transferred > 0) {
    return {
      step: 'subscriptions',
      status: 'done',
      at: counts.firstTransferCompletedAt ?? counts.countedSince,
      reason: {
        step: 'subscriptions',
        why: 'transferred',
        transferred,
        stillDirect: directBillActive,
      },
    };
  }
  if (customers.status === 'done' && directBillActive > 0) {
    return {
      step: 'subscriptions',
      status: 'todo',
      action: actions.transfer,
      since: counts.firstCustomerExtendedAt ?? counts.countedSince,
      reason: { step: 'subscriptions', why: 'to-transfer', stillDirect: directBillActive },
    };
  }
  if ((customers.status === 'done' || customers.status === 'optional') && directBillActive === 0) {
    return {
      step: 'subscriptions',
      status: 'optional',
      reason: { step: 'subscriptions', why: 'none-to-transfer' },
    };
  }
  return {
    step: 'subscriptions',
    status: 'not-yet',
    reason: { step: 'subscriptions', why: 'after-customers' },
  };
}

function incentivesStep(partner: Partner, now: Date): StepState {
  const { indirectReseller } = partner.incentives;
  const { approvedAt } = partner.enrollment;
  if (indirectReseller.status === 'enrolled') {
    return {
      step: 'incentives',
      status: 'done',
      at: indirectReseller.enrolledAt!,
      reason: { step: 'incentives', why: 'enrolled' },
    };
  }
  if (indirectReseller.status === 'invited') {
    return {
      step: 'incentives',
      status: 'todo',
      action: actions.incentives,
      since: indirectReseller.invitedAt!,
      reason: { step: 'incentives', why: 'invited' },
    };
  }
  if (approvedAt === null) {
    return {
      step: 'incentives',
      status: 'not-yet',
      reason: { step: 'incentives', why: 'after-approval' },
    };
  }
  if (partner.incentiveInviteHeldSince) {
    return {
      step: 'incentives',
      status: 'blocked',
      since: partner.incentiveInviteHeldSince,
      reason: { step: 'incentives', why: 'held' },
    };
  }
  // docs/rules.md section 10: the invitation goes out within 30 days of the approval.
  const dueBy = invitationDeadline(new Date(approvedAt)).toISOString();
  return {
    step: 'incentives',
    status: 'waiting',
    waitingOn: 'platform',
    dueBy,
    since: approvedAt,
    reason: { step: 'incentives', why: 'due', dueBy, overdue: now.toISOString() >= dueBy },
  };
}

/** Each step of the partner's transition, in order, and the first one it has to do. */
export function transitionOf(
  partner: Partner,
  counts: TransitionCounts,
  now: Date,
  settings: TransitionSettings,
): Transition {
  // The first submission sets it, and nothing clears it (enrollment.ts).
  const submitted = partner.enrollment.submittedAt !== null;
  const profile = profileStep(partner, now, submitted);
  const customers = customersStep(partner, counts);
  const steps = [
    profile,
    enrollmentStep(partner, profile.status === 'done'),
    approvalStep(partner, now, settings),
    agreementStep(partner),
    providerStep(partner, counts),
    customers,
    subscriptionsStep(counts, customers),
    incentivesStep(partner, now),
  ];
  const current = steps.find(
    (state) => state.status === 'todo' || state.status === 'waiting' || state.status === 'blocked',
  );
  // Only the current step says since when: the others are not where the partner stands.
  const withSince = steps.map((state) => {
    if (state === current) return state;
    const { since: _since, ...rest } = state;
    return rest;
  });
  return {
    steps: withSince,
    next: steps.find((state) => state.status === 'todo')?.step ?? null,
    current: current?.step ?? null,
  };
}
