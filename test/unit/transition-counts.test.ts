import { describe, expect, it } from 'vitest';
import {
  extendedToProvider,
  movedToIndirect,
  relationshipFor,
  type AcquiredAs,
  type CustomerRelationship,
} from '../../shared/domain/customers';
import type { Relationship } from '../../shared/domain/customer-policy';
import {
  applyChange,
  customerCountOf,
  emptyCounts,
  firstTime,
  isEmptyChange,
  relationshipCountChange,
  type CountChange,
  type TransitionCounts,
} from '../../shared/domain/transition-counts';
import type { PartnerDocument, WriteOperation } from '../../shared/app/ports';
import { countsPatch } from '../../shared/app/transition-counts';

/**
 * docs/rules.md section 14, the counts: which count a relationship of the partner's is in, the
 * change each relationship's write makes, and when a moment is recorded. A Monday, 09:00 UTC.
 */
const monday = new Date('2026-03-02T09:00:00.000Z');
const at = (days: number): string => new Date(monday.getTime() + days * 86_400_000).toISOString();
const provider = { partnerId: 'provider-1', companyName: 'Fabrikam Supply' };
const customer = {
  customerId: 'customer-1',
  companyName: 'Tailspin',
  domain: 'tailspin.example',
  country: 'US',
};

const relationshipOf = (
  partnerId: string,
  relationship: Relationship,
  acquiredAs: AcquiredAs,
): CustomerRelationship =>
  relationshipFor(partnerId, customer, relationship, {
    acquiredAs,
    delegatedAdmin: relationship !== 'indirect-provider',
    at: at(-20),
    reason: 'test',
  });
/** The reseller's own customer, billed directly. */
const ownCustomer = (): CustomerRelationship =>
  relationshipOf('partner-1', 'direct-bill', 'direct-bill');
/** A customer the reseller acquired through its provider (an invitation to both). */
const acquiredThroughProvider = (): CustomerRelationship =>
  relationshipOf('partner-1', 'indirect-reseller', 'indirect-provider');
/** The provider's side of a customer of one of its resellers. */
const providersSide = (): CustomerRelationship =>
  relationshipOf('provider-1', 'indirect-provider', 'indirect-provider');

/** A partner's counts, nothing counted yet. */
const counts = (): TransitionCounts => emptyCounts('partner-1', new Date(at(-30)));

describe('the count a relationship is in', () => {
  it("puts the partner's own customers in directBill, moved ones in extendedToProvider, acquired ones in indirect", () => {
    expect(customerCountOf(ownCustomer())).toBe('directBill');
    expect(customerCountOf(extendedToProvider(ownCustomer(), provider, at(0)))).toBe(
      'extendedToProvider',
    );
    expect(customerCountOf(movedToIndirect(ownCustomer(), provider, at(0)))).toBe(
      'extendedToProvider',
    );
    expect(customerCountOf(acquiredThroughProvider())).toBe('indirect');
    expect(customerCountOf(null)).toBeNull();
  });

  it("counts a provider's side of a customer in none of the partner's counts", () => {
    expect(customerCountOf(providersSide())).toBeNull();
    const change = relationshipCountChange(null, providersSide(), at(0));
    expect(isEmptyChange(change)).toBe(true);
    expect(applyChange(counts(), change)).toEqual(counts());
  });
});

describe("a relationship's count change", () => {
  it('adds a new own customer to directBill, without a moment', () => {
    const after = applyChange(counts(), relationshipCountChange(null, ownCustomer(), at(0)));
    expect(after.customers).toEqual({ directBill: 1, extendedToProvider: 0, indirect: 0 });
    expect(after.firstCustomerExtendedAt).toBeNull();
  });

  it('moves an extended customer from directBill to extendedToProvider, recording the moment', () => {
    const before = applyChange(counts(), { customers: { directBill: 2 } });
    const change = relationshipCountChange(
      ownCustomer(),
      extendedToProvider(ownCustomer(), provider, at(1)),
      at(1),
    );
    const after = applyChange(before, change);
    expect(after.customers).toEqual({ directBill: 1, extendedToProvider: 1, indirect: 0 });
    expect(after.firstCustomerExtendedAt).toBe(at(1));
  });

  it('adds a customer acquired through a provider to indirect, recording no customer moved', () => {
    const after = applyChange(
      counts(),
      relationshipCountChange(null, acquiredThroughProvider(), at(1)),
    );
    expect(after.customers).toEqual({ directBill: 0, extendedToProvider: 0, indirect: 1 });
    expect(after.firstCustomerExtendedAt).toBeNull();
  });

  it('moves nothing when a relationship is rewritten in the count it was in', () => {
    const before = applyChange(counts(), { customers: { directBill: 1 } });
    const renamed = { ...ownCustomer(), companyName: 'Tailspin Toys' };
    const change = relationshipCountChange(ownCustomer(), renamed, at(1));
    expect(isEmptyChange(change)).toBe(true);
    expect(applyChange(before, change)).toEqual(before);
  });
});

