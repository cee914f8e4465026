import { describe, expect, it } from 'vitest';
import { systemActor, type Actor } from '../../shared/domain/principal';
import { transition as move } from '../../shared/domain/enrollment';
import { markInvited, enrollIn } from '../../shared/domain/incentives';
import { newPartner, type Partner } from '../../shared/domain/partner';
import {
  stepStatuses,
  transitionOf,
  transitionSteps,
  type StepReason,
  type StepState,
  type TransitionStep,
} from '../../shared/domain/transition';
import {
  applyChange,
  emptyCounts,
  type CountChange,
  type TransitionCounts,
} from '../../shared/domain/transition-counts';
import { stepDetail } from '../../shared/http/transition-words';

/**
 * docs/rules.md section 14, step by step: each status each step can have, from a partner's
 * record and counts and a date. A Monday, 09:00 UTC: three business days later is Thursday.
 */
const monday = new Date('2026-03-02T09:00:00.000Z');
const at = (days: number, from = monday): Date => new Date(from.getTime() + days * 86_400_000);
const reviewer: Actor = { kind: 'operator', tenantId: 'ops', userId: 'olive', name: 'Olive' };
const settings = { reviewBusinessDays: 3 };

function recorded(overrides: Partial<Partner> = {}): Partner {
  return {
    ...newPartner(
      'partner-1',
      {
        companyName: 'Contoso',
        mpnId: '1234567',
        mpnVerified: false,
        mpnAccountEmail: 'mpn@contoso.example',
        country: 'US',
        programs: { directBill: true },
      },
      at(-30),
    ),
    ...overrides,
  };
}

function withProfile(partner: Partner, confirmedAt = at(-10)): Partner {
  return {
    ...partner,
    profile: {
      companyName: partner.companyName,
      mpnId: '1234567',
      address: { line1: '1 Main St', city: 'Seattle', postalCode: '98052', country: 'US' },
      primaryContact: {
        firstName: 'Pat',
        lastName: 'Lee',
        email: 'pat@contoso.example',
        phone: '+1 425 555 0100',
      },
      confirmedAt: confirmedAt.toISOString(),
      confirmedBy: 'gina',
    },
  };
}

const submitted = (partner: Partner, when = monday): Partner => ({
  ...partner,
  enrollment: move(partner.enrollment, 'pending-approval', reviewer, when),
});
const approved = (partner: Partner, by: Actor = reviewer, when = at(1)): Partner => ({
  ...partner,
  enrollment: move(partner.enrollment, 'approved', by, when),
});
const rejected = (partner: Partner): Partner => ({
  ...partner,
  enrollment: move(partner.enrollment, 'rejected', reviewer, at(1), 'MPN ID unknown'),
});
const active = (partner: Partner, when = at(2)): Partner => ({
  ...partner,
  enrollment: {
    ...move(partner.enrollment, 'active', reviewer, when),
    agreement: {
      templateId: 'indirect-reseller-agreement',
      version: '2026-01',
      acceptedAt: when.toISOString(),
      userId: 'gina',
      name: 'Gina',
      email: null,
    },
  },
});
const reseller = (): Partner => active(approved(submitted(withProfile(recorded()))));
/** A confirmed profile some fields of which were left blank (a portal shows them by name). */
const withBlanks = (partner: Partner): Partner => ({
  ...partner,
  profile: {
    ...partner.profile!,
    address: { ...partner.profile!.address, city: '' },
    primaryContact: { ...partner.profile!.primaryContact, phone: ' ' },
  },
});

const counted = (change: CountChange): TransitionCounts =>
  applyChange(emptyCounts('partner-1', at(-30)), change);
const withProvider: CountChange = {
  providers: 1,
  moments: { firstPartnershipAt: at(3).toISOString() },
};

function stepOf(
  partner: Partner,
  step: TransitionStep,
  counts: TransitionCounts = counted({}),
  now = at(5),
): StepState {
  return transitionOf(partner, counts, now, settings).steps.find((state) => state.step === step)!;
}

/** The step the partner is at: the only one that says since when (see the last describe). */
function currentOf(partner: Partner, counts: TransitionCounts, now = at(5)): StepState | undefined {
  const view = transitionOf(partner, counts, now, settings);
  return view.steps.find((state) => state.step === view.current);
}

