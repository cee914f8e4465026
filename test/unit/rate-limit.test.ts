import { describe, expect, it } from 'vitest';
import { bucketLimit, TokenBuckets } from '../../shared/app/request-limits';
import { allowanceExceeded, minuteWindow, rateCounterId } from '../../shared/domain/rate-limit';
import { ManualClock } from '../support/clock';

describe('per-minute windows', () => {
  it('key a counter by the UTC minute, whatever the seconds', () => {
    for (const at of ['2026-03-02T09:05:00.000Z', '2026-03-02T09:05:59.999Z'])
      expect(rateCounterId('webhook-test', minuteWindow(new Date(at))), at).toBe(
        'rate-webhook-test-2026-03-02T09:05',
      );
    expect(minuteWindow(new Date('2026-03-02T09:06:00.000Z')).key).toBe('2026-03-02T09:06');
  });
});

// docs/rules.md section 13: a partnership invitation counts against both the hourly email
// allowance and INVITATION_RATE_LIMIT_PER_HOUR; other emails against the allowance only.
describe("a partner's hourly allowance", () => {
  const limits = { emailsPerHour: 200, invitationsPerHour: 5 };

  it('lets invitations reach the limit, not pass it', () => {
    const invite = (counted: number) =>
      allowanceExceeded(
        { emails: counted, invitations: counted },
        { emails: 1, invitations: 1 },
        limits,
      );
    expect(invite(3)).toBeNull();
    expect(invite(4)).toBeNull();
    expect(invite(5)).toBe('invitations');
  });

  it('never refuses an action that sends no invitation for the invitation limit', () => {
    // More invitations counted than the limit allows (it was lowered within the hour).
    expect(
      allowanceExceeded({ emails: 8, invitations: 8 }, { emails: 2, invitations: 0 }, limits),
    ).toBeNull();
  });
});

// shared/app/request-limits.ts: the buckets of one instance keep at most bucketLimit keys, the
// least recently used forgotten first, so a flood of new keys cannot grow them without end.
describe('the token buckets kept in memory', () => {
  /** Buckets of one token that never comes back within the test, and `first` emptied. */
  function emptied(): TokenBuckets {
    const buckets = new TokenBuckets({ burst: 1, perMinute: 1 }, new ManualClock());
    expect(buckets.take('first')).toBeNull();
    expect(buckets.take('first')).not.toBeNull();
    return buckets;
  }
  const takeNew = (buckets: TokenBuckets, count: number) => {
    for (let key = 0; key < count; key += 1) expect(buckets.take(`other-${key}`)).toBeNull();
  };

  it('remember an emptied key while fewer than bucketLimit keys are kept', () => {
    const buckets = emptied();
    takeNew(buckets, bucketLimit - 1); // bucketLimit keys kept, `first` among them
    expect(buckets.take('first')).not.toBeNull();
  });

  it('forget the least recently used key when a new one comes at bucketLimit: its bucket is full again', () => {
    const buckets = emptied();
    takeNew(buckets, bucketLimit);
    expect(buckets.take('first')).toBeNull();
  });
});
