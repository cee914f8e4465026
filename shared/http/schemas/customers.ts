import * as z from 'zod';
import { customerActions, relationships } from '../../domain/customer-policy';
import {
  maxInvitationBodyLength,
  maxInvitationSubjectLength,
  productTypes,
} from '../../domain/customers';
import { countryCode, email, guid, linkToken, pageQuery, text } from './common';

export const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'must be a domain name such as contoso.onmicrosoft.com',
  );

export const customerIdParams = z.object({ customerId: guid });

/**
 * A customer's company name, as a partner or the customer's own admin gives it: it appears in
 * platform emails to both partners (a transfer's subject), so it may not carry a web address
 * (`https://...`, `www....`). A name such as `Amazon.com, Inc.` stays allowed.
 */
const customerName = text().refine(
  (name) => !/[\p{L}][\p{L}\p{N}+.-]*:\/\/|\bwww\./iu.test(name),
  'must be a company name, without a web address',
);

export const customersQuery = pageQuery.extend({ relationship: z.enum(relationships).optional() });

export const newCustomerBody = z.strictObject({
  companyName: customerName,
  domain: domainName,
  country: countryCode,
  adminEmail: email,
  indirectResellerId: guid.optional(),
});

const counterparty = z
  .object({ partnerId: z.string(), companyName: z.string() })
  .meta({ id: 'Counterparty', description: 'The other partner of an indirect relationship' });

export const customerView = z
  .object({
    customerId: z.string(),
    companyName: z.string(),
    domain: z.string(),
    country: z.string(),
    relationship: z.enum(relationships),
    acquiredAs: z.enum(['direct-bill', 'indirect-provider']),
    indirectProvider: counterparty.optional(),
    indirectReseller: counterparty.optional(),
    delegatedAdmin: z.boolean(),
    since: z.string(),
    /** docs/rules.md section 8b: the reseller still bills some direct-bill subscriptions of this customer. */
    retainsDirectBill: z.boolean(),
    allowedActions: z.array(z.enum(customerActions)),
  })
  .meta({ id: 'Customer', description: 'A customer as this partner sees it' });

export const customerInvitationBody = z.strictObject({ providerId: guid });

export const draftView = z
  .object({ subject: z.string(), body: z.string() })
  .meta({ id: 'InvitationDraft', description: 'The email to edit and send, with the exact link' });

export const createdCustomerInvitationView = z
  .object({
    invitationId: z.string(),
    link: z.string(),
    expiresAt: z.string(),
    draft: draftView,
  })
  .meta({ id: 'CustomerInvitation', description: 'A customer invitation, its link and its draft' });

export const customerInvitationIdParams = z.object({ invitationId: guid });

/**
 * One recipient, a subject and a body of bounded length (docs/rules.md section 13): the
 * platform sends the reseller's words, so they are held to what an invitation needs.
 */
export const sendCustomerInvitationBody = z.strictObject({
  to: email,
  subject: text(maxInvitationSubjectLength),
  body: z.string().min(1).max(maxInvitationBodyLength),
});

export const customerInvitationStateView = z
  .object({
    invitationId: z.string(),
    status: z.enum(['active', 'used', 'revoked']),
    handedOver: z.enum(['not-yet', 'sent', 'by-hand']),
    sentTo: z.string().nullable(),
    expiresAt: z.string(),
  })
  .meta({
    id: 'CustomerInvitationState',
    description: 'Whether the invitation was handed over, used or revoked',
  });

export const publicCustomerInvitationView = z.object({
  resellerName: z.string(),
  providerName: z.string(),
  status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
  expiresAt: z.string(),
  language: z.enum(['en', 'fr']),
});

/**
 * The link's token, and nothing else for an existing customer tenant; a tenant that is not a
 * customer yet describes itself (docs/rules.md section 8), each missing field reported by its
 * own path.
 */
export const acceptCustomerInvitationBody = z.strictObject({
  token: linkToken,
  companyName: customerName.optional(),
  domain: domainName.optional(),
  country: countryCode.optional(),
});

export const acceptedCustomerView = z
  .object({
    customerId: z.string(),
    companyName: z.string(),
    resellersOfRecord: z.array(
      z.object({
        partnerId: z.string(),
        companyName: z.string(),
        relationship: z.enum(relationships),
      }),
    ),
  })
  .meta({
    id: 'AcceptedCustomerInvitation',
    description: 'The customer and its resellers of record',
  });

export const orderBody = z.strictObject({
  lineItems: z
    .array(
      z.strictObject({
        offerId: text(100),
        productType: z.enum(productTypes),
        quantity: z.number().int().min(1).max(100_000),
        /** An add-on: the license subscription it extends; it moves with it (docs/rules.md section 8b). */
        baseSubscriptionId: guid.optional(),
      }),
    )
    .min(1)
    .max(50),
});

export const orderView = z
  .object({
    orderId: z.string(),
    customerId: z.string(),
    placedBy: z.string(),
    billedBy: z.string(),
    lineItems: z.array(
      z.object({
        offerId: z.string(),
        productType: z.enum(productTypes),
        quantity: z.number(),
        subscriptionId: z.string(),
        baseSubscriptionId: z.string().optional(),
      }),
    ),
    createdAt: z.string(),
  })
  .meta({ id: 'Order', description: 'An order: each line became a subscription' });

export const subscriptionParams = customerIdParams.extend({ subscriptionId: guid });

const subscriptionLink = z
  .object({ transferId: z.string(), subscriptionId: z.string() })
  .meta({ id: 'SubscriptionLink', description: 'A subscription on the other side of a transfer' });

export const subscriptionView = z
  .object({
    subscriptionId: z.string(),
    orderId: z.string(),
    offerId: z.string(),
    productType: z.enum(productTypes),
    quantity: z.number(),
    assignedLicenses: z.number(),
    autoRenew: z.boolean(),
    billedBy: z.string(),
    status: z.enum(['active', 'suspended']),
    baseSubscriptionId: z.string().nullable(),
    partnerOfRecord: z.string().optional(),
    transferredFrom: subscriptionLink.optional(),
    successor: subscriptionLink.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    etag: z.string().describe('Send it as If-Match to change the subscription'),
  })
  .meta({ id: 'Subscription' });

export const subscriptionPatchBody = z
  .strictObject({
    autoRenew: z.boolean().optional(),
    quantity: z.number().int().min(1).max(100_000).optional(),
  })
  .refine((change) => change.autoRenew !== undefined || change.quantity !== undefined, {
    message: 'change autoRenew, quantity or both',
  });

export const userParams = customerIdParams.extend({ userId: guid });
export const licenseParams = userParams.extend({ subscriptionId: guid });

export const newUserBody = z.strictObject({
  displayName: text(),
  userPrincipalName: z.string().trim().toLowerCase().max(254).pipe(z.email()),
});

export const userView = z
  .object({
    userId: z.string(),
    displayName: z.string(),
    userPrincipalName: z.string(),
    licenses: z.array(z.string()).describe('The subscriptions whose licenses the user holds'),
    createdAt: z.string(),
  })
  .meta({ id: 'User', description: "A customer's user" });

export { customersQuery as customerListQuery, pageQuery };
