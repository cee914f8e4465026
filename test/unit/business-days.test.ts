import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBusinessDays, isBusinessDay, isPendingBeyond } from '../../shared/domain/business-days';

const at = (iso: string): Date => new Date(iso);

describe('business days (Monday to Friday, UTC)', () => {
  it('adds three business days within a week', () => {
    // Monday 10:00 -> Thursday 10:00
    expect(addBusinessDays(at('2026-03-02T10:00:00Z'), 3).toISOString()).toBe(
      '2026-03-05T10:00:00.000Z',
    );
  });

  it('skips the weekend from a Friday evening submission', () => {
    // Friday 18:30 -> Wednesday 18:30
    expect(addBusinessDays(at('2026-03-06T18:30:00Z'), 3).toISOString()).toBe(
      '2026-03-11T18:30:00.000Z',
    );
  });

  it('counts a Sunday submission from Monday morning', () => {
    // Sunday 15:00 -> counts from Monday 00:00 -> Thursday 00:00
    expect(addBusinessDays(at('2026-03-08T15:00:00Z'), 3).toISOString()).toBe(
      '2026-03-12T00:00:00.000Z',
    );
  });

  it('counts a Saturday submission from Monday morning', () => {
    expect(addBusinessDays(at('2026-03-07T09:00:00Z'), 1).toISOString()).toBe(
      '2026-03-10T00:00:00.000Z',
    );
  });

  it('crosses month and year ends', () => {
    // Friday 30 January -> Wednesday 4 February
    expect(addBusinessDays(at('2026-01-30T12:00:00Z'), 3).toISOString()).toBe(
      '2026-02-04T12:00:00.000Z',
    );
    // Wednesday 30 December 2026 -> Monday 4 January 2027
    expect(addBusinessDays(at('2026-12-30T08:00:00Z'), 3).toISOString()).toBe(
      '2027-01-04T08:00:00.000Z',
    );
    // Friday 27 February 2026 -> Wednesday 4 March (not a leap year)
    expect(addBusinessDays(at('2026-02-27T23:59:00Z'), 3).toISOString()).toBe(
      '2026-03-04T23:59:00.000Z',
    );
  });

  it('uses UTC, not local time: Friday 23:30 UTC is still Friday', () => {
    expect(isBusinessDay(at('2026-03-06T23:30:00Z'))).toBe(true);
    expect(isBusinessDay(at('2026-03-07T00:30:00Z'))).toBe(false);
  });

  it('is pending beyond the window only after the deadline has passed', () => {
    const submitted = at('2026-03-06T18:30:00Z');
    expect(isPendingBeyond(submitted, at('2026-03-11T18:30:00Z'), 3)).toBe(false);
    expect(isPendingBeyond(submitted, at('2026-03-11T18:30:01Z'), 3)).toBe(true);
    // The English page's five days is a setting away.
    expect(isPendingBeyond(submitted, at('2026-03-12T12:00:00Z'), 5)).toBe(false);
  });

  it('always lands on a business day, n business days and at least n calendar days later', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('2020-01-01T00:00:00Z'),
          max: new Date('2035-01-01T00:00:00Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 1, max: 30 }),
        (start, days) => {
          const end = addBusinessDays(start, days);
          expect(isBusinessDay(end)).toBe(true);
          expect(end.getTime() - start.getTime()).toBeGreaterThanOrEqual(days * 24 * 3600 * 1000);
          // At most `days` business days plus the weekends in between: within days + 2*(days/5 + 1) + 2 calendar days.
          expect(end.getTime() - start.getTime()).toBeLessThanOrEqual(
            (days + 2 * (Math.floor(days / 5) + 1) + 2) * 24 * 3600 * 1000,
          );
        },
      ),
    );
  });
});
