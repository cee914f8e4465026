import { describe, expect, it } from 'vitest';
import { transition as move, type Enrollment } from '../../shared/domain/enrollment';
import { enrollIn, markInvited } from '../../shared/domain/incentives';
import { newPartner, type Partner } from '../../shared/domain/partner';
import { systemActor, type Actor } from '../../shared/domain/principal';
import { transitionOf } from '../../shared/domain/transition';
import { applyChange, emptyCounts } from '../../shared/domain/transition-counts';
import {
  entryFor,
  milestonesOf,
  sameEntry,
  type Milestone,
  type TransitionEntry,
} from '../../shared/domain/transition-report';

/**
 * docs/rules.md section 14, the operators' report: the milestones a partner's record and counts
 * show it reached (each counted once, on its day), and when its entry says something new. A
 * Monday, 09:00 UTC: three business days later is Thursday.
 */
const monday = new Date('2026-03-02T09:00:00.000Z');
const at = (days: number): Date => new Date(monday.getTime() + days * 86_400_000);
const iso = (days: number): string => at(days).toISOString();
const reviewer: Actor = { kind: 'operator', tenantId: 'ops', userId: 'olive', name: 'Olive' };
const settings = { reviewBusinessDays: 3 };

/** A partner whose profile was confirmed before it submitted its enrollment. */
function recorded(): Partner {
  const partner = newPartner(
    'partner-1',
    {
      companyName: 'Contoso',
      mpnId: '1234567',
      mpnVerified: false,
      mpnAccountEmail: 'mpn@contoso.example',
      country: 'US',
      programs: { directBill: true },
    },
    at(-30),
  );
  return {
    ...partner,
    profile: {
      companyName: partner.companyName,
      mpnId: '1234567',
      address: { line1: '1 Main St', city: 'Seattle', postalCode: '98052', country: 'US' },
      primaryContact: {
        firstName: 'Pat',
        lastName: 'Lee',
        email: 'pat@contoso.example',
        phone: '+1 425 555 0100',
      },
      confirmedAt: iso(-10),
      confirmedBy: 'gina',
    },
  };
}
const step = (
  partner: Partner,
  to: Enrollment['status'],
  days: number,
  reason: string | null = null,
): Partner => ({
  ...partner,
  enrollment: move(partner.enrollment, to, reviewer, at(days), reason),
});
/** Escalated to the reviewers' mailbox, as the escalation timer records it. */
const escalated = (partner: Partner, days: number): Partner => ({
  ...partner,
  enrollment: { ...partner.enrollment, escalatedAt: iso(days) },
});
/** Activated by the acceptance of the agreement at `acceptedDays`. */
const accepted = (partner: Partner, acceptedDays: number, activatedDays: number): Partner => {
  const active = step(partner, 'active', activatedDays);
  return {
    ...active,
    enrollment: {
      ...active.enrollment,
      agreement: {
        templateId: 'indirect-reseller-agreement',
        version: '2026-01',
        acceptedAt: iso(acceptedDays),
        userId: 'gina',
        name: 'Gina',
        email: null,
      },
    },
  };
};

/** Submitted on Monday, escalated on Friday, approved after review, active, all the way. */
function allTheWay(): Partner {
  const approved = step(escalated(step(recorded(), 'pending-approval', 0), 4), 'approved', 4.5);
  const active = accepted(approved, 5, 5);
  const invited = markInvited(active.incentives, 'inv-1', at(9));
  const { incentives } = enrollIn(invited, 'indirect-reseller', { directBill: true }, at(10));
  return { ...active, incentives };
}
const countsAllTheWay = applyChange(emptyCounts('partner-1', at(-30)), {
  providers: 1,
  customers: { extendedToProvider: 1 },
  subscriptions: { transferred: 2 },
  moments: {
    firstPartnershipAt: iso(6),
    firstCustomerExtendedAt: iso(7),
    firstTransferCompletedAt: iso(8),
  },
});

const byKey = (milestones: Milestone[]) =>
  Object.fromEntries(milestones.map((milestone) => [milestone.key, milestone]));

