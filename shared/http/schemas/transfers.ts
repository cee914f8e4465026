import * as z from 'zod';
import { ineligibleReasons, transferStatuses } from '../../domain/transfers';
import { guid, isoTimestamp, pageQuery, text } from './common';

export const relationshipExtensionBody = z.strictObject({
  providerId: guid,
  /** docs/rules.md section 8b: the reseller attests that the customer was informed and agreed. */
  customerConsentAttested: z.literal(true),
  /** Who at the customer agreed (name or email); the attesting user when absent. */
  consentGivenBy: text(200).optional(),
  /** When the customer agreed; the request's time when absent. */
  consentGivenAt: z.iso.datetime().optional(),
});

export const eligibilityQuery = z.strictObject({ providerId: guid });

export const eligibilityView = z
  .object({
    eligible: z.array(
      z.object({
        subscriptionId: z.string(),
        offerId: z.string(),
        quantity: z.number(),
        baseSubscriptionId: z.string().nullable(),
      }),
    ),
    ineligible: z.array(
      z.object({
        subscriptionId: z.string(),
        offerId: z.string(),
        reason: z.enum(ineligibleReasons),
      }),
    ),
  })
  .meta({ id: 'TransferEligibility', description: 'Which subscriptions may move, and why not' });

export const newTransferBody = z.strictObject({
  providerId: guid,
  lineItems: z
    .array(z.strictObject({ subscriptionId: guid }))
    .min(1)
    .max(50),
});

export const transferIdParams = z.object({ transferId: guid });

export const transfersQuery = pageQuery.extend({
  direction: z.enum(['outgoing', 'incoming']).default('outgoing'),
  status: z.enum(transferStatuses).optional(),
});

export const rejectTransferBody = z.strictObject({ reason: text(1000) });

const movedFields = {
  subscriptionId: z.string(),
  offerId: z.string(),
  quantity: z.number(),
  newSubscriptionId: z
    .string()
    .optional()
    .describe("Once completed: the provider's new subscription"),
};

const movedView = z
  .object(movedFields)
  .meta({ id: 'TransferredAddOn', description: 'An add-on moving with its base subscription' });

export const transferView = z
  .object({
    transferId: z.string(),
    status: z.enum(transferStatuses),
    customerId: z.string(),
    customerName: z.string(),
    resellerId: z.string(),
    resellerName: z.string(),
    providerId: z.string(),
    providerName: z.string(),
    lineItems: z.array(
      z
        .object({ ...movedFields, addOns: z.array(movedView) })
        .meta({ id: 'TransferLine', description: 'A subscription moving to the provider' }),
    ),
    createdAt: isoTimestamp,
    expiresAt: isoTimestamp,
    closedAt: isoTimestamp.nullable(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'Transfer', description: 'A request to move subscriptions to the provider' });
