import { describe, expect, it } from 'vitest';
import { newPartner, type Partner, type Programs } from '../../shared/domain/partner';
import {
  assertProvider,
  assertSameRegion,
  isActivePartnership,
  partnershipSides,
  partnershipState,
  providerListing,
  providerSnapshot,
  type Partnership,
} from '../../shared/domain/providers';
import { refusal } from '../support/refusal';

const now = new Date('2026-03-02T09:00:00Z');

function partner(partnerId: string, companyName: string, programs: Programs): Partner {
  return newPartner(
    partnerId,
    {
      companyName,
      mpnId: partnerId === 'provider' ? '7654321' : '1234567',
      mpnVerified: true,
      mpnAccountEmail: null,
      country: 'FR',
      programs,
    },
    now,
  );
}

const providerProgram = { regions: ['FR', 'BE'], services: ['marketing' as const] };
const provider = partner('provider', 'Adatum', {
  directBill: false,
  indirectProvider: providerProgram,
});
const reseller = partner('reseller', 'Fourth Coffee', { directBill: true });

/** Both sides of a partnership started by invitation `invitationId`. */
const sides = (invitationId = 'inv-1') =>
  partnershipSides(providerSnapshot(provider), reseller, invitationId, now.toISOString());

describe('the provider directory (docs/rules.md section 5)', () => {
  it('sorts providers by name whatever its case, punctuation before letters as an English collator does', () => {
    const names = ['zeta Systems', 'Beta', '_Lab', 'alpine'];
    const listed = names
      .map((name, i) => providerListing(partner(`p${i}`, name, { ...provider.programs }))!)
      .sort((a, b) => (a.sortName < b.sortName ? -1 : a.sortName > b.sortName ? 1 : 0))
      .map((listing) => listing.companyName);
    expect(listed).toEqual([...names].sort(new Intl.Collator('en').compare));
  });

  it('refuses a partner without the provider program with 403, saying only a provider invites', () => {
    const error = refusal(() => assertProvider(reseller));
    expect(error).toMatchObject({ code: 'forbidden', status: 403 });
    expect(error.detail).toMatch(/indirect provider/);
  });

  it('gives a snapshot of a partner without the provider program no regions and no services', () => {
    expect(providerSnapshot(reseller)).toMatchObject({ regions: [], services: [] });
    expect(providerSnapshot(provider)).toMatchObject(providerProgram);
  });
});

describe("the provider's regions (docs/rules.md section 6)", () => {
  it('accepts a reseller based in one of the regions, whatever the case of its country', () => {
    expect(() => assertSameRegion(['FR', 'BE'], 'be')).not.toThrow();
  });

  it("tells the reseller the provider's regions and its own country by default", () => {
    const error = refusal(() => assertSameRegion(['FR', 'BE'], 'de'));
    expect(error).toMatchObject({ code: 'region-mismatch', status: 403 });
    expect(error.detail).toContain('FR, BE');
    expect(error.detail).toContain('DE');
  });

  it('tells a provider its own regions but never where the MPN ID is based', () => {
    const error = refusal(() => assertSameRegion(['FR', 'BE'], 'de', false));
    expect(error).toMatchObject({ code: 'region-mismatch', status: 403 });
    expect(error.detail).toContain('FR, BE');
    expect(error.detail).not.toMatch(/\bde\b/i);
  });
});

describe('a partnership, checked from both sides (docs/rules.md section 8b)', () => {
  it('is active with both sides active and of the same invitation', () => {
    const { providerSide, resellerSide } = sides();
    expect(partnershipState(resellerSide, providerSide, 'reseller')).toBe('active');
    expect(partnershipState(resellerSide, providerSide, 'provider')).toBe('active');
  });

  it('counts a side written before partnerships could end (no status) as active, and an ended one as not', () => {
    const { providerSide } = sides();
    const { status: _status, ...unmarked } = providerSide;
    expect(isActivePartnership(unmarked)).toBe(true);
    expect(isActivePartnership({ ...providerSide, status: 'ended' })).toBe(false);
  });

  it('is none for the party whose own side is missing, and ended for the other party', () => {
    const { providerSide, resellerSide } = sides();
    expect(partnershipState(null, providerSide, 'reseller')).toBe('none');
    expect(partnershipState(null, providerSide, 'provider')).toBe('ended');
    expect(partnershipState(resellerSide, undefined, 'provider')).toBe('none');
    expect(partnershipState(resellerSide, undefined, 'reseller')).toBe('ended');
  });

  it('counts a document on the other side, or not a partnership at all, as a missing side', () => {
    const { providerSide, resellerSide } = sides();
    // Two partners each the other's provider: what is read for one side is the other side.
    expect(partnershipState(providerSide, providerSide, 'reseller')).toBe('none');
    expect(partnershipState(resellerSide, resellerSide, 'provider')).toBe('none');
    const notAPartnership = { ...resellerSide, type: 'provider-listing' } as unknown as Partnership;
    expect(partnershipState(notAPartnership, providerSide, 'reseller')).toBe('none');
  });

  it('is ended when the two sides belong to different invitations (one side restarted)', () => {
    const { providerSide } = sides('inv-1');
    const { resellerSide } = sides('inv-2');
    expect(partnershipState(resellerSide, providerSide, 'reseller')).toBe('ended');
    expect(partnershipState(resellerSide, providerSide, 'provider')).toBe('ended');
  });

  it("writes on the provider's side the reseller as a reseller: no regions, no services, even when it is a provider too", () => {
    const resellerAndProvider = partner('reseller', 'Fourth Coffee', {
      directBill: true,
      indirectProvider: { regions: ['DE'], services: ['training-support'] },
    });
    const { providerSide, resellerSide } = partnershipSides(
      providerSnapshot(provider),
      resellerAndProvider,
      'inv-1',
      now.toISOString(),
    );
    expect(providerSide).toMatchObject({
      partnerId: provider.partnerId,
      counterpartyId: resellerAndProvider.partnerId,
      counterpartyRegions: [],
      counterpartyServices: [],
    });
    expect(resellerSide).toMatchObject({
      partnerId: resellerAndProvider.partnerId,
      counterpartyId: provider.partnerId,
      counterpartyRegions: providerProgram.regions,
      counterpartyServices: providerProgram.services,
    });
  });
});
