import { describe, expect, it } from 'vitest';
import { isRetainedFailure, queuedEmail, settledEmail } from '../../shared/domain/email';

// docs/rules.md section 12: a failed email is kept 30 days for an operator to put it back.
describe('a failed email kept for a retry', () => {
  const message = {
    to: 'pat@contoso.example',
    subject: 'Hi',
    text: 'Hi',
    html: '<p>Hi</p>',
    links: [],
  };
  const failedAt = new Date('2026-03-02T09:00:00.000Z');
  const failed = settledEmail(
    queuedEmail('e1', 'p1', 'customer-invitation', message, failedAt),
    'failed',
    failedAt,
    'mailbox full',
  );
  const after = (milliseconds: number) => new Date(failedAt.getTime() + milliseconds);
  const thirtyDays = 30 * 24 * 3600 * 1000;

  it('can be retried up to 30 days after it failed, not from then on', () => {
    expect(isRetainedFailure(failed, after(thirtyDays - 1))).toBe(true);
    expect(isRetainedFailure(failed, after(thirtyDays))).toBe(false);
    expect(isRetainedFailure(failed, after(thirtyDays + 1))).toBe(false);
  });

  it('is not one once sent', () => {
    const sent = settledEmail(failed, 'sent', after(1000), null);
    expect(isRetainedFailure(sent, after(2000))).toBe(false);
  });
});
