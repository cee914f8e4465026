import { auditEvent } from '../domain/audit';
import {
  maxCustomerInvitationSends,
  movedToIndirect,
  relationshipFor,
  relationshipId,
  type Customer,
  type CustomerInvitation,
  type CustomerRelationship,
} from '../domain/customers';
import { DomainError, notFound, validationFailed } from '../domain/errors';
import type { EventDocument } from '../domain/events';
import { linkProblem } from '../domain/link';
import { preferredLanguage } from '../domain/partner';
import { actorOf, type Principal } from '../domain/principal';
import { partnershipEnded, partnershipState } from '../domain/providers';
import { foreignLinks } from '../domain/urls';
import { claimDomain, createIfMissing, writeRelationship, type NewCustomer } from './customers';
import { findInvitation, openInvitation } from './invitations';
import {
  customerInvitationFooter,
  customerInvitationHtml,
  draftFor,
  invitationLinkSpans,
  type Draft,
} from './emails/customer-invitation-email';
import { eventOf } from './events';
import { queue } from './outbox';
import { loadPartner } from './partners';
import { activePartnership, partnershipSides } from './provider-partnership';
import { countEmails } from './rate-limit';
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch, pipelinePatch, readCounts } from './transition-counts';
import { firstTime, relationshipCountChange } from '../domain/transition-counts';

export const customerInvitationLink = (services: Services, token: string): string =>
  `${services.config.links.publicBaseUrl}/api/links/customer-invitations#${token}`;

/** POST /api/me/customer-invitations: a draft with a personalised link, for one of its providers. */
export async function createCustomerInvitation(
  services: Services,
  principal: Principal,
  providerId: string,
): Promise<{ invitation: CustomerInvitation; link: string; draft: Draft }> {
  const [{ value: reseller }, partnership] = await Promise.all([
    loadPartner(services, principal.tenantId),
    activePartnership(
      services,
      { providerId, resellerId: principal.tenantId },
      'reseller',
      'body.providerId',
    ),
  ]);
  const now = services.clock.now();
  const opened = openInvitation(services, reseller.partnerId, 'customer-invitation', now);
  const invitation: CustomerInvitation = {
    ...opened.document,
    reseller: { partnerId: reseller.partnerId, companyName: reseller.companyName },
    provider: { partnerId: providerId, companyName: partnership.value.counterpartyName },
    partnershipInvitationId: partnership.value.invitationId,
    handedOver: 'not-yet',
    sentTo: null,
    acceptedBy: null,
    language: preferredLanguage(reseller),
  };
  await services.partners.commit(reseller.partnerId, [
    { op: 'create', document: invitation },
    {
      op: 'create',
      document: auditEvent(
        services.ids.newId(),
        reseller.partnerId,
        now,
        actorOf(principal),
        'customer-invitation-created',
        {
          reason: `invitation ${invitation.invitationId} with provider ${invitation.provider.companyName}`,
        },
      ),
    },
  ]);
  const link = customerInvitationLink(services, opened.token);
  const draft = draftFor(
    preferredLanguage(reseller),
    reseller.companyName,
    invitation.provider.companyName,
    link,
    invitation.expiresAt,
  );
  return { invitation, link, draft };
}

async function ownInvitation(
  services: Services,
  resellerId: string,
  invitationId: string,
): Promise<Versioned<CustomerInvitation>> {
  const found = await services.partners.invitationById<CustomerInvitation>(
    resellerId,
    'customer-invitation',
    invitationId,
  );
  if (!found) throw notFound('The invitation');
  return found;
}

/**
 * docs/rules.md section 8b: a customer invitation names a partnership; once that partnership
 * ended (on either side, or replaced by a new one), the invitation can no longer be sent or
 * accepted: 409 `partnership-ended`.
 */
async function assertPartnershipHolds(
  services: Services,
  invitation: CustomerInvitation,
): Promise<void> {
  const { resellerSide, providerSide } = await partnershipSides(services, {
    providerId: invitation.provider.partnerId,
    resellerId: invitation.reseller.partnerId,
  });
  // Stryker disable next-line StringLiteral: seen from either side, a pair missing a side is not 'active' ('none' or 'ended'), and both are refused alike
  const state = partnershipState(resellerSide?.value, providerSide?.value, 'reseller');
  const drafted = invitation.partnershipInvitationId;
  if (state === 'active' && (drafted === undefined || drafted === resellerSide?.value.invitationId))
    return;
  throw partnershipEnded(
    `The partnership between ${invitation.reseller.companyName} and ${invitation.provider.companyName} that this invitation names has ended: it can no longer be sent or accepted.`,
  );
}

