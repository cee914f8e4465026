import { describe, expect, it } from 'vitest';
import { claimGroups, emailLanes, laneOf } from '../../shared/domain/email';
import { operatorEventsPartition } from '../../shared/domain/events';
import { sendsLeft, sendWindows, takingTurns } from '../../shared/domain/send-budget';

describe('the platform send budget', () => {
  const limits = { perMinute: 30, perHour: 100 };
  const at = new Date('2026-03-02T09:41:30Z');

  it('counts a minute and an hour, in UTC', () => {
    expect(sendWindows(at, limits).map((w) => [w.id, w.limit])).toEqual([
      ['send-budget-minute-2026-03-02T09:41', 30],
      ['send-budget-hour-2026-03-02T09', 100],
    ]);
  });

  it('allows the least left in any window, and never less than nothing', () => {
    const [minute, hour] = sendWindows(at, limits);
    expect(sendsLeft(sendWindows(at, limits), new Map())).toBe(30);
    expect(sendsLeft(sendWindows(at, limits), new Map([[hour!.id, 95]]))).toBe(5);
    expect(sendsLeft(sendWindows(at, limits), new Map([[minute!.id, 31]]))).toBe(0);
  });

  it("lets partners take turns, so that one partner's backlog does not hold back the others", () => {
    const due = [
      ...Array.from({ length: 5 }, (_, n) => ({ partnerId: 'flooding', n })),
      { partnerId: 'other', n: 5 },
      { partnerId: 'third', n: 6 },
    ];
    expect(takingTurns(due, 4).map((email) => `${email.partnerId}${email.n}`)).toEqual([
      'flooding0',
      'other5',
      'third6',
      'flooding1',
    ]);
  });

  it("serves the reviewers' and the operators' emails first, incentives invitations last, every other email between", () => {
    expect(laneOf('enrollment-escalated', 'partner-1')).toBe('platform');
    expect(laneOf('webhook-disabled', operatorEventsPartition)).toBe('platform');
    expect(laneOf('webhook-disabled', 'partner-1')).toBe('transactional');
    expect(laneOf('incentive-invitation', 'partner-1')).toBe('bulk');
    for (const kind of [
      'enrollment-approved',
      'enrollment-rejected',
      'partner-invitation',
      'customer-invitation',
      'transfer-requested',
    ])
      expect(laneOf(kind, 'partner-1'), kind).toBe('transactional');
    expect(emailLanes).toEqual(['platform', 'transactional', 'bulk']);
  });
});

describe("a partner's emails claimed together (claimGroups)", () => {
  const emails = (partnerId: string, count: number, from = 0) =>
    Array.from({ length: count }, (_, n) => ({ partnerId, n: from + n }));
  const shape = (groups: { partnerId: string; items: { n: number }[] }[]) =>
    groups.map((group) => `${group.partnerId}:${group.items.map((item) => item.n).join(',')}`);

  it("groups each partner's emails in the order partners take turns, each group where its first email was", () => {
    const turns = [
      { partnerId: 'c', n: 0 },
      { partnerId: 'a', n: 1 },
      { partnerId: 'c', n: 2 },
      { partnerId: 'b', n: 3 },
      { partnerId: 'a', n: 4 },
    ];
    expect(shape(claimGroups(turns, 25))).toEqual(['c:0,2', 'a:1,4', 'b:3']);
  });

  it('puts 25 emails of a partner in one group and a 26th in a second', () => {
    expect(claimGroups(emails('a', 25), 25).map((group) => group.items.length)).toEqual([25]);
    expect(claimGroups(emails('a', 26), 25).map((group) => group.items.length)).toEqual([25, 1]);
    expect(claimGroups(emails('a', 51), 25).map((group) => group.items.length)).toEqual([
      25, 25, 1,
    ]);
  });

  it("puts a partner's later group after the other partners' first, never ahead of them", () => {
    // Taking turns, partner a's 26th email comes after b's first: so does its group.
    const turns = [...emails('a', 25), { partnerId: 'b', n: 100 }, ...emails('a', 2, 25)];
    expect(shape(claimGroups(turns, 25))).toEqual([
      `a:${Array.from({ length: 25 }, (_, n) => n).join(',')}`,
      'b:100',
      'a:25,26',
    ]);
  });

  it('makes no group of nothing', () => {
    expect(claimGroups([], 25)).toEqual([]);
  });
});
