import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../shared/domain/email';
import { deliveryRetryDelaySeconds } from '../../shared/domain/webhooks';

const sixHours = 6 * 3600;

describe("an email's retry delay", () => {
  it('doubles from the base at each attempt: 30 s, 1 min, 2 min, 4 min', () => {
    expect([1, 2, 3, 4].map((attempts) => retryDelaySeconds(attempts, 30))).toEqual([
      30, 60, 120, 240,
    ]);
  });

  it('is capped at six hours: one doubling before, at, and one past the cap', () => {
    // 5400 s doubled twice is exactly six hours.
    expect(retryDelaySeconds(2, 5400)).toBe(10_800);
    expect(retryDelaySeconds(3, 5400)).toBe(sixHours);
    expect(retryDelaySeconds(4, 5400)).toBe(sixHours);
    // A base a second under the cap's half doubles to just under it.
    expect(retryDelaySeconds(2, sixHours / 2 - 1)).toBe(sixHours - 2);
    expect(retryDelaySeconds(2, sixHours / 2 + 1)).toBe(sixHours);
  });

  it('waits the base after the first attempt, and never less (no attempt yet counts as one)', () => {
    expect(retryDelaySeconds(1, 30)).toBe(30);
    expect(retryDelaySeconds(0, 30)).toBe(30);
  });
});

describe("a webhook delivery's retry delay", () => {
  it('is between half and all of 30 s, 1 min, 2 min ... by the random draw', () => {
    for (const [attempts, ceiling] of [
      [1, 30],
      [2, 60],
      [3, 120],
      [10, 15_360],
    ] as const) {
      expect(deliveryRetryDelaySeconds(attempts, 0)).toBe(ceiling / 2);
      expect(deliveryRetryDelaySeconds(attempts, 0.5)).toBe(Math.round((ceiling * 3) / 4)); // whole seconds
      expect(deliveryRetryDelaySeconds(attempts, 0.999_999)).toBe(ceiling);
    }
  });

  it('is capped at six hours: from attempt 11 on, between three and six hours', () => {
    // 30 s × 2^10 is 30,720 s, past six hours (21,600 s); 30 s × 2^9 is 15,360 s, under it.
    expect(deliveryRetryDelaySeconds(10, 0.999_999)).toBe(15_360);
    for (const attempts of [11, 12, 40]) {
      expect(deliveryRetryDelaySeconds(attempts, 0)).toBe(sixHours / 2);
      expect(deliveryRetryDelaySeconds(attempts, 0.999_999)).toBe(sixHours);
    }
  });

  it('waits 15 to 30 s after the first attempt, and never less', () => {
    expect(deliveryRetryDelaySeconds(0, 0)).toBe(15);
    expect(deliveryRetryDelaySeconds(1, 0)).toBe(15);
  });
});
