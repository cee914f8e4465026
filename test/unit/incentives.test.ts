import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  enrollIn,
  enrollmentRefusal,
  invitationDeadline,
  invitationDueAt,
  isInvitationDue,
  isInvitationOverdue,
  markInvited,
  mayEnroll,
  noIncentives,
} from '../../shared/domain/incentives';

const approvedAt = new Date('2026-03-02T09:00:00.000Z');
const day = 24 * 3600 * 1000;
const at = (days: number): Date => new Date(approvedAt.getTime() + days * day);

describe('when the incentives invitation falls due (docs/rules.md section 10)', () => {
  it('is the approval itself with no delay, and the delay in days after it otherwise', () => {
    expect(invitationDueAt(approvedAt, 0)).toBe('2026-03-02T09:00:00.000Z');
    expect(invitationDueAt(approvedAt, 5)).toBe('2026-03-07T09:00:00.000Z');
  });

  it('is always inside the 30-day window, whatever delay is asked', () => {
    fc.assert(
      fc.property(fc.integer({ min: -100, max: 1000 }), (delay) => {
        const due = Date.parse(invitationDueAt(approvedAt, delay));
        expect(due).toBeGreaterThanOrEqual(approvedAt.getTime());
        expect(due).toBeLessThan(invitationDeadline(approvedAt).getTime());
      }),
    );
  });

  it('is due from its due time on, and never once invited', () => {
    const due = invitationDueAt(approvedAt, 5);
    expect(isInvitationDue(noIncentives(), due, at(4.99))).toBe(false);
    expect(isInvitationDue(noIncentives(), due, at(5))).toBe(true);
    expect(isInvitationDue(noIncentives(), null, at(5))).toBe(false);
    expect(isInvitationDue(markInvited(noIncentives(), 'i', at(5)), due, at(6))).toBe(false);
  });
});

describe('the overdue alert', () => {
  it('starts 30 days after the approval for a partner not invited', () => {
    const approved = approvedAt.toISOString();
    expect(isInvitationOverdue(noIncentives(), approved, at(29.99))).toBe(false);
    expect(isInvitationOverdue(noIncentives(), approved, at(30))).toBe(true);
    expect(isInvitationOverdue(noIncentives(), approved, at(45))).toBe(true);
  });

  it('is never raised once invited, nor without an approval', () => {
    const invited = markInvited(noIncentives(), 'i', at(31));
    expect(isInvitationOverdue(invited, approvedAt.toISOString(), at(40))).toBe(false);
    expect(isInvitationOverdue(noIncentives(), null, at(40))).toBe(false);
  });
});

describe('enrolling in an incentive program', () => {
  const now = at(10);
  const directBill = { directBill: true };

  it('refuses the indirect reseller incentives before the invitation with 403 forbidden', () => {
    expect(() => enrollIn(noIncentives(), 'indirect-reseller', directBill, now)).toThrow(
      expect.objectContaining({ code: 'forbidden', detail: expect.stringContaining('invitation') }),
    );
    expect(mayEnroll(noIncentives(), 'indirect-reseller', directBill)).toBe(false);
  });

  it('enrolls in the indirect reseller incentives once invited, leaving direct bill as it is', () => {
    const invited = markInvited(noIncentives(), 'invitation-1', at(1));
    expect(mayEnroll(invited, 'indirect-reseller', directBill)).toBe(true);
    const { incentives, enrolledAt, first } = enrollIn(
      invited,
      'indirect-reseller',
      directBill,
      now,
    );
    expect(first).toBe(true);
    expect(enrolledAt).toBe(now.toISOString());
    expect(incentives.indirectReseller).toEqual({
      status: 'enrolled',
      invitedAt: at(1).toISOString(),
      enrolledAt: now.toISOString(),
      invitationId: 'invitation-1',
    });
    expect(incentives.directBill).toEqual(invited.directBill);
  });

  it('enrolls a direct-bill partner in the direct-bill programs at once, leaving the other as it is', () => {
    const { incentives, first } = enrollIn(noIncentives(), 'direct-bill', directBill, now);
    expect(first).toBe(true);
    expect(incentives.directBill).toEqual({ status: 'enrolled', enrolledAt: now.toISOString() });
    expect(incentives.indirectReseller).toEqual(noIncentives().indirectReseller);
  });

  it('refuses the direct-bill programs to a partner outside direct bill with not-eligible', () => {
    expect(() => enrollIn(noIncentives(), 'direct-bill', { directBill: false }, now)).toThrow(
      expect.objectContaining({
        code: 'not-eligible',
        status: 403,
        detail:
          'Only a partner in the direct-bill program may enroll in the direct-bill incentive programs.',
      }),
    );
    expect(mayEnroll(noIncentives(), 'direct-bill', { directBill: false })).toBe(false);
  });

  it('answers a repeated enrollment with the first one and changes nothing', () => {
    const once = enrollIn(noIncentives(), 'direct-bill', directBill, now);
    const twice = enrollIn(once.incentives, 'direct-bill', directBill, at(20));
    expect(twice).toEqual({
      incentives: once.incentives,
      enrolledAt: once.enrolledAt,
      first: false,
    });
    expect(mayEnroll(once.incentives, 'direct-bill', directBill)).toBe(false);
  });

  it('keeps a direct-bill enrollment unrefused after the partner leaves direct bill', () => {
    const { incentives } = enrollIn(noIncentives(), 'direct-bill', directBill, now);
    expect(enrollmentRefusal(incentives, 'direct-bill', { directBill: false })).toBeNull();
    expect(enrollIn(incentives, 'direct-bill', { directBill: false }, at(20))).toMatchObject({
      enrolledAt: now.toISOString(),
      first: false,
    });
  });
});
