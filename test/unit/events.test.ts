import { describe, expect, it } from 'vitest';
import { eventTypes, isOperatorEvent } from '../../shared/domain/events';

// docs/rules.md section 11: operators' subscriptions receive enrollment.submitted (when it waits
// for review) and enrollment.escalated of every partner, and nothing else.
describe("the events operators' subscriptions receive", () => {
  it('takes every escalation', () => {
    expect(
      isOperatorEvent('enrollment.escalated', {
        submittedAt: '2026-03-02T09:00:00.000Z',
        escalatedAt: '2026-03-04T09:00:00.000Z',
      }),
    ).toBe(true);
  });

  it('takes a submission that waits for review, not one approved at once', () => {
    const submitted = (status: 'pending-approval' | 'approved') =>
      isOperatorEvent('enrollment.submitted', { status, submittedAt: '2026-03-02T09:00:00.000Z' });
    expect(submitted('pending-approval')).toBe(true);
    expect(submitted('approved')).toBe(false);
  });

  it('takes no other type, whatever its data says', () => {
    for (const type of eventTypes.filter(
      (name) => name !== 'enrollment.escalated' && name !== 'enrollment.submitted',
    ))
      expect(isOperatorEvent(type, { status: 'pending-approval' }), type).toBe(false);
  });
});
