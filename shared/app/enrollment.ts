import { auditEvent, type AuditEvent } from '../domain/audit';
import type { EmailKind, EmailMessage } from '../domain/email';
import {
  assertEligible,
  assertReviewedDetailsMatch,
  qualifiesForAutoApproval,
} from '../domain/eligibility';
import {
  isEnrolled,
  isInProgressOrDone,
  transition,
  type AgreementAcceptance,
  type Enrollment,
  type EnrollmentForm,
  type EnrollmentStatus,
} from '../domain/enrollment';
import { DomainError } from '../domain/errors';
import type { Address, Contact } from '../domain/contact';
import { preferredLanguage, type Partner } from '../domain/partner';
import { actorOf, systemActor, type Actor, type Principal } from '../domain/principal';
import { enrollmentApprovedEmail, enrollmentRejectedEmail } from './emails/enrollment-emails';
import { onEnrollmentApproved } from './incentives';
import { eventOf } from './events';
import { landingLink } from './links';
import { queue } from './outbox';
import { changePartner, loadPartner } from './partners';
import type { PartnerDocument, Versioned } from './ports';
import type { Services } from './services';

export interface EnrollmentSubmission {
  reviewedDetails: { companyName: string; mpnId: string; address?: Address };
  primaryContact: Contact;
}

interface Step {
  enrollment: Enrollment;
  documents: PartnerDocument[];
}

/**
 * Moves the enrollment through the state machine and collects what must be written with it:
 * an audit event per transition and the email the transition causes (docs/rules.md, Emails).
 */
function step(
  services: Services,
  partner: Partner,
  current: Step,
  to: EnrollmentStatus,
  actor: Actor,
  reason: string | null,
): Step {
  const now = services.clock.now();
  const from = current.enrollment.status;
  const enrollment = transition(current.enrollment, to, actor, now, reason);
  const documents: PartnerDocument[] = [
    ...current.documents,
    auditEvent(
      services.ids.newId(),
      partner.partnerId,
      now,
      actor,
      `enrollment-${to}`,
      { from, to, reason },
      // Ordered after the batch's earlier documents: a number growing with each step.
      current.documents.length,
    ),
  ];
  const email = emailFor(services, { ...partner, enrollment }, to, reason);
  if (email) documents.push(queue(services, partner.partnerId, email.kind, email.message));
  return { enrollment, documents };
}

function emailFor(
  services: Services,
  partner: Partner,
  to: EnrollmentStatus,
  reason: string | null,
): { kind: EmailKind; message: EmailMessage } | null {
  // Stryker disable next-line OptionalChaining: every step follows a submission, which records the form (not-enrolled is the only status without one)
  const contact = partner.enrollment.form?.primaryContact;
  if (!contact) return null;
  const language = preferredLanguage(partner);
  const recipient = { email: contact.email, firstName: contact.firstName };
  const link = landingLink(services.config, 'enrollment');
  if (to === 'approved') {
    const message = enrollmentApprovedEmail(partner, recipient, language, link);
    return { kind: 'enrollment-approved', message };
  }
  if (to === 'rejected') {
    // Stryker disable next-line StringLiteral: a rejection always has a reason (the decision's body requires one)
    const message = enrollmentRejectedEmail(partner, recipient, language, reason ?? '', link);
    return { kind: 'enrollment-rejected', message };
  }
  return null;
}

/** The changes an approval makes beyond the enrollment itself. */
function approvalEffects(services: Services, partner: Partner): Partner {
  return onEnrollmentApproved(services, partner);
}

/**
 * POST /api/me/enrollment (docs/rules.md section 2). One read and one batch: the partner's replace
 * guarded by its etag, its audit events and its email. Concurrent submissions race on the
 * etag; the losers re-read, find the enrollment pending and get 409.
 */
