import { describe, expect, it } from 'vitest';
import {
  allowedActions,
  assertAllowed,
  customerActions,
  isAllowed,
  policyTable,
} from '../../shared/domain/customer-policy';
import { refusal } from '../support/refusal';

describe('the action table (docs/rules.md section 9)', () => {
  it('is the table of docs/rules.md, cell by cell', () => {
    // direct-bill customer | indirect-reseller customer (reseller's view) | indirect customer (provider's view)
    const domainTable = {
      'place-orders': [true, false, true],
      'manage-azure-reservations': [true, false, false],
      'view-order-history': [true, false, true],
      'buy-software': [true, false, false],
      'bill-customer': [true, false, true],
      'manage-users-and-licenses': [true, true, false],
      'manage-subscription-renewal': [true, true, false],
    };
    for (const [action, [direct, reseller, provider]] of Object.entries(domainTable)) {
      expect(policyTable[action as keyof typeof policyTable], action).toEqual({
        'direct-bill': direct,
        'indirect-reseller': reseller,
        'indirect-provider': provider,
      });
    }
    expect(Object.keys(policyTable).sort()).toEqual(Object.keys(domainTable).sort());
  });

  it('lists the open actions of each relationship', () => {
    expect(allowedActions('indirect-reseller')).toEqual([
      'manage-users-and-licenses',
      'manage-subscription-renewal',
    ]);
    expect(allowedActions('indirect-provider')).toEqual([
      'place-orders',
      'view-order-history',
      'bill-customer',
    ]);
    expect(allowedActions('direct-bill')).toHaveLength(7);
  });

  it('names who can do a refused action', () => {
    expect(() =>
      assertAllowed('indirect-reseller', 'place-orders', { partnerId: 'p', companyName: 'Adatum' }),
    ).toThrow(/Only the indirect provider \(Adatum\) can create orders/);
    expect(() =>
      assertAllowed('indirect-provider', 'manage-users-and-licenses', {
        partnerId: 'r',
        companyName: 'Fourth Coffee',
      }),
    ).toThrow(/Only the indirect reseller \(Fourth Coffee\) can manage users and licenses/);
    expect(() => assertAllowed('indirect-provider', 'buy-software', null)).toThrow(
      /only a direct-bill partner can/,
    );
  });

  it('names the other party without a name when none is known, and ends there when the caller tried the action itself', () => {
    const error = refusal(() => assertAllowed('indirect-reseller', 'place-orders', null));
    expect(error).toMatchObject({ code: 'action-not-allowed', status: 403 });
    expect(error.detail).toMatch(/^Only the indirect provider can create orders and add products/);
    expect(error.detail).toMatch(/for this customer\.$/);
  });
});

describe('what a reseller keeps for its remaining direct-bill subscriptions (docs/rules.md section 8b)', () => {
  it('is nothing unless the relationship says it retains direct bill', () => {
    expect(isAllowed('indirect-reseller', 'bill-customer')).toBe(false);
    expect(isAllowed('indirect-reseller', 'view-order-history')).toBe(false);
    expect(isAllowed('indirect-reseller', 'bill-customer', true)).toBe(true);
    const error = refusal(() =>
      assertAllowed('indirect-reseller', 'view-order-history', {
        partnerId: 'p',
        companyName: 'Adatum',
      }),
    );
    expect(error.code).toBe('action-not-allowed');
    expect(error.detail).not.toMatch(/You keep/);
  });

  it("opens nothing more to the provider: retaining direct bill is the reseller's", () => {
    for (const action of customerActions) {
      expect(isAllowed('indirect-provider', action, true), action).toBe(
        policyTable[action]['indirect-provider'],
      );
    }
  });
});
