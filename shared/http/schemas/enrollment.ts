import * as z from 'zod';
import { enrollmentStatuses } from '../../domain/enrollment';
import { actorSchema, mpnId, pageQuery, text } from './common';
import { addressSchema, addressView, contactSchema, contactView } from './partners';

const mustBeTrue = (what: string) =>
  z.boolean().refine((value) => value, { message: `must be true: ${what}` });

export const enrollmentBody = z.strictObject({
  reviewedDetails: z.strictObject({
    companyName: text(),
    mpnId,
    address: addressSchema.optional(),
  }),
  primaryContact: contactSchema,
  authorizationConfirmed: mustBeTrue('confirm that you are authorized to enroll this partner'),
  irreversibleAcknowledged: mustBeTrue(
    'acknowledge that becoming an indirect reseller cannot be undone',
  ),
});

export const decisionBody = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('approve'), reason: text(1000).optional() }),
  z.strictObject({ decision: z.literal('reject'), reason: text(1000) }),
]);

export const agreementAcceptanceBody = z.strictObject({ templateId: text(), version: text(50) });

export const queueQuery = pageQuery.extend({
  status: z.enum(enrollmentStatuses).default('pending-approval'),
});

const acceptanceView = z
  .object({
    templateId: z.string(),
    version: z.string(),
    acceptedAt: z.string(),
    userId: z.string(),
    name: z.string(),
    email: z.string().nullable(),
  })
  .meta({ id: 'AgreementAcceptance', description: 'Who accepted the agreement, and when' });

export const enrollmentView = z
  .object({
    status: z.enum(enrollmentStatuses),
    submittedAt: z.string().nullable(),
    approvedAt: z.string().nullable(),
    activatedAt: z.string().nullable(),
    rejectedAt: z.string().nullable(),
    rejectedReason: z.string().nullable(),
    escalatedAt: z.string().nullable(),
    primaryContact: contactView.nullable(),
    agreement: acceptanceView.nullable(),
    history: z.array(
      z.object({
        at: z.string(),
        from: z.enum(enrollmentStatuses),
        to: z.enum(enrollmentStatuses),
        actor: actorSchema,
        reason: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'Enrollment', description: 'The indirect reseller enrollment' });

export const agreementView = z
  .object({
    templateId: z.string(),
    version: z.string(),
    title: z.string(),
    url: z.string(),
    accepted: z.boolean(),
    acceptance: acceptanceView.nullable(),
  })
  .meta({ id: 'Agreement', description: 'The indirect reseller agreement' });

export const queueItemView = z
  .object({
    partnerId: z.string(),
    companyName: z.string(),
    mpnId: z.string().nullable(),
    mpnVerified: z.boolean(),
    country: z.string(),
    status: z.enum(enrollmentStatuses),
    submittedAt: z.string().nullable(),
    escalatedAt: z.string().nullable(),
    reviewedDetails: z
      .object({ companyName: z.string(), mpnId: z.string(), address: addressView.optional() })
      .nullable()
      .describe('The company name and MPN ID the partner confirmed when it enrolled'),
    primaryContact: contactView.nullable(),
  })
  .meta({ id: 'EnrollmentReview', description: 'An enrollment in the review queue' });

export const activityItemView = z
  .object({
    id: z.string(),
    at: z.string(),
    actor: actorSchema,
    action: z.string(),
    from: z.string().nullable(),
    to: z.string().nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'Activity', description: "An entry of the partner's activity log" });
