import { assertProviderOf } from './provider-partnership';
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
import { preferredLanguage, type Language } from '../domain/partner';
import { actorOf, type Principal } from '../domain/principal';
import { partnershipId, type Partnership } from '../domain/providers';
import { escapeHtml } from '../html';
import { claimDomain, createIfMissing, writeRelationship, type NewCustomer } from './customers';
import { findInvitation, openInvitation } from './invitations';
import { parseLinkToken } from './link-tokens';
import { eventOf } from './events';
import { queue } from './outbox';
import { loadPartner } from './partners';
import { countInvitationEmail } from './rate-limit';
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch, pipelinePatch, readCounts } from './transition-counts';
import { firstTime, relationshipCountChange } from '../domain/transition-counts';

export const customerInvitationLink = (services: Services, token: string): string =>
  `${services.config.links.publicBaseUrl}/api/links/customer-invitations#${token}`;

export interface Draft {
  subject: string;
  body: string;
}

/** The email the reseller may edit, in its language; the link must stay in it (section 8). */
export function draftFor(
  language: Language,
  reseller: string,
  provider: string,
  link: string,
  expiresAt: string,
): Draft {
  const expires = expiresAt.slice(0, 10);
  return language === 'fr'
    ? {
        subject: `${reseller} vous invite à travailler avec ${provider}`,
        body: [
          'Bonjour,',
          '',
          `${reseller} vous invite à en faire votre revendeur, avec ${provider} comme fournisseur indirect. En acceptant, ${reseller} gérera vos abonnements, licences et utilisateurs, et ${provider} pourra passer vos commandes.`,
          '',
          `Un administrateur général de votre organisation peut accepter l'invitation ici (lien valable jusqu'au ${expires}) :`,
          link,
          '',
          'Cordialement,',
          reseller,
        ].join('\n'),
      }
    : {
        subject: `${reseller} invites you to work with ${provider}`,
        body: [
          'Hello,',
          '',
          `${reseller} invites you to make it your reseller, with ${provider} as its indirect provider. Once you accept, ${reseller} manages your subscriptions, licenses and users, and ${provider} can place your orders.`,
          '',
          `A global admin of your organisation can accept the invitation here (the link works until ${expires}):`,
          link,
          '',
          'Kind regards,',
          reseller,
        ].join('\n'),
      };
}