/**
 * docs/rules.md section 13: the platform sends the reseller's words, so they carry the
 * invitation link and no other: any other URL (or link-like text a mail client would make a
 * link of) is refused with 400 `link-not-allowed`, naming it. The partners' own company names
 * (`Amazon.com, Inc.`) are theirs as recorded, not the reseller's words.
 */
function assertNoOtherLink(
  email: { subject: string; body: string },
  spans: readonly { start: number; end: number }[],
  invitation: CustomerInvitation,
): void {
  const names = [invitation.reseller.companyName, invitation.provider.companyName];
  const errors = [
    ...foreignLinks(email.subject, [], names).map((link) => ({ path: 'body.subject', link })),
    ...foreignLinks(email.body, spans, names).map((link) => ({ path: 'body.body', link })),
  ];
  if (errors.length === 0) return;
  throw new DomainError(
    'link-not-allowed',
    `The email may carry no link but the invitation link: remove ${errors.map(({ link }) => link).join(', ')}.`,
    errors.map(({ path, link }) => ({
      path,
      message: `holds ${link}, which is not the invitation link`,
    })),
  );
}

/**
 * POST /api/me/customer-invitations/{id}/send: the reseller's edited email goes out through the
 * outbox to its one recipient, in one batch with the invitation's state and the reseller's
 * hourly email count; a body without the exact link, or with another one, is refused.
 */
export async function sendCustomerInvitation(
  services: Services,
  principal: Principal,
  invitationId: string,
  email: { to: string; subject: string; body: string },
): Promise<CustomerInvitation> {
  const [found, { value: reseller }] = await Promise.all([
    ownInvitation(services, principal.tenantId, invitationId),
    loadPartner(services, principal.tenantId),
  ]);
  const now = services.clock.now();
  const problem = linkProblem(found.value, now);
  if (problem) throw problem;
  const spans = invitationLinkSpans(customerInvitationLink(services, ''), email.body, found.value);
  if (spans.length === 0) {
    throw new DomainError(
      'link-missing',
      'The email body must contain the invitation link exactly as drafted; put it back and send again.',
      [{ path: 'body.body', message: 'does not contain the invitation link' }],
    );
  }
  assertNoOtherLink(email, spans, found.value);
  const sends = found.value.sends ?? (found.value.handedOver === 'sent' ? 1 : 0);
  if (sends >= maxCustomerInvitationSends) {
    throw new DomainError(
      'rate-limited',
      `An invitation is sent at most ${maxCustomerInvitationSends} times; create a new invitation, or copy it and send it yourself.`,
    );
  }
  await assertPartnershipHolds(services, found.value);
  const links = spans.map(({ start, end }) => email.body.slice(start, end));
  const names = {
    reseller: found.value.reseller.companyName,
    provider: found.value.provider.companyName,
  };
  const footer = customerInvitationFooter(
    preferredLanguage(reseller),
    names.reseller,
    names.provider,
  );
  const replyTo = reseller.profile?.primaryContact.email;
  const sent: CustomerInvitation = {
    ...found.value,
    handedOver: 'sent',
    sentTo: email.to,
    sends: sends + 1,
  };
  const operations: WriteOperation<PartnerDocument>[] = [
    { op: 'replace', document: sent, etag: found.etag },
    {
      op: 'create',
      document: queue(services, principal.tenantId, 'customer-invitation', {
        to: email.to,
        subject: email.subject,
        text: `${email.body}\n\n________\n${footer}`,
        html: customerInvitationHtml(email.body, spans, footer),
        links: [...new Set(links)],
        fromName: `${names.reseller} (${names.provider})`,
        ...(replyTo ? { replyTo } : {}),
      }),
    },
    {
      op: 'create',
      document: auditEvent(
        services.ids.newId(),
        principal.tenantId,
        now,
        actorOf(principal),
        'customer-invitation-sent',
        {
          reason: `invitation ${invitationId}`,
        },
      ),
    },
  ];
  for (let attempt = 1; ; attempt += 1) {
    // The hourly counter of the reseller's emails goes first (shared/app/rate-limit.ts): over
    // the allowance nothing is written; raced by another action, it is counted again.
    const counted = await countEmails(services, principal.tenantId, now, {
      emails: 1,
      invitations: 1,
    });
    try {
      await services.partners.commit(principal.tenantId, [counted, ...operations]);
      return sent;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      if (error.index === 1) {
        throw new DomainError('conflict', 'The invitation changed meanwhile; read it again.');
      }
      if (attempt >= 10) throw error;
    }
  }
}

