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

  it('moves the retried item from failed to pending, as the oldest if nothing waits', () => {
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
    expect(backlogAfterRetry(backlog, 'p.a', new Date('2026-03-02T09:05:00Z'))).toMatchObject({
      pending: 1,
      failed: 1,
      oldestPendingAt: '2026-03-02T09:05:00.000Z',
      recentFailures: [{ id: 'p.b' }],
    });
  });
});
