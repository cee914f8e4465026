import * as z from 'zod';
import { enrollmentStatuses } from '../../domain/enrollment';
import { actorSchema, mpnId, pageQuery, text } from './common';
import { addressSchema, contactSchema } from './partners';

const mustBeTrue = (what: string) =>
  z.boolean().refine((value) => value, { message: `must be true: ${what}` });

export const enrollmentBody = z.object({
  reviewedDetails: z.object({ companyName: text(), mpnId, address: addressSchema.optional() }),
  primaryContact: contactSchema,
  authorizationConfirmed: mustBeTrue('confirm that you are authorized to enroll this partner'),
  irreversibleAcknowledged: mustBeTrue(
    'acknowledge that becoming an indirect reseller cannot be undone',
  ),
});

export const decisionBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), reason: text(1000).optional() }),
  z.object({ decision: z.literal('reject'), reason: text(1000) }),
]);

export const agreementAcceptanceBody = z.object({ templateId: text(), version: text(50) });

export const queueQuery = pageQuery.extend({
  status: z.enum(enrollmentStatuses).default('pending-approval'),
});

const acceptanceView = z.object({
  templateId: z.string(),
  version: z.string(),
  acceptedAt: z.string(),
  userId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
});

export const enrollmentView = z.object({
  status: z.enum(enrollmentStatuses),
  submittedAt: z.string().nullable(),
  approvedAt: z.string().nullable(),
  activatedAt: z.string().nullable(),
  rejectedAt: z.string().nullable(),
  rejectedReason: z.string().nullable(),
  escalatedAt: z.string().nullable(),
  primaryContact: contactSchema.nullable(),
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
});

export const agreementView = z.object({
  templateId: z.string(),
  version: z.string(),
  title: z.string(),
  url: z.string(),
  accepted: z.boolean(),
  acceptance: acceptanceView.nullable(),
});

export const queueItemView = z.object({
  partnerId: z.string(),
  companyName: z.string(),
  mpnId: z.string().nullable(),
  mpnVerified: z.boolean(),
  country: z.string(),
  status: z.enum(enrollmentStatuses),
  submittedAt: z.string().nullable(),
  escalatedAt: z.string().nullable(),
  reviewedDetails: z
    .object({ companyName: z.string(), mpnId: z.string() })
    .passthrough()
    .nullable(),
  primaryContact: contactSchema.nullable(),
});

export const activityItemView = z.object({
  id: z.string(),
  at: z.string(),
  actor: actorSchema,
  action: z.string(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  reason: z.string().nullable(),
});