describe('an empty change', () => {
  it('is one that moves no number and records no moment (it is not written)', () => {
    expect(isEmptyChange({})).toBe(true);
    expect(isEmptyChange({ providers: 0, customers: { directBill: 0 }, moments: {} })).toBe(true);
  });

  it('is not one that moves a number', () => {
    expect(isEmptyChange({ providers: -1 })).toBe(false);
    expect(isEmptyChange({ subscriptions: { inTransfer: 2, directBillActive: 0 } })).toBe(false);
  });

  it('is not one that only records a moment', () => {
    expect(isEmptyChange({ moments: { lastTransferRequestedAt: at(1) } })).toBe(false);
  });
});

describe('the moments a change records', () => {
  const read = (moments: Partial<TransitionCounts>): TransitionCounts => ({
    ...counts(),
    ...moments,
  });

  it('keeps a first moment the counts read before the write did not have yet', () => {
    const change = { providers: 1, moments: { firstPartnershipAt: at(2) } };
    expect(firstTime(change, read({}))).toEqual(change);
    // A partner recorded before counts were kept: its first change is the first time.
    expect(firstTime(change, null)).toEqual(change);
  });

  it('drops a first moment the counts already had: the first time stays the first', () => {
    const earlier = read({ firstPartnershipAt: at(1), firstTransferCompletedAt: at(1) });
    const change = {
      providers: 1,
      moments: { firstPartnershipAt: at(5), firstTransferCompletedAt: at(5) },
    };
    const kept = firstTime(change, earlier);
    expect(kept).toEqual({ providers: 1, moments: {} });
    expect(applyChange(earlier, kept)).toMatchObject({
      providers: 1,
      firstPartnershipAt: at(1),
      firstTransferCompletedAt: at(1),
    });
  });

  it('keeps the latest of a last moment, whatever the counts had', () => {
    const earlier = read({ lastPartnershipEndedAt: at(1), lastTransferRequestedAt: at(1) });
    const change = {
      moments: { lastPartnershipEndedAt: at(5), lastTransferRequestedAt: at(5) },
    };
    expect(firstTime(change, earlier)).toEqual(change);
    expect(applyChange(earlier, firstTime(change, earlier))).toMatchObject({
      lastPartnershipEndedAt: at(5),
      lastTransferRequestedAt: at(5),
    });
  });

  it('leaves a change without moments as it is', () => {
    const change = { customers: { directBill: -1, extendedToProvider: 1 } };
    expect(firstTime(change, read({ firstCustomerExtendedAt: at(1) }))).toEqual(change);
  });
});

describe('the write of a change', () => {
  /** Every customer and subscription count moved, and four moments: 10 changes of the document. */
  const ten: CountChange = {
    customers: { directBill: -1, extendedToProvider: 1, indirect: 1 },
    subscriptions: { directBillActive: -2, inTransfer: -1, transferred: 3 },
    moments: {
      firstPartnershipAt: at(1),
      firstCustomerExtendedAt: at(1),
      lastTransferRequestedAt: at(1),
      firstTransferCompletedAt: at(1),
    },
  };
  /** Every count moved and every moment recorded at once: 12 changes. */
  const everything: CountChange = {
    ...ten,
    providers: 1,
    moments: { ...ten.moments, lastPartnershipEndedAt: at(1) },
  };

  /** The counts document after the patches, as Cosmos DB applies them: incr adds, set writes. */
  function patched(
    before: TransitionCounts,
    operations: WriteOperation<PartnerDocument>[],
  ): TransitionCounts {
    const document = structuredClone(before) as unknown as Record<string, unknown>;
    for (const operation of operations) {
      if (operation.op !== 'patch' || operation.id !== before.id) throw new Error('not a patch');
      for (const step of operation.steps) {
        const names = step.path.slice(1).split('/');
        const last = names.pop()!;
        const parent = names.reduce(
          (node, name) => node[name] as Record<string, unknown>,
          document,
        );
        parent[last] = step.op === 'incr' ? (parent[last] as number) + step.value : step.value;
      }
    }
    return document as unknown as TransitionCounts;
  }

  it('writes nothing for a change that moves nothing, and nothing for a count that stays', () => {
    expect(countsPatch({})).toEqual([]);
    const some: CountChange = {
      providers: 0,
      customers: { directBill: 0, indirect: 1 },
      subscriptions: { inTransfer: 0, transferred: 2 },
    };
    const operations = countsPatch(some);
    const steps = operations.flatMap((operation) =>
      operation.op === 'patch' ? operation.steps : [],
    );
    expect(steps.filter((step) => step.op === 'incr' && step.value === 0)).toEqual([]);
    expect(patched(counts(), operations)).toEqual(applyChange(counts(), some));
  });

  it('writes a change in patches Cosmos DB takes, 1 to 10 changes each, the whole change once', () => {
    for (const change of [ten, everything]) {
      const operations = countsPatch(change);
      const sizes = operations.map((operation) =>
        operation.op === 'patch' ? operation.steps.length : 0,
      );
      expect(Math.min(...sizes)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
      expect(patched(counts(), operations)).toEqual(applyChange(counts(), change));
    }
  });
});