describe('the milestones a partner reached', () => {
  it('are each stage of the funnel, on the day it was reached, and the escalation', () => {
    const milestones = milestonesOf(allTheWay(), countsAllTheWay);
    expect(milestones).toEqual(
      expect.arrayContaining([
        { key: 'submitted', stage: 'enrollmentsSubmitted', at: iso(0) },
        { key: 'approved', stage: 'approvedAfterReview', at: iso(4.5), approvalHours: 108 },
        { key: 'agreement', stage: 'agreementsAccepted', at: iso(5) },
        { key: 'first-partnership', stage: 'firstPartnership', at: iso(6) },
        { key: 'first-customer-extended', stage: 'firstCustomerExtended', at: iso(7) },
        { key: 'first-transfer-completed', stage: 'firstTransferCompleted', at: iso(8) },
        { key: 'incentives-invited', stage: 'incentivesInvited', at: iso(9) },
        { key: 'incentives-enrolled', stage: 'incentivesEnrolled', at: iso(10) },
        { key: `escalated:${iso(0)}`, pastReviewWindow: true, at: iso(4) },
      ]),
    );
    expect(milestones).toHaveLength(9);
  });

  // The keys are stored in each partner's entry as the milestones already counted: a key
  // renamed would count that milestone of every partner again, on its day, after a deploy.
  it('names each milestone with the key the entries already store', () => {
    const rejected = step(step(recorded(), 'pending-approval', 0), 'rejected', 1, 'MPN ID unknown');
    expect(
      [...milestonesOf(allTheWay(), countsAllTheWay), ...milestonesOf(rejected, null)]
        .map((milestone) => milestone.key)
        .sort(),
    ).toEqual([
      'agreement',
      'approved',
      `escalated:${iso(0)}`,
      'first-customer-extended',
      'first-partnership',
      'first-transfer-completed',
      'incentives-enrolled',
      'incentives-invited',
      'rejected',
      'submitted',
      'submitted',
    ]);
  });

  it('counts the escalation of each submission once: a resubmission escalated again counts again', () => {
    const first = escalated(step(recorded(), 'pending-approval', 0), 4);
    const again = escalated(
      step(step(first, 'rejected', 5, 'MPN ID unknown'), 'pending-approval', 7),
      11,
    );
    const escalation = (partner: Partner) =>
      milestonesOf(partner, null).filter((milestone) => milestone.pastReviewWindow);
    expect(escalation(first)).toEqual([
      { key: `escalated:${iso(0)}`, pastReviewWindow: true, at: iso(4) },
    ]);
    expect(escalation(again)).toEqual([
      { key: `escalated:${iso(7)}`, pastReviewWindow: true, at: iso(11) },
    ]);
    // The resubmission's own escalation is not yet recorded: no escalation until it happens.
    expect(escalation(step(step(first, 'rejected', 5), 'pending-approval', 7))).toEqual([]);
  });

  it('counts the agreement at its acceptance, only once active', () => {
    const approved = step(step(recorded(), 'pending-approval', 0), 'approved', 1);
    expect(byKey(milestonesOf(approved, null)).agreement).toBeUndefined();
    // Accepted a moment before the activation that the acceptance made.
    const active = accepted(approved, 2, 2.001);
    expect(byKey(milestonesOf(active, null)).agreement).toEqual({
      key: 'agreement',
      stage: 'agreementsAccepted',
      at: iso(2),
    });
  });

  it('tells an approval at once from one after review, timing only the reviewed one', () => {
    const submitted = step(recorded(), 'pending-approval', 0);
    const automatic: Partner = {
      ...submitted,
      enrollment: move(submitted.enrollment, 'approved', systemActor, at(0)),
    };
    expect(byKey(milestonesOf(automatic, null)).approved).toEqual({
      key: 'approved',
      stage: 'autoApproved',
      at: iso(0),
    });
  });
});

describe("a partner's entry", () => {
  const partner = step(step(recorded(), 'pending-approval', 0), 'approved', 1);
  const entryAt = (now: Date, changed: Partner = partner, keys = ['submitted', 'approved']) =>
    entryFor(
      changed,
      transitionOf(changed, emptyCounts('partner-1', at(-30)), now, settings),
      keys,
      now,
    );
  const entry: TransitionEntry = entryAt(at(2));

  it('is at the step the partner is at, since when it is there', () => {
    expect(entry).toMatchObject({
      subjectId: 'partner-1',
      companyName: 'Contoso',
      step: 'agreement',
      since: iso(1),
      recorded: ['submitted', 'approved'],
      updatedAt: iso(2),
    });
  });

  it('says the same when only the time of writing differs, or the order it lists the milestones', () => {
    expect(sameEntry(entry, entryAt(at(3)))).toBe(true);
    expect(sameEntry(entry, entryAt(at(3), partner, ['approved', 'submitted']))).toBe(true);
  });

  it('says something new when the company is renamed', () => {
    const renamed = { ...partner, companyName: 'Contoso Ltd' };
    expect(sameEntry(entry, entryAt(at(3), renamed))).toBe(false);
  });

  it('says something new when the partner moves to another step', () => {
    const active = accepted(partner, 3, 3);
    const moved = entryAt(at(3), active);
    expect(moved.step).toBe('provider');
    expect(sameEntry(entry, moved)).toBe(false);
    // Even at another step since the very same moment.
    expect(sameEntry(entry, { ...entry, step: 'provider' })).toBe(false);
  });

  it('says something new when the partner is at the same step since another moment', () => {
    expect(sameEntry(entry, { ...entry, since: iso(1.5) })).toBe(false);
    expect(sameEntry(entry, { ...entry, since: undefined })).toBe(false);
  });

  it('says something new when a milestone is counted, or another one instead', () => {
    expect(sameEntry(entry, { ...entry, recorded: [...entry.recorded, 'agreement'] })).toBe(false);
    expect(sameEntry({ ...entry, recorded: ['submitted'] }, entry)).toBe(false);
    expect(sameEntry(entry, { ...entry, recorded: ['submitted', 'agreement'] })).toBe(false);
  });
});
