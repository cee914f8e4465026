import { describe, expect, it } from 'vitest';
import {
  allowedTransitions,
  assertMayAddDirectCustomers,
  enrollmentStatuses,
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
});

describe('no new direct customers', () => {
  it('applies from approval on, not before', () => {
    for (const status of ['not-enrolled', 'pending-approval', 'rejected'] as const) {
      expect(() => assertMayAddDirectCustomers(inStatus(status))).not.toThrow();
    }
    for (const status of ['approved', 'active'] as const) {
      expect(() => assertMayAddDirectCustomers(inStatus(status))).toThrow(
        expect.objectContaining({ code: 'no-new-direct-customers' }),
      );
    }
  });
});
