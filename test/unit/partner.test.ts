import { describe, expect, it } from 'vitest';
import { newPartner, resumeHeldInvitation, type Partner } from '../../shared/domain/partner';

const approvedAt = new Date('2026-03-02T09:00:00.000Z');
const now = new Date('2026-03-10T14:30:00.000Z');

function partner(overrides: Partial<Partner> = {}): Partner {
  return {
    ...newPartner(
      'p',
      {
        companyName: 'Contoso',
        mpnId: '1234567',
        mpnVerified: true,
        mpnAccountEmail: null,
        country: 'US',
        programs: { directBill: true },
      },
      approvedAt,
    ),
    ...overrides,
  };
}

describe('an incentives invitation held for want of an MPN account email (docs/rules.md section 10)', () => {
  const heldSince = '2026-03-08T00:00:00.000Z';

  it('is due at once, and no longer held, when the master record gets the email', () => {
    const held = partner({ incentiveInviteHeldSince: heldSince, mpnAccountEmail: null });
    expect(
      resumeHeldInvitation({ ...held, mpnAccountEmail: 'mpn@contoso.example' }, now),
    ).toMatchObject({ incentiveInviteDueAt: now.toISOString(), incentiveInviteHeldSince: null });
  });

  it('stays held while the master record still has no email', () => {
    const held = partner({ incentiveInviteHeldSince: heldSince, mpnAccountEmail: null });
    expect(resumeHeldInvitation(held, now)).toEqual(held);
  });

  it('changes nothing for an invitation not held: not yet due, or already queued (never due twice)', () => {
    const dueLater = '2026-03-25T09:00:00.000Z';
    for (const notHeld of [
      partner({ incentiveInviteDueAt: dueLater, mpnAccountEmail: 'mpn@contoso.example' }),
      partner({
        incentiveInviteDueAt: null,
        incentiveInviteHeldSince: null,
        mpnAccountEmail: 'mpn@contoso.example',
      }),
      partner({ incentiveInviteDueAt: dueLater }),
    ]) {
      expect(resumeHeldInvitation(notHeld, now)).toEqual(notHeld);
    }
  });
});
