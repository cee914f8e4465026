import { describe, expect, it } from 'vitest';
import { allowedActions } from '../../shared/domain/customer-policy';
import {
  extendedToProvider,
  movedToIndirect,
  orderId,
  relationshipFor,
  subscriptionDocumentId,
  userDocumentId,
  userNameClaimId,
  type CustomerRelationship,
} from '../../shared/domain/customers';

const since = '2026-01-05T09:00:00.000Z';
const at = '2026-03-02T09:00:00.000Z';
const provider = { partnerId: 'provider', companyName: 'Adatum' };

const customer = (companyName = 'Northwind') => ({
  customerId: `c-${companyName}`,
  companyName,
  domain: `${companyName.toLowerCase()}.example`,
  country: 'FR',
});

/** The reseller's own direct-bill customer, without delegated admin rights yet. */
const directCustomer = (): CustomerRelationship =>
  relationshipFor('reseller', customer(), 'direct-bill', {
    acquiredAs: 'direct-bill',
    delegatedAdmin: false,
    at: since,
    reason: 'created by the partner',
  });

/** A customer that came to the reseller through the provider: indirect from the start. */
const indirectCustomer = (): CustomerRelationship =>
  relationshipFor('reseller', customer(), 'indirect-reseller', {
    acquiredAs: 'indirect-provider',
    indirectProvider: provider,
    delegatedAdmin: true,
    at: since,
    reason: 'created by the provider',
  });

describe("a partner's customers (docs/rules.md sections 7 and 9)", () => {
  it('lists customers by name whatever its case, punctuation before letters as an English collator does', () => {
    const names = ['zeta Systems', 'Beta', '_Lab', 'alpine'];
    const listed = names
      .map((name) =>
        relationshipFor('reseller', customer(name), 'direct-bill', {
          acquiredAs: 'direct-bill',
          delegatedAdmin: true,
          at: since,
          reason: 'created by the partner',
        }),
      )
      .sort((a, b) => (a.sortName < b.sortName ? -1 : a.sortName > b.sortName ? 1 : 0))
      .map((relationship) => relationship.companyName);
    expect(listed).toEqual([...names].sort(new Intl.Collator('en').compare));
  });

  it("gives each order of a customer its own document id, apart from its subscriptions' and users'", () => {
    const ids = [
      orderId('a1'),
      orderId('b2'),
      subscriptionDocumentId('a1'),
      userDocumentId('a1'),
      userNameClaimId('a1@northwind.example'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('a direct customer moving towards a provider (docs/rules.md sections 8 and 8b)', () => {
  it('on accepting an invitation: the reseller becomes its indirect reseller with delegated admin, keeps its direct-bill rights, and the history names the provider', () => {
    const moved = movedToIndirect(directCustomer(), provider, at);
    expect(moved).toMatchObject({
      relationship: 'indirect-reseller',
      acquiredAs: 'direct-bill',
      indirectProvider: provider,
      delegatedAdmin: true,
      retainsDirectBill: true,
    });
    expect(moved.history).toHaveLength(2);
    expect(moved.history[1]).toMatchObject({ at, from: 'direct-bill', to: 'indirect-reseller' });
    expect(moved.history[1]!.reason).toContain('Adatum');
    expect(allowedActions(moved.relationship, moved.retainsDirectBill)).toContain('bill-customer');
  });

  it('on an extension: the same move, the delegated admin rights left as they were, and the history names the provider', () => {
    const extended = extendedToProvider(directCustomer(), provider, at);
    expect(extended).toMatchObject({
      relationship: 'indirect-reseller',
      indirectProvider: provider,
      delegatedAdmin: false,
      retainsDirectBill: true,
    });
    expect(extended.history[1]).toMatchObject({ at, from: 'direct-bill', to: 'indirect-reseller' });
    expect(extended.history[1]!.reason).toContain('Adatum');
  });

  it('keeps no direct-bill rights for a customer that came through a provider: the reseller never billed it', () => {
    for (const moved of [
      movedToIndirect(indirectCustomer(), provider, at),
      extendedToProvider(indirectCustomer(), provider, at),
    ]) {
      expect(moved.retainsDirectBill).toBe(false);
      expect(allowedActions(moved.relationship, moved.retainsDirectBill)).not.toContain(
        'bill-customer',
      );
    }
  });
});