export async function submitEnrollment(
  services: Services,
  principal: Principal,
  submission: EnrollmentSubmission,
): Promise<Enrollment> {
  const { result } = await changePartner(
    services,
    principal.tenantId,
    undefined,
    ({ value: partner }) => {
      if (isInProgressOrDone(partner.enrollment)) {
        throw new DomainError(
          'conflict',
          `This partner already has an enrollment (${partner.enrollment.status}); a partner enrolls once.`,
        );
      }
      const now = services.clock.now();
      assertEligible(partner, now);
      assertReviewedDetailsMatch(partner, submission.reviewedDetails);
      const actor = actorOf(principal);
      const form: EnrollmentForm = { ...submission, submittedBy: actor };
      const withForm: Partner = { ...partner, enrollment: { ...partner.enrollment, form } };
      let next = step(
        services,
        withForm,
        { enrollment: withForm.enrollment, documents: [] },
        'pending-approval',
        actor,
        null,
      );
      let updated: Partner = { ...withForm, enrollment: next.enrollment };
      const automatic = qualifiesForAutoApproval(partner);
      if (automatic) {
        next = step(
          services,
          updated,
          next,
          'approved',
          systemActor,
          'every automatic check passed',
        );
        updated = approvalEffects(services, { ...updated, enrollment: next.enrollment });
      }
      updated = { ...updated, enrollment: next.enrollment, updatedAt: now.toISOString() };
      return {
        partner: updated,
        also: [...next.documents, ...submissionEvents(services, updated, automatic)],
        result: updated.enrollment,
      };
    },
  );
  return result;
}

/**
 * A submission's events (docs/rules.md section 11): `enrollment.submitted` saying where it
 * stands, then, when every automatic check passed, `enrollment.approved`.
 */
function submissionEvents(
  services: Services,
  partner: Partner,
  automatic: boolean,
): PartnerDocument[] {
  const { submittedAt, approvedAt } = partner.enrollment;
  const submitted = eventOf(services, partner.partnerId, 'enrollment.submitted', {
    status: automatic ? 'approved' : 'pending-approval',
    submittedAt: submittedAt!,
  });
  if (!automatic) return [submitted];
  const approved = eventOf(
    services,
    partner.partnerId,
    'enrollment.approved',
    { approvedAt: approvedAt!, automatic: true },
    1,
  );
  return [submitted, approved];
}

/** An operator's decision's event: `enrollment.approved` or `enrollment.rejected`. */
function decisionEvent(services: Services, partner: Partner): PartnerDocument {
  const { status, approvedAt, rejectedAt, rejectedReason } = partner.enrollment;
  return status === 'approved'
    ? eventOf(services, partner.partnerId, 'enrollment.approved', {
        approvedAt: approvedAt!,
        automatic: false,
      })
    : eventOf(services, partner.partnerId, 'enrollment.rejected', {
        rejectedAt: rejectedAt!,
        // Stryker disable next-line StringLiteral: a rejection always has a reason (the decision's body requires one)
        reason: rejectedReason ?? '',
      });
}

/** POST /api/operator/enrollments/{partnerId}/decision: deciding twice is 409. */
export async function decideEnrollment(
  services: Services,
  operator: Principal,
  partnerId: string,
  decision: { decision: 'approve' | 'reject'; reason?: string | undefined },
): Promise<Enrollment> {
  const { result } = await changePartner(services, partnerId, undefined, ({ value: partner }) => {
    if (partner.enrollment.status !== 'pending-approval') {
      throw new DomainError(
        'conflict',
        `The enrollment is ${partner.enrollment.status}, not pending approval; it has been decided already or was never submitted.`,
      );
    }
    const to = decision.decision === 'approve' ? 'approved' : 'rejected';
    const next = step(
      services,
      partner,
      { enrollment: partner.enrollment, documents: [] },
      to,
      actorOf(operator, 'operator'),
      decision.reason ?? null,
    );
    let updated: Partner = {
      ...partner,
      enrollment: next.enrollment,
      updatedAt: services.clock.now().toISOString(),
    };
    if (to === 'approved') updated = approvalEffects(services, updated);
    return {
      partner: updated,
      also: [...next.documents, decisionEvent(services, updated)],
      result: updated.enrollment,
    };
  });
  return result;
}