/** POST /api/me/customer-invitations: a draft with a personalised link, for one of its providers. */
export async function createCustomerInvitation(
  services: Services,
  principal: Principal,
  providerId: string,
): Promise<{ invitation: CustomerInvitation; link: string; draft: Draft }> {
  const [{ value: reseller }, partnership] = await Promise.all([
    loadPartner(services, principal.tenantId),
    services.partners.getDocument<Partnership>(principal.tenantId, partnershipId(providerId)),
  ]);
  assertProviderOf(partnership);
  const now = services.clock.now();
  const opened = openInvitation(services, reseller.partnerId, 'customer-invitation', now);
  const invitation: CustomerInvitation = {
    ...opened.document,
    reseller: { partnerId: reseller.partnerId, companyName: reseller.companyName },
    provider: { partnerId: providerId, companyName: partnership.value.counterpartyName },
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
 * Where the invitation's own link stands in the text, exactly: its prefix, then a whole token
 * (not followed by another token character, so a link followed by punctuation or inside
 * brackets is found and ends where the token ends), whose secret is this invitation's.
 */
export function invitationLinkSpans(
  services: Services,
  text: string,
  invitation: CustomerInvitation,
): { start: number; end: number }[] {
  const prefix = customerInvitationLink(services, '');
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(
    `${escaped}([A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`,
    'g',
  );
  const spans: { start: number; end: number }[] = [];
  for (const match of text.matchAll(pattern)) {
    const parsed = parseLinkToken(match[1]!);
    if (
      parsed &&
      parsed.partitionKey === invitation.partnerId &&
      parsed.documentId === invitation.id
    ) {
      spans.push({ start: match.index, end: match.index + match[0].length });
    }
  }
  return spans;
}

/** True when the text holds the invitation's own link, exactly (section 8: the link must stay). */
export function containsLink(
  services: Services,
  text: string,
  invitation: CustomerInvitation,
): boolean {
  return invitationLinkSpans(services, text, invitation).length > 0;
}

/**
 * The HTML part of the reseller's plain text: everything escaped, and only the invitation
 * link made a link (its href exactly the link); any other URL stays text.
 */
export function customerInvitationHtml(
  text: string,
  spans: readonly { start: number; end: number }[],
  footer: string,
): string {
  let html = '';
  let at = 0;
  for (const { start, end } of spans) {
    const link = escapeHtml(text.slice(start, end));
    html += `${escapeHtml(text.slice(at, start))}<a href="${link}">${link}</a>`;
    at = end;
  }
  html += escapeHtml(text.slice(at));
  const paragraphs = (value: string): string =>
    value
      .split('\n')
      .map((line) => `<p>${line}</p>`)
      .join('');
  return `<!doctype html>\n<html><head><meta charset="utf-8"></head><body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;line-height:1.5">${paragraphs(html)}<hr><div style="color:#555;font-size:90%">${paragraphs(escapeHtml(footer))}</div></body></html>`;
}

/** The fixed footer: who sent it and why the recipient got it, whatever the editable part says. */
export function customerInvitationFooter(
  language: Language,
  reseller: string,
  provider: string,
): string {
  return language === 'fr'
    ? [
        `Cet e-mail vous est envoyé par ${reseller}, revendeur indirect de ${provider}, via la plateforme de transition des partenaires CSP de Microsoft.`,
        `Vous le recevez parce que ${reseller} a saisi votre adresse pour vous inviter. Le texte ci-dessus est le sien ; le seul lien de la plateforme est le lien d'invitation. Pour répondre, répondez à cet e-mail : votre réponse va à ${reseller}.`,
      ].join('\n')
    : [
        `This email is sent by ${reseller}, an indirect reseller of ${provider}, through the Microsoft CSP partner transition platform.`,
        `You receive it because ${reseller} entered your address to invite you. The text above is theirs; the only platform link is the invitation link. To answer, reply to this email: your reply goes to ${reseller}.`,
      ].join('\n');
}

/**
 * POST /api/me/customer-invitations/{id}/send: the reseller's edited email goes out through the
 * outbox, in one batch with the invitation's state; a body without the exact link is refused.
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
  const spans = invitationLinkSpans(services, email.body, found.value);
  if (spans.length === 0) {
    throw new DomainError(
      'link-missing',
      'The email body must contain the invitation link exactly as drafted; put it back and send again.',
      [{ path: 'body.body', message: 'does not contain the invitation link' }],
    );
  }
  const sends = found.value.sends ?? (found.value.handedOver === 'sent' ? 1 : 0);
  if (sends >= maxCustomerInvitationSends) {
    throw new DomainError(
      'rate-limited',
      `An invitation is sent at most ${maxCustomerInvitationSends} times; create a new invitation, or copy it and send it yourself.`,
    );
  }
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
    // The hourly counter of invitation emails goes first (shared/app/rate-limit.ts): over the
    // limit nothing is written; raced by another invitation, it is counted again.
    const counted = await countInvitationEmail(services, principal.tenantId, now);
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

/** The customer's record: found, or created from what its global admin gave. */
async function customerRecord(
  services: Services,
  customerId: string,
  details: Partial<NewCustomer> | undefined,
  resellerId: string,
): Promise<Customer> {
  const existing = await services.customers.get(customerId);
  if (existing) return existing.value;
  const missing = (['companyName', 'domain', 'country'] as const).filter(
    (field) => !details?.[field],
  );
  if (!details?.companyName || !details.domain || !details.country) {
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
  details: Partial<NewCustomer> | undefined,
): Promise<{ customer: Customer; reseller: CustomerRelationship; provider: CustomerRelationship }> {
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
  const retrying = problem?.code === 'invitation-used' && invitation.acceptedBy === customerId;
  if (problem && !retrying) throw problem;

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
  return { customer, reseller: resellerSide, provider: providerSide };
}