/** POST .../done: the reseller copied the email and sent it itself. */
export async function markCustomerInvitationDone(
  services: Services,
  principal: Principal,
  invitationId: string,
): Promise<CustomerInvitation> {
  const found = await ownInvitation(services, principal.tenantId, invitationId);
  if (found.value.handedOver === 'by-hand') return found.value;
  await assertPartnershipHolds(services, found.value);
  const done: CustomerInvitation = { ...found.value, handedOver: 'by-hand' };
  const now = services.clock.now();
  await services.partners.commit(principal.tenantId, [
    { op: 'replace', document: done, etag: found.etag },
    {
      op: 'create',
      document: auditEvent(
        services.ids.newId(),
        principal.tenantId,
        now,
        actorOf(principal),
        'customer-invitation-handed-over',
        {
          reason: `invitation ${invitationId} sent by hand`,
        },
      ),
    },
  ]);
  return done;
}

/**
 * DELETE /api/me/customer-invitations/{id}: the reseller withdraws an invitation; its link then
 * reads `revoked` and accepting it answers 410. Revoking it again answers the same; one already
 * accepted is 409. Allowed after the partnership ended too: withdrawing changes nothing for it.
 */
export async function revokeCustomerInvitation(
  services: Services,
  principal: Principal,
  invitationId: string,
): Promise<CustomerInvitation> {
  for (;;) {
    const found = await ownInvitation(services, principal.tenantId, invitationId);
    if (found.value.status === 'revoked') return found.value;
    if (found.value.status === 'used') {
      throw new DomainError(
        'conflict',
        'The invitation has been accepted already; it can no longer be revoked.',
      );
    }
    const now = services.clock.now();
    const revoked: CustomerInvitation = {
      ...found.value,
      status: 'revoked',
      revokedAt: now.toISOString(),
    };
    try {
      await services.partners.commit(principal.tenantId, [
        { op: 'replace', document: revoked, etag: found.etag },
        {
          op: 'create',
          document: auditEvent(
            services.ids.newId(),
            principal.tenantId,
            now,
            actorOf(principal),
            'customer-invitation-revoked',
            { reason: `invitation ${invitationId}` },
          ),
        },
      ]);
      return revoked;
    } catch (error) {
      // Accepted, sent or revoked meanwhile: read it again and answer from what it is now.
      if (!(error instanceof WriteConflict && error.index === 0)) throw error;
    }
  }
}

/** The customer's record: found, or created from what its global admin gave. */
async function customerRecord(
  services: Services,
  customerId: string,
  details: Partial<NewCustomer>,
  resellerId: string,
): Promise<Customer> {
  const existing = await services.customers.get(customerId);
  if (existing) return existing.value;
  const missing = (['companyName', 'domain', 'country'] as const).filter(
    (field) => !details[field],
  );
  if (!details.companyName || !details.domain || !details.country) {
    throw validationFailed(
      missing.map((field) => ({
        path: `body.${field}`,
        message: 'is required for a tenant that is not a customer yet',
      })),
      'This tenant is not a customer yet: tell us the organisation (companyName, domain and country).',
    );
  }
  await claimDomain(services, details.domain, customerId, resellerId);
  const customer: Customer = {
    type: 'customer',
    id: customerId,
    customerId,
    companyName: details.companyName,
    domain: details.domain,
    country: details.country,
    adminEmail: null,
    createdAt: services.clock.now().toISOString(),
    createdBy: resellerId,
  };
  await createIfMissing(services, customer);
  return customer;
}

/**
 * POST /api/customer-invitations/{token}/accept (section 8): both partners become the
 * customer's resellers of record. The reseller's partition takes the decisive batch (the link
 * consumed, its relationship written); the provider's relationship follows. Every step is
 * idempotent and keyed by the customer, so the same customer accepting again after a crash
 * between the writes completes what is missing and gets the same answer.
 */