/** GET /api/me/agreement: available from approval on (docs/rules.md section 3). */
export async function readAgreement(
  services: Services,
  partnerId: string,
): Promise<{
  templateId: string;
  version: string;
  title: string;
  url: string;
  accepted: boolean;
  acceptance: AgreementAcceptance | null;
}> {
  const { value: partner } = await loadPartner(services, partnerId);
  if (!isEnrolled(partner.enrollment)) {
    throw new DomainError(
      'agreement-not-available',
      `The indirect reseller agreement is offered once the enrollment is approved; it is ${partner.enrollment.status}.`,
    );
  }
  const agreement = services.config.enrollment.agreement;
  const acceptance = partner.enrollment.agreement;
  return {
    templateId: acceptance?.templateId ?? agreement.templateId,
    version: acceptance?.version ?? agreement.version,
    title: agreement.title,
    url: agreement.url,
    accepted: acceptance !== null,
    acceptance,
  };
}

/**
 * POST /api/me/agreement/acceptance: approved becomes active, the partner is both a direct and
 * an indirect reseller. Accepting again returns the first acceptance (idempotent).
 */
export async function acceptAgreement(
  services: Services,
  principal: Principal,
  accepted: { templateId: string; version: string },
): Promise<{ acceptance: AgreementAcceptance; created: boolean }> {
  const current = services.config.enrollment.agreement;
  const { result } = await changePartner(
    services,
    principal.tenantId,
    undefined,
    ({ value: partner }) => {
      const existing = partner.enrollment.agreement;
      if (partner.enrollment.status === 'active' && existing) {
        if (existing.templateId !== accepted.templateId || existing.version !== accepted.version) {
          throw new DomainError(
            'conflict',
            `The agreement was accepted in ${existing.templateId} version ${existing.version}; that is the one in force.`,
          );
        }
        return { partner: null, result: { acceptance: existing, created: false } };
      }
      if (partner.enrollment.status !== 'approved') {
        throw new DomainError(
          'agreement-not-available',
          `The agreement can be accepted once the enrollment is approved; it is ${partner.enrollment.status}.`,
        );
      }
      if (accepted.templateId !== current.templateId || accepted.version !== current.version) {
        throw new DomainError(
          'conflict',
          `That is not the current agreement: accept ${current.templateId} version ${current.version}.`,
        );
      }
      const now = services.clock.now();
      const acceptance: AgreementAcceptance = {
        templateId: current.templateId,
        version: current.version,
        acceptedAt: now.toISOString(),
        userId: principal.userId,
        name: principal.name,
        email: principal.email,
      };
      const next = step(
        services,
        partner,
        { enrollment: partner.enrollment, documents: [] },
        'active',
        actorOf(principal),
        `agreement ${current.version} accepted`,
      );
      return {
        partner: {
          ...partner,
          enrollment: { ...next.enrollment, agreement: acceptance },
          updatedAt: now.toISOString(),
        },
        also: [
          ...next.documents,
          eventOf(services, partner.partnerId, 'agreement.accepted', {
            templateId: acceptance.templateId,
            version: acceptance.version,
            acceptedAt: acceptance.acceptedAt,
          }),
        ],
        result: { acceptance, created: true },
      };
    },
  );
  return result;
}

/** DELETE /api/me/enrollment and any other way back: refused (docs/rules.md section 3). */
export async function withdrawEnrollment(services: Services, partnerId: string): Promise<never> {
  const { value: partner } = await loadPartner(services, partnerId);
  if (!isInProgressOrDone(partner.enrollment))
    throw new DomainError('not-found', 'There is no enrollment to withdraw.');
  throw new DomainError(
    'irreversible',
    'Becoming an indirect reseller is irreversible: an enrollment cannot be withdrawn, deleted or reverted once submitted, and the indirect reseller capabilities cannot be removed.',
  );
}

export async function readEnrollment(
  services: Services,
  partnerId: string,
): Promise<Versioned<Partner>> {
  return loadPartner(services, partnerId);
}

export type { AuditEvent };
