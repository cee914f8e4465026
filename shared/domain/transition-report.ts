import type { Partner } from './partner';
import type { Transition, TransitionStep } from './transition';
import type { TransitionCounts } from './transition-counts';

/**
 * The operators' transition report (docs/rules.md section 14), kept as aggregates in one
 * partition of its own so that reading a year of it is one bounded single-partition query,
 * whatever the number of partners (docs/capacity.md):
 * - one document per day, counting the partners that reached each stage of the funnel that day
 *   (each partner once per stage, the first time), the enrollments escalated past the review
 *   window, and the hours each approval after review took;
 * - one entry per partner that has started (submitted an enrollment): the step it is at and
 *   since when, for the stuck list, and the milestones already counted, so none counts twice.
 * Both are written by the event publisher from the partner's record and counts (state, not
 * deltas): running it again finds nothing new to count.
 */
export const transitionReportPartition = 'transition-report';

export const funnelStages = [
  'enrollmentsSubmitted',
  'autoApproved',
  'approvedAfterReview',
  'rejected',
  'agreementsAccepted',
  'firstPartnership',
  'firstCustomerExtended',
  'firstTransferCompleted',
  'incentivesInvited',
  'incentivesEnrolled',
] as const;
export type FunnelStage = (typeof funnelStages)[number];
export type Funnel = Record<FunnelStage, number>;

export interface TransitionDay {
  type: 'transition-day';
  id: string;
  partnerId: typeof transitionReportPartition;
  /** YYYY-MM-DD, UTC. */
  day: string;
  funnel: Funnel;
  pastReviewWindow: number;
  /** Hours from submission to approval of each enrollment approved after review that day. */
  approvalHours: number[];
}

export interface TransitionEntry {
  type: 'transition-entry';
  id: string;
  partnerId: typeof transitionReportPartition;
  /** The partner the entry is about. */
  subjectId: string;
  companyName: string;
  /** The step it is at (the first to do, waiting or blocked), or null when none is. */
  step: TransitionStep | null;
  /** Since when it is at that step; absent when it is at none (the stuck query skips it). */
  since?: string;
  /** The milestones already counted in the days (their keys). */
  recorded: string[];
  updatedAt: string;
}

/**
 * The stuck list names at most this many partners, the longest stuck first: enough to act on,
 * and a bounded read however many partners sit at a step (docs/capacity.md).
 */
export const stuckListLimit = 1000;

export const transitionDayId = (day: string): string => `day-${day}`;
export const transitionEntryId = (partnerId: string): string => `entry-${partnerId}`;

export const emptyFunnel = (): Funnel =>
  Object.fromEntries(funnelStages.map((stage) => [stage, 0])) as Funnel;

export function emptyDay(day: string): TransitionDay {
  return {
    type: 'transition-day',
    id: transitionDayId(day),
    partnerId: transitionReportPartition,
    day,
    funnel: emptyFunnel(),
    pastReviewWindow: 0,
    approvalHours: [],
  };
}

/** Something a partner reached once, counted on the day it happened. */
export interface Milestone {
  key: string;
  at: string;
  stage?: FunnelStage;
  pastReviewWindow?: true;
  approvalHours?: number;
}

const hoursBetween = (from: string, to: string): number =>
  Math.round((Date.parse(to) - Date.parse(from)) / 360_000) / 10;

/** Every milestone the partner's record and counts show it has reached. */
export function milestonesOf(partner: Partner, counts: TransitionCounts | null): Milestone[] {
  const { enrollment, incentives } = partner;
  const first = (to: string) => enrollment.history.find((entry) => entry.to === to);
  const milestones: Milestone[] = [];
  const add = (milestone: Omit<Milestone, 'at'> & { at: string | null | undefined }) => {
    if (milestone.at) milestones.push(milestone as Milestone);
  };
  add({ key: 'submitted', stage: 'enrollmentsSubmitted', at: first('pending-approval')?.at });
  const approval = first('approved');
  if (approval) {
    const automatic = approval.actor.kind === 'system';
    add({
      key: 'approved',
      stage: automatic ? 'autoApproved' : 'approvedAfterReview',
      at: approval.at,
      ...(automatic || !enrollment.submittedAt
        ? {}
        : { approvalHours: hoursBetween(enrollment.submittedAt, approval.at) }),
    });
  }
  add({ key: 'rejected', stage: 'rejected', at: first('rejected')?.at });
  // Only an active enrollment has either: the acceptance activates it, and active is final.
  add({
    key: 'agreement',
    stage: 'agreementsAccepted',
    at: enrollment.agreement?.acceptedAt ?? enrollment.activatedAt,
  });
  add({ key: 'first-partnership', stage: 'firstPartnership', at: counts?.firstPartnershipAt });
  add({
    key: 'first-customer-extended',
    stage: 'firstCustomerExtended',
    at: counts?.firstCustomerExtendedAt,
  });
  add({
    key: 'first-transfer-completed',
    stage: 'firstTransferCompleted',
    at: counts?.firstTransferCompletedAt,
  });
  add({
    key: 'incentives-invited',
    stage: 'incentivesInvited',
    at: incentives.indirectReseller.invitedAt,
  });
  add({
    key: 'incentives-enrolled',
    stage: 'incentivesEnrolled',
    at: incentives.indirectReseller.enrolledAt,
  });
  // Each submission escalated counts once (a resubmission may be escalated again). Only a
  // pending submission is escalated, and a resubmission clears the escalation: an escalated
  // enrollment always has its submission.
  add({
    key: `escalated:${enrollment.submittedAt}`,
    pastReviewWindow: true,
    at: enrollment.escalatedAt,
  });
  return milestones;
}

/** The partner's entry as its transition now stands. */
export function entryFor(
  partner: Partner,
  transition: Transition,
  recorded: readonly string[],
  now: Date,
): TransitionEntry {
  const current = transition.steps.find((state) => state.step === transition.current);
  return {
    type: 'transition-entry',
    id: transitionEntryId(partner.partnerId),
    partnerId: transitionReportPartition,
    subjectId: partner.partnerId,
    companyName: partner.companyName,
    step: transition.current,
    ...(current?.since ? { since: current.since } : {}),
    recorded: [...recorded],
    updatedAt: now.toISOString(),
  };
}

/** Whether two entries say the same (then nothing is written). */
export function sameEntry(a: TransitionEntry, b: TransitionEntry): boolean {
  return (
    a.companyName === b.companyName &&
    a.step === b.step &&
    a.since === b.since &&
    a.recorded.length === b.recorded.length &&
    a.recorded.every((key) => b.recorded.includes(key))
  );
}

/** The nearest-rank percentile of sorted values (0 < p <= 100). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export interface ReportSummary {
  funnel: Funnel;
  timeToApprovalHours: { p50: number | null; p90: number | null; max: number | null };
  pastReviewWindow: number;
}

/** Adds the days of a period up. */
export function summarize(days: readonly TransitionDay[]): ReportSummary {
  const funnel = emptyFunnel();
  let pastReviewWindow = 0;
  const hours: number[] = [];
  for (const day of days) {
    for (const stage of funnelStages) funnel[stage] += day.funnel[stage] ?? 0;
    pastReviewWindow += day.pastReviewWindow;
    hours.push(...day.approvalHours);
  }
  hours.sort((a, b) => a - b);
  return {
    funnel,
    timeToApprovalHours: {
      p50: percentile(hours, 50),
      p90: percentile(hours, 90),
      max: hours.at(-1) ?? null,
    },
    pastReviewWindow,
  };
}

/** The UTC day of a moment. */
export const dayOf = (moment: string): string => moment.slice(0, 10);
