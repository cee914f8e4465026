import { describe, expect, it } from 'vitest';
import {
  allowedTransitions,
  assertMayAddDirectCustomers,
  enrollmentStatuses,
  isInProgressOrDone,
  notEnrolled,
  transition,
  type Enrollment,
  type EnrollmentStatus,
} from '../../shared/domain/enrollment';
import { DomainError } from '../../shared/domain/errors';
import { systemActor } from '../../shared/domain/principal';

const at = new Date('2026-03-02T09:00:00Z');

function inStatus(status: EnrollmentStatus): Enrollment {
  return { ...notEnrolled(), status };
}

/** docs/rules.md's transitions, copied: the loop below is driven by this, not by the code's table. */
const documented: Record<EnrollmentStatus, EnrollmentStatus[]> = {
  'not-enrolled': ['pending-approval'],
  'pending-approval': ['approved', 'rejected'],
  approved: ['active'],
  active: [],
  rejected: ['pending-approval'],
};

describe('the enrollment state machine', () => {
  it('allows exactly the documented transitions', () => {
    expect(allowedTransitions).toEqual(documented);
  });

  for (const from of enrollmentStatuses) {
    for (const to of enrollmentStatuses) {
      const allowed = documented[from].includes(to);
      it(`${allowed ? 'allows' : 'refuses'} ${from} -> ${to}`, () => {
        const attempt = (): Enrollment => transition(inStatus(from), to, systemActor, at, 'why');
        if (allowed) {
          const next = attempt();
          expect(next.status).toBe(to);
          expect(next.history.at(-1)).toEqual({
            at: at.toISOString(),
            from,
            to,
            actor: systemActor,
            reason: 'why',
          });
        } else {
          const error = (() => {
            try {
              attempt();
            } catch (caught) {
              return caught;
            }
            return null;
          })();
          expect(error).toBeInstanceOf(DomainError);
          const code = (error as DomainError).code;
          expect(code).toBe(from === 'approved' || from === 'active' ? 'irreversible' : 'conflict');
        }
      });
    }
  }

  it('stamps each moment and clears the rejection on resubmission', () => {
    let enrollment = transition(notEnrolled(), 'pending-approval', systemActor, at);
    enrollment = transition(
      enrollment,
      'rejected',
      systemActor,
      new Date('2026-03-03T09:00:00Z'),
      'bad address',
    );
    expect(enrollment).toMatchObject({
      rejectedReason: 'bad address',
      rejectedAt: '2026-03-03T09:00:00.000Z',
    });
    enrollment = transition(
      enrollment,
      'pending-approval',
      systemActor,
      new Date('2026-03-04T09:00:00Z'),
    );
    expect(enrollment).toMatchObject({
      submittedAt: '2026-03-04T09:00:00.000Z',
      rejectedReason: null,
      rejectedAt: null,
    });
    expect(enrollment.history).toHaveLength(3);
  });

  it('stamps the activation when the enrollment turns active, and only then', () => {
    let enrollment = transition(notEnrolled(), 'pending-approval', systemActor, at);
    enrollment = transition(enrollment, 'approved', systemActor, new Date('2026-03-03T09:00:00Z'));
    expect(enrollment).toMatchObject({
      approvedAt: '2026-03-03T09:00:00.000Z',
      activatedAt: null,
    });
    enrollment = transition(enrollment, 'active', systemActor, new Date('2026-03-04T09:00:00Z'));
    expect(enrollment).toMatchObject({
      approvedAt: '2026-03-03T09:00:00.000Z',
      activatedAt: '2026-03-04T09:00:00.000Z',
    });
  });

  it('says why it refuses: undoing an enrollment, or a step out of order', () => {
    expect(() => transition(inStatus('active'), 'rejected', systemActor, at)).toThrow(
      expect.objectContaining({
        code: 'irreversible',
        status: 409,
        detail:
          'The enrollment is active; becoming an indirect reseller cannot be undone or repeated.',
      }),
    );
    expect(() => transition(inStatus('approved'), 'pending-approval', systemActor, at)).toThrow(
      expect.objectContaining({
        detail:
          'The enrollment is approved; becoming an indirect reseller cannot be undone or repeated.',
      }),
    );
    expect(() => transition(notEnrolled(), 'approved', systemActor, at)).toThrow(
      expect.objectContaining({
        code: 'conflict',
        status: 409,
        detail: 'The enrollment cannot go from not-enrolled to approved.',
      }),
    );
  });

  it('counts a submission as in progress or done from submission on, until a rejection', () => {
    const inProgressOrDone = Object.fromEntries(
      enrollmentStatuses.map((status) => [status, isInProgressOrDone(inStatus(status))]),
    );
    expect(inProgressOrDone).toEqual({
      'not-enrolled': false,
      'pending-approval': true,
      approved: true,
      active: true,
      rejected: false,
    });
  });
});

describe('no new direct customers', () => {
  it('applies from approval on, not before', () => {
    for (const status of ['not-enrolled', 'pending-approval', 'rejected'] as const) {
      expect(() => assertMayAddDirectCustomers(inStatus(status))).not.toThrow();
    }
    for (const status of ['approved', 'active'] as const) {
      expect(() => assertMayAddDirectCustomers(inStatus(status))).toThrow(
        expect.objectContaining({
          code: 'no-new-direct-customers',
          status: 403,
          detail:
            'Since enrolling as an indirect reseller this partner cannot add new direct customers; its existing direct customers stay as they are.',
        }),
      );
    }
  });
});
