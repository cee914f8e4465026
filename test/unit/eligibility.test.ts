import { describe, expect, it } from 'vitest';
import { assertEligible, profileProblems } from '../../shared/domain/eligibility';
import { newPartner, type Partner } from '../../shared/domain/partner';

const now = new Date('2026-03-02T09:00:00Z');

function partner(overrides: Partial<Partner> = {}): Partner {
  const base = newPartner(
    'p',
    {
      companyName: 'Contoso',
      mpnId: '1234567',
      mpnVerified: true,
      mpnAccountEmail: null,
      country: 'US',
      programs: { directBill: true },
    },
    now,
  );
  return {
    ...base,
    profile: {
      companyName: 'Contoso',
      mpnId: '1234567',
      address: { line1: '1 Main St', city: 'Seattle', postalCode: '98052', country: 'US' },
      primaryContact: {
        firstName: 'Pat',
        lastName: 'Lee',
        email: 'pat@contoso.example',
        phone: '+1 425 555 0100',
      },
      confirmedAt: '2025-06-01T00:00:00.000Z',
      confirmedBy: 'u',
    },
    ...overrides,
  };
}

describe('eligibility (docs/rules.md section 1)', () => {
  it('accepts a direct-bill partner with a complete profile confirmed within 12 months', () => {
    expect(profileProblems(partner(), now)).toEqual([]);
    expect(() => assertEligible(partner(), now)).not.toThrow();
  });

  it('lists each missing item', () => {
    const p = partner();
    const incomplete = {
      ...p,
      mpnId: null,
      profile: { ...p.profile!, mpnId: '', address: { ...p.profile!.address, city: ' ' } },
    };
    expect(profileProblems(incomplete, now).map((problem) => problem.path)).toEqual([
      'profile.address.city',
      'profile.mpnId',
    ]);
  });

  it('counts exactly 12 months: the same day a year later is still current, the day after is stale', () => {
    const p = partner({
      profile: { ...partner().profile!, confirmedAt: '2025-03-02T09:00:00.000Z' },
    });
    expect(profileProblems(p, new Date('2026-03-02T09:00:00.000Z'))).toEqual([]);
    expect(
      profileProblems(p, new Date('2026-03-03T09:00:00.000Z')).map((problem) => problem.path),
    ).toEqual(['profile.confirmedAt']);
  });

  it('refuses a partner outside direct bill before looking at its profile', () => {
    expect(() =>
      assertEligible(partner({ programs: { directBill: false }, profile: null }), now),
    ).toThrow(expect.objectContaining({ code: 'not-eligible' }));
  });
});