export async function acceptCustomerInvitation(
  services: Services,
  principal: Principal,
  token: string,
  details: Partial<NewCustomer>,
): Promise<{
  customer: Customer;
  reseller: CustomerRelationship;
  provider: CustomerRelationship;
  /** The invitation's provider: not always the reseller's side's (a customer it already served). */
  providerName: string;
}> {
  const customerId = principal.tenantId;
  const [found, asPartner] = await Promise.all([
    findInvitation<CustomerInvitation>(services, token, 'customer-invitation'),
    services.partners.get(customerId),
  ]);
  if (asPartner) {
    throw new DomainError(
      'wrong-tenant',
      'This invitation is for a customer tenant; a partner tenant cannot accept it.',
    );
  }
  const invitation = found.value;
  const now = services.clock.now();
  const problem = linkProblem(invitation, now);
  const retrying =
    // Stryker disable next-line ConditionalExpression: acceptedBy is set only in the batch that marks the invitation used, and a used invitation is never revoked: when it is this customer, the problem is 'invitation-used' anyway
    problem?.code === 'invitation-used' && // accepted already...
    invitation.acceptedBy === customerId; // ...by this very customer: a retry
  if (problem && !retrying) throw problem;
  // A retry completes an acceptance made while the partnership held; a new one needs it now.
  if (!retrying) await assertPartnershipHolds(services, invitation);

  const customer = await customerRecord(
    services,
    customerId,
    details,
    invitation.reseller.partnerId,
  );
  const at = (retrying ? invitation.usedAt : null) ?? now.toISOString();
  // One event per side, each in the batch that writes that side's relationship.
  const accepted = (partnerId: string): EventDocument =>
    eventOf(services, partnerId, 'customer-invitation.accepted', {
      invitationId: invitation.invitationId,
      customerId,
      companyName: customer.companyName,
      providerId: invitation.provider.partnerId,
      resellerId: invitation.reseller.partnerId,
    });
  const existing = await services.partners.getDocument<CustomerRelationship>(
    invitation.reseller.partnerId,
    relationshipId(customerId),
  );
  const moving = existing?.value.relationship === 'direct-bill';
  const resellerSide: CustomerRelationship =
    existing && moving
      ? movedToIndirect(existing.value, invitation.provider, at)
      : (existing?.value ??
        relationshipFor(invitation.reseller.partnerId, customer, 'indirect-reseller', {
          acquiredAs: 'indirect-provider',
          indirectProvider: invitation.provider,
          delegatedAdmin: true,
          at,
          reason: `accepted an invitation with ${invitation.provider.companyName}`,
        }));
  if (!retrying) {
    // Counted with the relationship's write (docs/rules.md section 14); a customer moving from
    // direct bill may be the reseller's first moved towards a provider.
    const counted = countsPatch(
      firstTime(
        relationshipCountChange(existing?.value ?? null, resellerSide, at),
        moving ? await readCounts(services, invitation.reseller.partnerId) : null,
      ),
    );
    const used: CustomerInvitation = {
      ...invitation,
      status: 'used',
      usedAt: at,
      acceptedBy: customerId,
    };
    try {
      await commitCounting(services, invitation.reseller.partnerId, [
        { op: 'replace', document: used, etag: found.etag },
        existing
          ? { op: 'replace', document: resellerSide, etag: existing.etag }
          : { op: 'create', document: resellerSide },
        {
          op: 'create',
          document: auditEvent(
            services.ids.newId(),
            invitation.reseller.partnerId,
            now,
            actorOf(principal),
            'customer-accepted-invitation',
            {
              from: existing?.value.relationship ?? null,
              to: 'indirect-reseller',
              reason: `customer ${customerId} (${customer.companyName}) with provider ${invitation.provider.companyName}`,
            },
          ),
        },
        { op: 'create', document: accepted(invitation.reseller.partnerId) },
        ...counted,
      ]);
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
      const latest = await findInvitation<CustomerInvitation>(
        services,
        token,
        'customer-invitation',
      );
      if (latest.value.acceptedBy !== customerId) {
        throw (
          linkProblem(latest.value, now) ??
          new DomainError('conflict', 'The invitation changed meanwhile; try again.')
        );
      }
    }
  }
  const providerSide = relationshipFor(
    invitation.provider.partnerId,
    customer,
    'indirect-provider',
    {
      acquiredAs: 'indirect-provider',
      indirectReseller: invitation.reseller,
      delegatedAdmin: false,
      at,
      reason: `customer accepted ${invitation.reseller.companyName}'s invitation`,
    },
  );
  // A customer of the reseller's own (acquired in direct bill) shows in the provider's pipeline
  // as moved to it; a retry after a crash counts it with the relationship it writes, once.
  await writeRelationship(
    services,
    principal,
    providerSide,
    accepted(invitation.provider.partnerId),
    pipelinePatch(invitation.reseller.partnerId, {
      customersExtended: resellerSide.acquiredAs === 'direct-bill' ? 1 : 0,
      at: now.toISOString(),
    }),
  );
  return {
    customer,
    reseller: resellerSide,
    provider: providerSide,
    providerName: invitation.provider.companyName,
  };
}
