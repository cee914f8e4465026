import { describe, expect, it } from 'vitest';
import { timerFunctions } from '../../functions/timers';
import {
  backlogAfterRetry,
  heartbeatAfter,
  isStale,
  parsePublicItemId,
  publicItemId,
  schedulePeriodSeconds,
  type OutboxBacklog,
} from '../../shared/domain/operations';

describe('the period of a timer schedule (NCRONTAB, seconds first)', () => {
  it.each([
    ['0 */1 * * * *', 60],
    ['0 * * * * *', 60],
    ['0 */5 * * * *', 300],
    ['*/30 * * * * *', 30],
    ['0 0 * * * *', 3600],
    ['0 0 */2 * * *', 7200],
    ['0 30 3 * * *', 86_400],
  ])('%s is every %i seconds', (schedule, seconds) => {
    expect(schedulePeriodSeconds(schedule)).toBe(seconds);
  });

  it('reads fields apart by any run of blanks, before and after included', () => {
    expect(schedulePeriodSeconds('  0 */5 * * * *\n')).toBe(300);
    expect(schedulePeriodSeconds('0  */5\t*  * * *')).toBe(300);
  });

  it('says why it refuses a schedule', () => {
    expect(() => schedulePeriodSeconds('0 */5 * * *')).toThrow(
      'schedule 0 */5 * * *: six NCRONTAB fields expected',
    );
    expect(() => schedulePeriodSeconds('0 0 * * * 1-5')).toThrow(
      'schedule 0 0 * * * 1-5: only daily or shorter periods are supported',
    );
    expect(() => schedulePeriodSeconds('0 */5 3 * * *')).toThrow(
      'schedule 0 */5 3 * * *: a fixed field above a repeating one is not supported',
    );
    expect(() => schedulePeriodSeconds('0 9,17 * * * *')).toThrow(
      "schedule 0 9,17 * * * *: '9,17' is not * or */n",
    );
  });

  it('takes a repeating field only whole, nothing before * nor after */n', () => {
    for (const schedule of ['0 5* * * * *', '0 x*/5 * * * *', '0 */5x * * * *', '0 *x * * * *'])
      expect(() => schedulePeriodSeconds(schedule), schedule).toThrow('is not * or */n');
  });

  it('refuses a schedule whose period it cannot tell, rather than guess', () => {
    for (const schedule of ['0 0 * * * 1-5', '0 */5 3 * * *', '0 0 9,17 * * *', '* * * *'])
      expect(() => schedulePeriodSeconds(schedule), schedule).toThrow();
  });

  it('knows the period of every timer of the function table', () => {
    for (const timer of timerFunctions)
      expect(timer.periodSeconds).toBe(schedulePeriodSeconds(timer.schedule));
  });
});

describe('staleness', () => {
  const since = new Date('2026-03-02T09:00:00Z');
  it('is stale past three periods without a success, not at three', () => {
    const heartbeat = { lastSuccessAt: '2026-03-02T09:00:00.000Z' };
    expect(isStale(heartbeat, 60, new Date('2026-03-02T09:03:00Z'), since)).toBe(false);
    expect(isStale(heartbeat, 60, new Date('2026-03-02T09:03:01Z'), since)).toBe(true);
  });

  it('turns stale a millisecond after three periods, from the last success or, without one, from the start', () => {
    const heartbeat = { lastSuccessAt: '2026-03-02T10:00:00.000Z' };
    for (const [from, watched] of [
      [heartbeat, since],
      [null, new Date('2026-03-02T10:00:00.000Z')],
      [{ lastSuccessAt: null }, new Date('2026-03-02T10:00:00.000Z')],
    ] as const) {
      expect(isStale(from, 3600, new Date('2026-03-02T12:59:59.999Z'), watched)).toBe(false);
      expect(isStale(from, 3600, new Date('2026-03-02T13:00:00.000Z'), watched)).toBe(false);
      expect(isStale(from, 3600, new Date('2026-03-02T13:00:00.001Z'), watched)).toBe(true);
    }
  });

  it('keeps the last success and its summary through a failed run', () => {
    const run = {
      name: 'deliverEmails',
      periodSeconds: 60,
      startedAt: new Date('2026-03-02T09:00:00Z'),
      endedAt: new Date('2026-03-02T09:00:01Z'),
    };
    const succeeded = heartbeatAfter(null, {
      ...run,
      outcome: 'succeeded',
      summary: { sent: 1 },
      error: null,
    });
    const failed = heartbeatAfter(succeeded, {
      ...run,
      startedAt: new Date('2026-03-02T09:01:00Z'),
      endedAt: new Date('2026-03-02T09:01:01Z'),
      outcome: 'failed',
      summary: null,
      error: 'boom',
    });
    expect(failed).toMatchObject({
      lastRunAt: '2026-03-02T09:01:00.000Z',
      lastOutcome: 'failed',
      lastSuccessAt: '2026-03-02T09:00:01.000Z',
      lastSummary: { sent: 1 },
      lastError: 'boom',
    });
  });
});

describe('outbox item ids and the backlog after a retry', () => {
  it('joins a partition and an id, and splits them back', () => {
    const id = publicItemId('11111111-1111-1111-1111-111111111111', 'abc-1');
    expect(parsePublicItemId(id)).toEqual({
      partnerId: '11111111-1111-1111-1111-111111111111',
      id: 'abc-1',
    });
    expect(parsePublicItemId('no-dot')).toBeNull();
  });

  it('takes an id with nothing before or after its first dot for no item', () => {
    expect(parsePublicItemId('.abc-1')).toBeNull();
    expect(parsePublicItemId('p.')).toBeNull();
    expect(parsePublicItemId('p.a')).toEqual({ partnerId: 'p', id: 'a' });
    expect(parsePublicItemId('p.a.b')).toEqual({ partnerId: 'p', id: 'a.b' });
  });

  const backlog: OutboxBacklog = {
    type: 'outbox-backlog',
    id: 'outbox-backlog-emails',
    partnerId: 'platform-operations',
    outbox: 'emails',
    reportedAt: '2026-03-02T09:00:00.000Z',
    pending: 0,
    pendingCapped: false,
    failed: 2,
    oldestPendingAt: null,
    recentFailures: [
      { id: 'p.a', kind: 'x', failedAt: null },
      { id: 'p.b', kind: 'x', failedAt: null },
    ],
  };

  it('moves the retried item from failed to pending, as the oldest if nothing waits', () => {
    expect(backlogAfterRetry(backlog, 'p.a', new Date('2026-03-02T09:05:00Z'))).toMatchObject({
      pending: 1,
      failed: 1,
      oldestPendingAt: '2026-03-02T09:05:00.000Z',
      recentFailures: [{ id: 'p.b' }],
    });
  });

  it("keeps what waited before the retry as the oldest, else the retry's time", () => {
    const now = new Date('2026-03-02T09:05:00.000Z');
    const oldestAfter = (oldestPendingAt: string) =>
      backlogAfterRetry({ ...backlog, pending: 3, oldestPendingAt }, 'p.a', now).oldestPendingAt;
    expect(oldestAfter('2026-03-02T09:04:59.999Z')).toBe('2026-03-02T09:04:59.999Z');
    expect(oldestAfter('2026-03-02T09:05:00.000Z')).toBe('2026-03-02T09:05:00.000Z');
    // The retried item waits from now: a later oldest time gives way to it.
    expect(oldestAfter('2026-03-02T09:05:00.001Z')).toBe('2026-03-02T09:05:00.000Z');
  });
});
