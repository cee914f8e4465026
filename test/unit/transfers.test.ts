import { describe, expect, it } from 'vitest';
import { partnershipEndedEmail, transferEmail } from '../../shared/app/emails/transfer-emails';
import { allowedActions, assertAllowed } from '../../shared/domain/customer-policy';
import type { Subscription } from '../../shared/domain/customers';
import {
  assertTransition,
  eligibility,
  transferLines,
  transferStatuses,
  transferTransitions,
  transferredSubscriptions,
  type Transfer,
} from '../../shared/domain/transfers';

const reseller = 'reseller-1';

function subscription(id: string, overrides: Partial<Subscription> = {}): Subscription {
  return {
    type: 'subscription',
    id: `subscription-${id}`,
    customerId: 'customer-1',
    subscriptionId: id,
    orderId: 'order-1',
    offerId: `offer-${id}`,
    productType: 'license',
    quantity: 5,
    assignedLicenses: 0,
    autoRenew: true,
    billedBy: reseller,
    partners: [reseller],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('the transfer state machine', () => {
  it('moves only a pending transfer, and only to an end', () => {
    for (const from of transferStatuses) {
      for (const to of transferStatuses) {
        const allowed = from === 'pending' && to !== 'pending';
        expect(transferTransitions[from].includes(to), `${from} → ${to}`).toBe(allowed);
        if (!allowed) expect(() => assertTransition(from, to)).toThrow(/no longer become/);
      }
    }
  });
});

describe('transfer eligibility', () => {
  const subscriptions = [
    subscription('base'),
    subscription('addon', { baseSubscriptionId: 'base' }),
    subscription('azure', { productType: 'azure-plan' }),
    subscription('suspended', { status: 'suspended' }),
    subscription('provider', { billedBy: 'provider-1' }),
    subscription('busy'),
    subscription('orphan', { baseSubscriptionId: 'azure' }),
  ];
  const open = { busy: 'transfer-0' };

  it('gives every subscription a verdict, with the reason when it cannot move', () => {
    const result = eligibility(subscriptions, reseller, open);
    expect(result.eligible.map((item) => item.subscriptionId)).toEqual(['base', 'addon']);
    expect(
      Object.fromEntries(
        result.ineligible.map((item) => [item.subscription.subscriptionId, item.reason]),
      ),
    ).toEqual({
      azure: 'not-a-license-subscription',
      suspended: 'not-active',
      provider: 'not-direct-bill',
      busy: 'in-open-transfer',
      orphan: 'add-on-base-not-moved',
    });
  });

  it('moves add-ons with their base, and refuses an add-on asked for without it', () => {
    let next = 0;
    const lines = transferLines(['base'], subscriptions, reseller, open, () => `new-${++next}`);
    expect(lines).toEqual([
      {
        subscriptionId: 'base',
        offerId: 'offer-base',
        quantity: 5,
        newSubscriptionId: 'new-1',
        addOns: [
          {
            subscriptionId: 'addon',
            offerId: 'offer-addon',
            quantity: 5,
            newSubscriptionId: 'new-2',
          },
        ],
      },
    ]);
    expect(() => transferLines(['addon'], subscriptions, reseller, open, () => 'x')).toThrow(
      expect.objectContaining({ code: 'transfer-not-eligible' }),
    );
    expect(() => transferLines(['busy'], subscriptions, reseller, open, () => 'x')).toThrow(
      expect.objectContaining({ code: 'transfer-in-progress' }),
    );
  });

  it("gives an add-on that cannot move on its own merits its own reason, not its base's", () => {
    const result = eligibility(
      [
        subscription('azure', { productType: 'azure-plan' }),
        subscription('stopped', { baseSubscriptionId: 'azure', status: 'suspended' }),
      ],
      reseller,
      {},
    );
    expect(
      result.ineligible.map((item) => [item.subscription.subscriptionId, item.reason]),
    ).toEqual([
      ['azure', 'not-a-license-subscription'],
      ['stopped', 'not-active'],
    ]);
  });

  it("moves an add-on asked for with its base once, inside its base's line", () => {
    let next = 0;
    const lines = transferLines(
      ['base', 'addon', 'base'],
      subscriptions,
      reseller,
      open,
      () => `new-${++next}`,
    );
    expect(lines).toEqual([
      {
        subscriptionId: 'base',
        offerId: 'offer-base',
        quantity: 5,
        newSubscriptionId: 'new-1',
        addOns: [
          {
            subscriptionId: 'addon',
            offerId: 'offer-addon',
            quantity: 5,
            newSubscriptionId: 'new-2',
          },
        ],
      },
    ]);
  });

  it('refuses with 400 naming each line that cannot move, an unknown subscription included', () => {
    expect(() =>
      transferLines(['azure', 'nowhere', 'base'], subscriptions, reseller, open, () => 'x'),
    ).toThrow(
      expect.objectContaining({
        code: 'transfer-not-eligible',
        status: 400,
        detail:
          'body.lineItems.0.subscriptionId is not a license subscription (Azure plans, reservations and software are not transferred); body.lineItems.1.subscriptionId is not a subscription of this customer',
        errors: [
          {
            path: 'body.lineItems.0.subscriptionId',
            message:
              'is not a license subscription (Azure plans, reservations and software are not transferred)',
          },
          {
            path: 'body.lineItems.1.subscriptionId',
            message: 'is not a subscription of this customer',
          },
        ],
      }),
    );
  });

  it('refuses with 409 a request with a subscription already in an open transfer, saying what to do', () => {
    expect(() => transferLines(['base', 'busy'], subscriptions, reseller, open, () => 'x')).toThrow(
      expect.objectContaining({
        code: 'transfer-in-progress',
        status: 409,
        detail:
          'A subscription of this request is already in an open transfer; withdraw that one first or wait for its answer.',
        errors: [
          { path: 'body.lineItems.1.subscriptionId', message: 'is already in an open transfer' },
        ],
      }),
    );
  });
});

describe("a completed transfer on the customer's side", () => {
  const transfer: Transfer = {
    type: 'transfer',
    id: 'transfer-t1',
    partnerId: reseller,
    side: 'reseller',
    transferId: 't1',
    customerId: 'customer-1',
    customerName: 'Wingtip Toys',
    reseller: { partnerId: reseller, companyName: 'Contoso' },
    provider: { partnerId: 'provider-1', companyName: 'Adatum' },
    counterpartyId: 'provider-1',
    status: 'completed',
    lineItems: [],
    createdAt: '2026-03-02T09:00:00.000Z',
    expiresAt: '2026-04-01T09:00:00.000Z',
    updatedAt: '2026-03-05T09:00:00.000Z',
    closedAt: '2026-03-05T09:00:00.000Z',
    reason: null,
  };
  const at = '2026-03-05T09:00:00.000Z';
  const moved = {
    subscriptionId: 'base',
    offerId: 'offer-base',
    quantity: 5,
    newSubscriptionId: 'new-1',
  };

  it("suspends the reseller's subscription without renewal, pointing to its successor", () => {
    const { suspended } = transferredSubscriptions(transfer, moved, subscription('base'), null, at);
    expect(suspended).toMatchObject({
      status: 'suspended',
      autoRenew: false,
      successor: { transferId: 't1', subscriptionId: 'new-1' },
      updatedAt: at,
    });
  });

  it('assigns on the successor the licenses that were assigned, at most the quantity moved', () => {
    const assignedAfter = (assignedLicenses: number) =>
      transferredSubscriptions(
        transfer,
        moved,
        subscription('base', { assignedLicenses }),
        null,
        at,
      ).successor.assignedLicenses;
    expect(assignedAfter(4)).toBe(4);
    expect(assignedAfter(5)).toBe(5);
    expect(assignedAfter(6)).toBe(5);
  });
});

describe('what a reseller keeps after moving a customer towards its provider', () => {
  it('keeps order history, billing and renewal while it bills direct-bill subscriptions, never new orders', () => {
    expect(allowedActions('indirect-reseller', true)).toEqual([
      'view-order-history',
      'bill-customer',
      'manage-users-and-licenses',
      'manage-subscription-renewal',
    ]);
    expect(allowedActions('indirect-reseller', false)).toEqual([
      'manage-users-and-licenses',
      'manage-subscription-renewal',
    ]);
    expect(() =>
      assertAllowed(
        'indirect-reseller',
        'place-orders',
        { partnerId: 'p', companyName: 'Adatum' },
        true,
      ),
    ).toThrow(/Only the indirect provider \(Adatum\).*You keep order history, renewal and billing/);
  });
});

describe('transfer emails', () => {
  const transfer: Transfer = {
    type: 'transfer',
    id: 'transfer-t1',
    partnerId: reseller,
    side: 'reseller',
    transferId: 't1',
    customerId: 'customer-1',
    customerName: 'Wingtip Toys',
    reseller: { partnerId: reseller, companyName: 'Contoso' },
    provider: { partnerId: 'provider-1', companyName: 'Adatum' },
    counterpartyId: 'provider-1',
    status: 'rejected',
    lineItems: [],
    createdAt: '2026-03-02T09:00:00.000Z',
    expiresAt: '2026-04-01T09:00:00.000Z',
    updatedAt: '2026-03-03T09:00:00.000Z',
    closedAt: '2026-03-03T09:00:00.000Z',
    reason: 'pas maintenant',
  };

  it('speak French or English, name both partners, give the reason and a working link', () => {
    const link = 'https://example.test/api/links/transfers';
    const fr = transferEmail(transfer, 'pat@contoso.example', 'fr', link);
    expect(fr.subject).toBe("Transfert d'abonnements refusé : Wingtip Toys (Contoso → Adatum)");
    expect(fr.text).toContain('Motif : pas maintenant');
    expect(fr.html).toContain('lang="fr"');
    const en = transferEmail(transfer, 'pat@contoso.example', 'en', link);
    expect(en.subject).toBe('Subscription transfer rejected: Wingtip Toys (Contoso → Adatum)');
    expect(en.links).toEqual([link]);
  });

  const line = (id: string, addOns: string[]) => ({
    subscriptionId: id,
    offerId: `offer-${id}`,
    quantity: 5,
    newSubscriptionId: `new-${id}`,
    addOns: addOns.map((addOn) => ({
      subscriptionId: addOn,
      offerId: `offer-${addOn}`,
      quantity: 5,
      newSubscriptionId: `new-${addOn}`,
    })),
  });
  // Two subscriptions, one with two add-ons: four subscriptions move.
  const requested: Transfer = {
    ...transfer,
    status: 'pending',
    closedAt: null,
    reason: null,
    lineItems: [line('s1', ['a1', 'a2']), line('s2', [])],
  };

  it('count every subscription moved, add-ons included, and say what happens next (English)', () => {
    const email = transferEmail(requested, 'pat@contoso.example', 'en', 'https://example.test/t');
    expect(email.text).toBe(
      [
        'Hello,',
        '',
        'Transfer t1 of 4 subscription(s) of Wingtip Toys, from Contoso (reseller) to Adatum (indirect provider), was requested.',
        '',
        'The provider accepts or rejects it within 30 days; until then the subscriptions stay as they are.',
        '',
        'View the transfer: https://example.test/t',
        '',
        'Kind regards,',
        'The Partner Center team',
      ].join('\n'),
    );
  });

  it('count every subscription moved, add-ons included, and say what happens next (French)', () => {
    const email = transferEmail(requested, 'pat@contoso.example', 'fr', 'https://example.test/t');
    expect(email.text).toBe(
      [
        'Bonjour,',
        '',
        'Le transfert t1 de 4 abonnement(s) du client Wingtip Toys, de Contoso (revendeur) vers Adatum (fournisseur indirect), est demandé.',
        '',
        "Le fournisseur l'accepte ou le refuse sous 30 jours ; d'ici là, les abonnements restent inchangés.",
        '',
        'Voir le transfert : https://example.test/t',
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ].join('\n'),
    );
  });

  it('give the reason in English too', () => {
    const email = transferEmail(
      { ...transfer, reason: 'not now' },
      'pat@contoso.example',
      'en',
      'https://example.test/t',
    );
    expect(email.text).toContain('\n\nReason: not now\n\n');
  });
});

describe('the partnership ended email', () => {
  const link = 'https://example.test/api/links/providers';

  it('tells the reseller in English that its customers stay and pending transfers are cancelled', () => {
    const email = partnershipEndedEmail('Adatum', 'Contoso', 'pat@contoso.example', 'en', link);
    expect(email.subject).toBe('Adatum ended its partnership with Contoso');
    expect(email.text).toBe(
      [
        'Hello,',
        '',
        'Adatum, an indirect provider, ended its partnership with Contoso.',
        '',
        'Your customers stay where they are; pending subscription transfers between you are cancelled. A new invitation may start a new partnership later.',
        '',
        `View your providers: ${link}`,
        '',
        'Kind regards,',
        'The Partner Center team',
      ].join('\n'),
    );
    expect(email.html).toContain('<html lang="en">');
  });

  it('and in French', () => {
    const email = partnershipEndedEmail('Adatum', 'Contoso', 'pat@contoso.example', 'fr', link);
    expect(email.subject).toBe('Adatum a mis fin à son partenariat avec Contoso');
    expect(email.text).toBe(
      [
        'Bonjour,',
        '',
        'Adatum, fournisseur indirect, a mis fin à son partenariat avec Contoso.',
        '',
        "Vos clients restent où ils sont ; les transferts d'abonnements en attente entre vous sont annulés. Une nouvelle invitation pourra ouvrir un nouveau partenariat.",
        '',
        `Voir vos fournisseurs : ${link}`,
        '',
        'Cordialement,',
        "L'équipe Partner Center",
      ].join('\n'),
    );
    expect(email.html).toContain('<html lang="fr">');
  });
});