describe('the transition at a glance', () => {
  it('lists the eight steps in order', () => {
    const view = transitionOf(recorded(), counted({}), monday, settings);
    expect(view.steps.map((state) => state.step)).toEqual([...transitionSteps]);
  });

  describe('profile', () => {
    it('is to do while never confirmed, naming what to confirm', () => {
      expect(stepOf(recorded(), 'profile')).toMatchObject({
        status: 'todo',
        action: { method: 'PUT', path: '/api/me/profile' },
        reason: { why: 'missing' },
      });
    });
    it('is to do when last confirmed more than 12 months ago', () => {
      const stale = withProfile(recorded(), at(-400));
      expect(stepOf(stale, 'profile', counted({}), monday)).toMatchObject({
        status: 'todo',
        reason: { why: 'stale' },
      });
    });
    it('is done, at its confirmation, when current', () => {
      expect(stepOf(withProfile(recorded()), 'profile')).toMatchObject({
        status: 'done',
        at: at(-10).toISOString(),
      });
    });
    it('stays done once the enrollment is submitted, however old it grows', () => {
      const partner = submitted(withProfile(recorded()));
      expect(stepOf(partner, 'profile', counted({}), at(500)).status).toBe('done');
    });
    it('names the fields left blank, since the partner was recorded, while confirmed lately', () => {
      const partner = withBlanks(withProfile(recorded()));
      expect(currentOf(partner, counted({}))).toMatchObject({
        step: 'profile',
        status: 'todo',
        since: at(-30).toISOString(),
        reason: { why: 'missing', fields: ['address.city', 'primaryContact.phone'] },
      });
    });
    it('is to do since the day it went stale, 12 months after its confirmation', () => {
      const stale = withProfile(recorded(), new Date('2025-01-26T09:00:00.000Z'));
      expect(currentOf(stale, counted({}), monday)).toMatchObject({
        step: 'profile',
        since: '2026-01-26T09:00:00.000Z',
        reason: { why: 'stale', confirmedAt: '2025-01-26T09:00:00.000Z' },
      });
    });
    it('names the fields left blank of a stale profile, since it went stale', () => {
      const stale = withBlanks(withProfile(recorded(), new Date('2025-01-26T09:00:00.000Z')));
      expect(currentOf(stale, counted({}), monday)).toMatchObject({
        step: 'profile',
        since: '2026-01-26T09:00:00.000Z',
        reason: { why: 'missing', fields: ['address.city', 'primaryContact.phone'] },
      });
    });
  });

  describe('enrollment', () => {
    it('is not yet while the profile is to do', () => {
      expect(stepOf(recorded(), 'enrollment').status).toBe('not-yet');
    });
    it('is to do once the profile is current', () => {
      expect(stepOf(withProfile(recorded()), 'enrollment')).toMatchObject({
        status: 'todo',
        action: { method: 'POST', path: '/api/me/enrollment' },
      });
    });
    it('is to do since the profile was confirmed', () => {
      expect(currentOf(withProfile(recorded()), counted({}))).toMatchObject({
        step: 'enrollment',
        since: at(-10).toISOString(),
      });
    });
    it('is blocked for a partner outside the direct-bill program', () => {
      const provider = withProfile(recorded({ programs: { directBill: false } }));
      expect(stepOf(provider, 'enrollment')).toMatchObject({
        status: 'blocked',
        reason: { why: 'not-direct-bill' },
      });
    });
    it('is done, at its submission, once submitted', () => {
      expect(stepOf(submitted(withProfile(recorded())), 'enrollment')).toMatchObject({
        status: 'done',
        at: monday.toISOString(),
      });
    });
    it('is to do again after a rejection, with the reason', () => {
      expect(stepOf(rejected(submitted(withProfile(recorded()))), 'enrollment')).toMatchObject({
        status: 'todo',
        reason: { why: 'resubmit', reason: 'MPN ID unknown' },
      });
    });
  });

  describe('approval', () => {
    it('is not yet before the submission', () => {
      expect(stepOf(withProfile(recorded()), 'approval').status).toBe('not-yet');
    });
    it('waits on the reviewers, due three business days after the submission', () => {
      const friday = new Date('2026-03-06T16:00:00.000Z');
      expect(
        stepOf(submitted(withProfile(recorded()), friday), 'approval', counted({}), friday),
      ).toMatchObject({
        status: 'waiting',
        waitingOn: 'reviewers',
        dueBy: '2026-03-11T16:00:00.000Z',
        reason: { why: 'in-review', overdue: false },
      });
    });
    it('is said to be late only past its due date, not at it', () => {
      const friday = new Date('2026-03-06T16:00:00.000Z');
      const due = new Date('2026-03-11T16:00:00.000Z');
      const partner = submitted(withProfile(recorded()), friday);
      const overdue = (now: Date) => stepOf(partner, 'approval', counted({}), now).reason;
      expect(overdue(new Date(due.getTime() - 1))).toMatchObject({ overdue: false });
      expect(overdue(due)).toMatchObject({ overdue: false });
      expect(overdue(new Date(due.getTime() + 1))).toMatchObject({ overdue: true });
    });
    it('still waits past its due date, said to be overdue (and escalated)', () => {
      const state = stepOf(submitted(withProfile(recorded())), 'approval', counted({}), at(4));
      expect(state).toMatchObject({ status: 'waiting', reason: { overdue: true } });
      expect(stepDetail(state.reason, 'en')).toContain('escalated');
    });
    it('is blocked by a rejection, saying why', () => {
      expect(stepOf(rejected(submitted(withProfile(recorded()))), 'approval')).toMatchObject({
        status: 'blocked',
        reason: { why: 'rejected', reason: 'MPN ID unknown' },
      });
    });
    it('is done at the approval, telling an automatic one from a reviewed one', () => {
      const automatic = approved(submitted(withProfile(recorded())), systemActor, monday);
      expect(stepOf(automatic, 'approval')).toMatchObject({
        status: 'done',
        at: monday.toISOString(),
        reason: { automatic: true },
      });
      expect(stepOf(approved(submitted(withProfile(recorded()))), 'approval').reason).toMatchObject(
        { automatic: false },
      );
    });
    it('stays done at the approval once active', () => {
      expect(stepOf(reseller(), 'approval')).toMatchObject({
        status: 'done',
        at: at(1).toISOString(),
        reason: { why: 'approved', automatic: false },
      });
    });
  });

  describe('agreement', () => {
    it('is not yet before the approval', () => {
      expect(stepOf(submitted(withProfile(recorded())), 'agreement').status).toBe('not-yet');
    });
    it('is to do once approved', () => {
      expect(stepOf(approved(submitted(withProfile(recorded()))), 'agreement')).toMatchObject({
        status: 'todo',
        action: { method: 'POST', path: '/api/me/agreement/acceptance' },
      });
    });
    it('is done at its acceptance', () => {
      expect(stepOf(reseller(), 'agreement')).toMatchObject({
        status: 'done',
        at: at(2).toISOString(),
      });
    });
    it('is done at its acceptance, not at the activation that followed it', () => {
      const partner = reseller();
      const activatedLater = new Date(at(2).getTime() + 5).toISOString();
      const later = {
        ...partner,
        enrollment: { ...partner.enrollment, activatedAt: activatedLater },
      };
      expect(stepOf(later, 'agreement')).toMatchObject({
        status: 'done',
        at: at(2).toISOString(),
        reason: { why: 'accepted', version: '2026-01' },
      });
    });
  });

  describe('provider', () => {
    it('is not yet before the approval', () => {
      expect(stepOf(submitted(withProfile(recorded())), 'provider').status).toBe('not-yet');
    });
    it('is to do once approved without a provider, pointing at the directory', () => {
      expect(stepOf(reseller(), 'provider')).toMatchObject({
        status: 'todo',
        action: { method: 'GET', path: '/api/indirect-providers' },
        reason: { hadOne: false },
      });
    });
    it('is done at the first partnership', () => {
      expect(stepOf(reseller(), 'provider', counted(withProvider))).toMatchObject({
        status: 'done',
        at: at(3).toISOString(),
      });
    });
    it('is to do since the activation, once active without a provider', () => {
      expect(currentOf(reseller(), counted({}))).toMatchObject({
        step: 'provider',
        since: at(2).toISOString(),
      });
    });
    it('is to do since the activation when a partnership ended before it', () => {
      // Approved, the partner accepted a provider's invitation (section 6), then it ended.
      const endedBefore = counted({
        moments: {
          firstPartnershipAt: at(1.25).toISOString(),
          lastPartnershipEndedAt: at(1.5).toISOString(),
        },
      });
      expect(currentOf(reseller(), endedBefore)).toMatchObject({
        step: 'provider',
        since: at(2).toISOString(),
        reason: { hadOne: true },
      });
    });
    it('is to do since the last partnership ended, after the activation', () => {
      const endedAfter = counted({
        moments: {
          firstPartnershipAt: at(3).toISOString(),
          lastPartnershipEndedAt: at(4).toISOString(),
        },
      });
      expect(currentOf(reseller(), endedAfter)).toMatchObject({
        step: 'provider',
        since: at(4).toISOString(),
      });
    });
    it('is to do again when the last partnership ended', () => {
      const ended = counted({
        providers: 0,
        moments: {
          firstPartnershipAt: at(3).toISOString(),
          lastPartnershipEndedAt: at(4).toISOString(),
        },
      });
      expect(stepOf(reseller(), 'provider', ended)).toMatchObject({
        status: 'todo',
        reason: { hadOne: true },
      });
    });
  });

  describe('customers', () => {
    it('is not yet without a provider', () => {
      expect(
        stepOf(reseller(), 'customers', counted({ customers: { directBill: 2 } })).status,
      ).toBe('not-yet');
    });
    it('is not yet for a partner approved, not active, even in partnership with a provider', () => {
      // Section 6: an approved partner may accept a provider; moving customers needs it active.
      const partner = approved(submitted(withProfile(recorded())));
      expect(
        stepOf(partner, 'customers', counted({ ...withProvider, customers: { directBill: 2 } })),
      ).toMatchObject({ status: 'not-yet', reason: { why: 'after-provider' } });
    });
    it('is to do since the first partnership, when it came after the activation', () => {
      const counts = counted({ ...withProvider, customers: { directBill: 2 } });
      expect(currentOf(reseller(), counts)).toMatchObject({
        step: 'customers',
        since: at(3).toISOString(),
      });
    });
    it('is to do since the activation, when the partnership came before it', () => {
      const counts = counted({
        providers: 1,
        customers: { directBill: 2 },
        moments: { firstPartnershipAt: at(1.5).toISOString() },
      });
      expect(currentOf(reseller(), counts)).toMatchObject({
        step: 'customers',
        since: at(2).toISOString(),
      });
    });
    it('is to do with a provider and direct-bill customers', () => {
      expect(
        stepOf(reseller(), 'customers', counted({ ...withProvider, customers: { directBill: 2 } })),
      ).toMatchObject({ status: 'todo', reason: { stillDirect: 2 } });
    });
    it('is optional without a direct-bill customer to move', () => {
      expect(stepOf(reseller(), 'customers', counted(withProvider))).toMatchObject({
        status: 'optional',
        action: { path: '/api/me/customer-invitations' },
      });
    });
    it('is done at the first customer moved towards a provider', () => {
      const moved = counted({
        ...withProvider,
        customers: { directBill: 1, extendedToProvider: 1 },
        moments: { ...withProvider.moments, firstCustomerExtendedAt: at(4).toISOString() },
      });
      expect(stepOf(reseller(), 'customers', moved)).toMatchObject({
        status: 'done',
        at: at(4).toISOString(),
        reason: { moved: 1, stillDirect: 1 },
      });
    });
  });

  describe('subscriptions', () => {
    const extended: CountChange = {
      ...withProvider,
      customers: { extendedToProvider: 1 },
      moments: { ...withProvider.moments, firstCustomerExtendedAt: at(4).toISOString() },
    };
    it('is not yet before a customer is moved', () => {
      expect(
        stepOf(
          reseller(),
          'subscriptions',
          counted({
            ...withProvider,
            customers: { directBill: 1 },
            subscriptions: { directBillActive: 3 },
          }),
        ).status,
      ).toBe('not-yet');
    });
    it('is to do when an extended customer has subscriptions billed directly', () => {
      expect(
        stepOf(
          reseller(),
          'subscriptions',
          counted({ ...extended, subscriptions: { directBillActive: 3 } }),
        ),
      ).toMatchObject({
        status: 'todo',
        action: { path: '/api/me/customers/{customerId}/transfers' },
      });
    });
    it('waits on the provider while a transfer is pending', () => {
      expect(
        stepOf(
          reseller(),
          'subscriptions',
          counted({ ...extended, subscriptions: { directBillActive: 3, inTransfer: 2 } }),
        ),
      ).toMatchObject({ status: 'waiting', waitingOn: 'provider', reason: { inTransfer: 2 } });
    });
    it('is done at the first transfer completed', () => {
      const done = counted({
        ...extended,
        subscriptions: { directBillActive: 1, transferred: 2 },
        moments: { ...extended.moments, firstTransferCompletedAt: at(5).toISOString() },
      });
      expect(stepOf(reseller(), 'subscriptions', done)).toMatchObject({
        status: 'done',
        at: at(5).toISOString(),
        reason: { transferred: 2, stillDirect: 1 },
      });
    });
    it('is optional when nothing is billed directly', () => {
      expect(stepOf(reseller(), 'subscriptions', counted(extended)).status).toBe('optional');
    });
    it('is not yet without a provider, even with nothing billed directly', () => {
      expect(stepOf(reseller(), 'subscriptions', counted({})).status).toBe('not-yet');
    });
    it('is not optional while subscriptions are billed directly, even with no customer to move', () => {
      const counts = counted({ ...withProvider, subscriptions: { directBillActive: 2 } });
      expect(stepOf(reseller(), 'customers', counts).status).toBe('optional');
      expect(stepOf(reseller(), 'subscriptions', counts)).toMatchObject({
        status: 'not-yet',
        reason: { why: 'after-customers' },
      });
    });
  });

  describe('incentives', () => {
    it('is not yet before the approval', () => {
      expect(stepOf(submitted(withProfile(recorded())), 'incentives').status).toBe('not-yet');
    });
    it('waits on the platform, due 30 days after the approval', () => {
      expect(stepOf(approved(submitted(withProfile(recorded()))), 'incentives')).toMatchObject({
        status: 'waiting',
        waitingOn: 'platform',
        dueBy: at(31).toISOString(),
        reason: { overdue: false },
      });
    });
    it('is said to be late from day 30 on', () => {
      const partner = approved(submitted(withProfile(recorded())));
      expect(stepOf(partner, 'incentives', counted({}), at(31)).reason).toMatchObject({
        overdue: true,
      });
    });
    it('is blocked while held for want of an MPN account email', () => {
      const held = {
        ...approved(submitted(withProfile(recorded()))),
        incentiveInviteHeldSince: at(2).toISOString(),
      };
      expect(stepOf(held, 'incentives')).toMatchObject({
        status: 'blocked',
        reason: { why: 'held' },
      });
    });
    it('is to do once invited', () => {
      const partner = reseller();
      const invited = { ...partner, incentives: markInvited(partner.incentives, 'inv-1', at(3)) };
      expect(stepOf(invited, 'incentives')).toMatchObject({
        status: 'todo',
        action: { path: '/api/me/incentives/indirect-reseller/enrollment' },
      });
    });
    it('is done at the enrollment in the program', () => {
      const partner = reseller();
      const invited = markInvited(partner.incentives, 'inv-1', at(3));
      const { incentives } = enrollIn(invited, 'indirect-reseller', { directBill: true }, at(4));
      expect(stepOf({ ...partner, incentives }, 'incentives')).toMatchObject({
        status: 'done',
        at: at(4).toISOString(),
      });
    });
  });

  describe('next and the current step', () => {
    it('names the first step to do as next, and only the current step says since when', () => {
      const partner = approved(submitted(withProfile(recorded())));
      const view = transitionOf(partner, counted({}), at(5), settings);
      expect(view.next).toBe('agreement');
      expect(view.current).toBe('agreement');
      expect(
        view.steps.filter((state) => state.since !== undefined).map((state) => state.step),
      ).toEqual(['agreement']);
      expect(view.steps.find((state) => state.step === 'agreement')!.since).toBe(
        at(1).toISOString(),
      );
    });
    it('has no next while the partner waits on the reviewers, and the approval is current', () => {
      const view = transitionOf(submitted(withProfile(recorded())), counted({}), at(1), settings);
      expect(view.next).toBeNull();
      expect(view.current).toBe('approval');
    });
    it('makes a blocked step the current one, saying since when, with no next', () => {
      const outside = withProfile(recorded({ programs: { directBill: false } }));
      const view = transitionOf(outside, counted({}), at(5), settings);
      expect(view.next).toBeNull();
      expect(view.current).toBe('enrollment');
      expect(view.steps.find((state) => state.step === 'enrollment')!.since).toBe(
        at(-30).toISOString(),
      );
    });
  });

  it('uses every status somewhere above (docs/api.md lists six)', () => {
    expect([...stepStatuses]).toEqual([
      'done',
      'todo',
      'waiting',
      'blocked',
      'not-yet',
      'optional',
    ]);
  });
});

