import { describe, expect, it } from 'vitest';
import {
  assertEligible,
  assertReviewedDetailsMatch,
  profileProblems,
} from '../../shared/domain/eligibility';
import { newPartner, type Partner } from '../../shared/domain/partner';
import { refusal } from '../support/refusal';

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

/** The partner with one field of its profile (a dotted path under `profile`) set to `value`. */
function withProfileField(path: string, value: string): Partner {
  const p = structuredClone(partner());
  const keys = path.split('.').slice(1);
  let node = p.profile as unknown as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys[keys.length - 1]!] = value;
  return p;
}

describe('what is missing from the profile (docs/rules.md section 1)', () => {
  const requiredItems = [
    'profile.companyName',
    'profile.address.line1',
    'profile.address.city',
    'profile.address.postalCode',
    'profile.address.country',
    'profile.primaryContact.firstName',
    'profile.primaryContact.lastName',
    'profile.primaryContact.email',
    'profile.primaryContact.phone',
  ];

  it.each(requiredItems)('names %s, and only it, when it is blank', (path) => {
    expect(profileProblems(withProfileField(path, ''), now)).toEqual([
      { path, message: 'is missing' },
    ]);
  });

  it("takes the MPN ID from the master record, else from the profile's, and names it when neither has one", () => {
    const p = partner();
    const onRecordOnly = { ...p, mpnId: '1234567', profile: { ...p.profile!, mpnId: '' } };
    const inProfileOnly = { ...p, mpnId: null, profile: { ...p.profile!, mpnId: '1234567' } };
    const neither = { ...p, mpnId: null, profile: { ...p.profile!, mpnId: '' } };
    expect(profileProblems(onRecordOnly, now)).toEqual([]);
    expect(profileProblems(inProfileOnly, now)).toEqual([]);
    expect(profileProblems(neither, now)).toEqual([
      { path: 'profile.mpnId', message: 'is missing' },
    ]);
  });

  it('says on which day a stale profile was last confirmed', () => {
    const p = partner({
      profile: { ...partner().profile!, confirmedAt: '2025-03-02T09:00:00.000Z' },
    });
    const [stale] = profileProblems(p, new Date('2026-03-03T09:00:00.000Z'));
    expect(stale!.path).toBe('profile.confirmedAt');
    expect(stale!.message).toContain('2025-03-02');
    expect(stale!.message).not.toContain('09:00');
  });
});

describe('who may enroll (docs/rules.md section 1)', () => {
  it('tells a partner outside direct bill why it cannot enroll', () => {
    const error = refusal(() => assertEligible(partner({ programs: { directBill: false } }), now));
    expect(error).toMatchObject({ code: 'not-eligible', status: 403 });
    expect(error.detail).toMatch(/direct-bill program/);
  });

  it('refuses an incomplete profile with 403 profile-incomplete, naming each missing item in the detail and the errors', () => {
    const p = partner();
    const incomplete = {
      ...p,
      mpnId: null,
      profile: { ...p.profile!, mpnId: '', address: { ...p.profile!.address, city: '' } },
    };
    const error = refusal(() => assertEligible(incomplete, now));
    expect(error).toMatchObject({ code: 'profile-incomplete', status: 403 });
    expect(error.detail).toMatch(/^Update and confirm the partner profile before enrolling\b/);
    expect(error.detail).toContain('profile.address.city, profile.mpnId');
    expect(error.errors).toEqual(profileProblems(incomplete, now));
  });
});

describe('the details the admin reviewed (docs/rules.md section 2)', () => {
  const reviewed = {
    companyName: 'Contoso',
    mpnId: '1234567',
    address: { line1: '1 Main St', city: 'Seattle', postalCode: '98052', country: 'US' },
  };

  it("accepts the profile's own details whatever their case and surrounding spaces, on either side, with or without the address", () => {
    expect(() =>
      assertReviewedDetailsMatch(partner(), {
        companyName: '  CONTOSO ',
        mpnId: ' 1234567 ',
        address: { line1: '1 MAIN ST ', city: ' seattle', postalCode: '98052 ', country: 'us' },
      }),
    ).not.toThrow();
    const p = partner();
    const spacedProfile = { ...p, profile: { ...p.profile!, companyName: ' Contoso  ' } };
    expect(() => assertReviewedDetailsMatch(spacedProfile, reviewed)).not.toThrow();
    expect(() =>
      assertReviewedDetailsMatch(partner(), { companyName: 'Contoso', mpnId: '1234567' }),
    ).not.toThrow();
  });

  it("refuses an MPN ID that is not the partner's with 400, naming the one on record", () => {
    const error = refusal(() =>
      assertReviewedDetailsMatch(partner(), { ...reviewed, mpnId: '7654321' }),
    );
    expect(error).toMatchObject({ code: 'validation-failed', status: 400 });
    expect(error.detail).toMatch(/do not match the partner profile; review them again/);
    expect(error.errors).toHaveLength(1);
    expect(error.errors![0]!.path).toBe('body.reviewedDetails.mpnId');
    expect(error.errors![0]!.message).toContain('1234567');
  });

  it("matches the MPN ID of the master record, else the profile's", () => {
    const p = partner();
    const differing = { ...p, mpnId: '1234567', profile: { ...p.profile!, mpnId: '7654321' } };
    expect(() => assertReviewedDetailsMatch(differing, reviewed)).not.toThrow();
    expect(
      refusal(() => assertReviewedDetailsMatch(differing, { ...reviewed, mpnId: '7654321' }))
        .errors,
    ).toEqual([expect.objectContaining({ path: 'body.reviewedDetails.mpnId' })]);
    const profileOnly = { ...differing, mpnId: null };
    expect(() =>
      assertReviewedDetailsMatch(profileOnly, { ...reviewed, mpnId: '7654321' }),
    ).not.toThrow();
  });

  it.each(['line1', 'city', 'postalCode', 'country'] as const)(
    'refuses a reviewed address whose %s differs from the profile, naming that field only',
    (field) => {
      const error = refusal(() =>
        assertReviewedDetailsMatch(partner(), {
          ...reviewed,
          address: { ...reviewed.address, [field]: 'Elsewhere' },
        }),
      );
      expect(error).toMatchObject({ code: 'validation-failed', status: 400 });
      expect(error.errors).toEqual([
        { path: `body.reviewedDetails.address.${field}`, message: 'does not match the profile' },
      ]);
    },
  );
});