describe("a step's detail", () => {
  const reasons: StepReason[] = [
    { step: 'profile', why: 'confirmed', confirmedAt: monday.toISOString() },
    { step: 'profile', why: 'missing', fields: ['address.city'] },
    { step: 'profile', why: 'stale', confirmedAt: monday.toISOString() },
    { step: 'enrollment', why: 'submitted', submittedAt: monday.toISOString() },
    { step: 'enrollment', why: 'ready' },
    { step: 'enrollment', why: 'profile-first' },
    { step: 'enrollment', why: 'not-direct-bill' },
    { step: 'enrollment', why: 'resubmit', rejectedAt: monday.toISOString(), reason: 'no' },
    { step: 'approval', why: 'approved', automatic: true },
    { step: 'approval', why: 'in-review', dueBy: monday.toISOString(), overdue: false },
    { step: 'approval', why: 'rejected', reason: null },
    { step: 'approval', why: 'not-submitted' },
    { step: 'agreement', why: 'accepted', version: '2026-01' },
    { step: 'agreement', why: 'to-accept' },
    { step: 'agreement', why: 'after-approval' },
    { step: 'provider', why: 'in-partnership', providers: 2 },
    { step: 'provider', why: 'find-provider', hadOne: true },
    { step: 'provider', why: 'after-approval' },
    { step: 'customers', why: 'moved', moved: 1, stillDirect: 2 },
    { step: 'customers', why: 'to-move', stillDirect: 1 },
    { step: 'customers', why: 'none-to-move' },
    { step: 'customers', why: 'after-provider' },
    { step: 'subscriptions', why: 'transferred', transferred: 2, stillDirect: 1 },
    { step: 'subscriptions', why: 'in-transfer', inTransfer: 1 },
    { step: 'subscriptions', why: 'to-transfer', stillDirect: 3 },
    { step: 'subscriptions', why: 'none-to-transfer' },
    { step: 'subscriptions', why: 'after-customers' },
    { step: 'incentives', why: 'enrolled' },
    { step: 'incentives', why: 'invited' },
    { step: 'incentives', why: 'due', dueBy: monday.toISOString(), overdue: true },
    { step: 'incentives', why: 'held' },
    { step: 'incentives', why: 'after-approval' },
  ];

  it.each(reasons.map((reason) => ({ name: `${reason.step}: ${reason.why}`, reason })))(
    'says $name in plain English and in French',
    ({ reason }) => {
      const english = stepDetail(reason, 'en');
      const french = stepDetail(reason, 'fr');
      expect(english).toMatch(/^[A-Z0-9].*\.$/s);
      expect(french).toMatch(/^[A-ZÀ-Ÿ0-9L].*\.$/s);
      expect(french).not.toBe(english);
      expect(`${english} ${french}`).not.toMatch(/undefined|null|NaN|\[object/);
    },
  );

  it('names dates as people read them, in the language asked', () => {
    const reason: StepReason = {
      step: 'approval',
      why: 'in-review',
      dueBy: '2026-03-05T09:00:00.000Z',
      overdue: false,
    };
    expect(stepDetail(reason, 'en')).toContain('5 March 2026, 09:00 UTC');
    expect(stepDetail(reason, 'fr')).toContain('5 mars 2026, 09:00 UTC');
  });
});
