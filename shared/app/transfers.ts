import { activePartnership, partnershipSides } from './provider-partnership';
import { relationshipId, type CustomerRelationship, type Subscription } from '../domain/customers';
import { DomainError, notFound, validationFailed } from '../domain/errors';
import { actorOf, systemActor, type Principal } from '../domain/principal';
import { partnershipState } from '../domain/providers';
import {
  eligibility,
  transferDocumentId,
  transferGuardId,
  transferLifetimeDays,
  transferLines,
  type Eligibility,
  type Transfer,
  type TransferGuard,
  type TransferStatus,
} from '../domain/transfers';
import { loadRelationship } from './customers';
import { loadPartner } from './partners';
import { countEmails } from './rate-limit';
import { WriteConflict, type Logger, type Page, type PageRequest } from './ports';
import type { Services } from './services';
import { commitCounting, countsPatch } from './transition-counts';
import {
  closeTransfer,
  loadResellerCopy,
  propagate,
  stepAudit,
  stepEmails,
  stepEvent,
} from './transfer-steps';

/** Concurrent requests for one customer's subscriptions retry on the guard this many times. */
const guardAttempts = 40;

/** A transfer moves at most this many subscriptions: its customer-side batch stays under 100. */
export const maxMovedSubscriptions = 50;

/** Every subscription of the customer the partner sees (all pages of one partition). */
async function subscriptionsOf(
  services: Services,
  customerId: string,
  partnerId: string,
): Promise<Subscription[]> {
  const all: Subscription[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await services.customers.listFor<Subscription>(
      customerId,
      'subscription',
      partnerId,
      { pageSize: 100, continuationToken },
    );
    all.push(...page.items.map((item) => item.value));
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken !== undefined);
  return all;
}

/** GET .../transfers/eligibility: every subscription, eligible or not, with the reason. */
export async function transferEligibility(
  services: Services,
  principal: Principal,
  customerId: string,
  providerId: string,
): Promise<Eligibility> {
  const resellerId = principal.tenantId;
  await loadRelationship(services, resellerId, customerId);
  const [, guard, subscriptions] = await Promise.all([
    activePartnership(services, { providerId, resellerId }, 'reseller', 'query.providerId'),
    services.partners.getDocument<TransferGuard>(resellerId, transferGuardId(customerId)),
    subscriptionsOf(services, customerId, resellerId),
  ]);
  return eligibility(subscriptions, resellerId, guard?.value.open ?? {});
}

/**
 * POST .../transfers (docs/rules.md section 8b): the request, in one batch in the reseller's partition with
 * the guard of the customer's subscriptions in open transfers (first: of concurrent requests for
 * a subscription exactly one writes it), its audit event and both partners' emails.
 */
export async function createTransfer(
  services: Services,
  principal: Principal,
  customerId: string,
  input: { providerId: string; lineItems: { subscriptionId: string }[] },
): Promise<Transfer> {
  const resellerId = principal.tenantId;
  const { value: relationship } = await loadRelationship(services, resellerId, customerId);
  const [reseller, provider, partnership, providerRelationship, subscriptions] = await Promise.all([
    loadPartner(services, resellerId),
    services.partners.get(input.providerId),
    activePartnership(
      services,
      { providerId: input.providerId, resellerId },
      'reseller',
      'body.providerId',
    ),
    services.partners.getDocument<CustomerRelationship>(
      input.providerId,
      relationshipId(customerId),
    ),
    subscriptionsOf(services, customerId, resellerId),
  ]);
  if (
    !providerRelationship ||
    // Stryker disable next-line ConditionalExpression: customerId is a uuid (the route's schema), so no other document is named customer-<it>
    providerRelationship.value.type !== 'customer-relationship' ||
    providerRelationship.value.indirectReseller?.partnerId !== resellerId
  ) {
    throw new DomainError(
      'relationship-required',
      providerRelationship?.value.type === 'customer-relationship'
        ? `${partnership.value.counterpartyName} serves ${relationship.companyName} through another reseller, not through you: it takes over subscriptions only from the reseller it serves the customer through.`
        : `${partnership.value.counterpartyName} has no relationship with ${relationship.companyName} yet: extend the customer's relationship to it first (POST /api/me/customers/${customerId}/relationship-extension).`,
    );
  }
  const transferId = services.ids.newId();
  const requested = input.lineItems.map((item) => item.subscriptionId);
  for (let attempt = 1; attempt <= guardAttempts; attempt += 1) {
    const guard = await services.partners.getDocument<TransferGuard>(
      resellerId,
      transferGuardId(customerId),
    );
    const open = guard?.value.open ?? {};
    const lineItems = transferLines(requested, subscriptions, resellerId, open, () =>
      services.ids.newId(),
    );
    const moved = lineItems.flatMap((line) => [line, ...line.addOns]);
    if (moved.length > maxMovedSubscriptions) {
      throw validationFailed([
        {
          path: 'body.lineItems',
          message: `moves ${moved.length} subscriptions with their add-ons; at most ${maxMovedSubscriptions} per transfer`,
        },
      ]);
    }
    const now = services.clock.now();
    const transfer: Transfer = {
      type: 'transfer',
      id: transferDocumentId(transferId),
      partnerId: resellerId,
      side: 'reseller',
      transferId,
      customerId,
      customerName: relationship.companyName,
      reseller: { partnerId: resellerId, companyName: reseller.value.companyName },
      provider: { partnerId: input.providerId, companyName: partnership.value.counterpartyName },
      counterpartyId: input.providerId,
      status: 'pending',
      lineItems,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + transferLifetimeDays * 86_400_000).toISOString(),
      updatedAt: now.toISOString(),
      closedAt: null,
      reason: null,
      propagateAfter: now.toISOString(),
    };
    const guarded: TransferGuard = {
      type: 'transfer-guard',
      id: transferGuardId(customerId),
      partnerId: resellerId,
      customerId,
      open: {
        ...open,
        ...Object.fromEntries(moved.map((item) => [item.subscriptionId, transferId])),
      },
    };
    const emails = stepEmails(services, transfer, [reseller.value, provider?.value ?? null]);
    // The hourly counter of the reseller's emails first, then the guard: a conflict on either
    // is a concurrent request, and this one reads again (docs/rules.md section 13).
    const counted = await countEmails(services, resellerId, now, { emails: emails.length });
    try {
      await commitCounting(services, resellerId, [
        counted,
        guard
          ? { op: 'replace', document: guarded, etag: guard.etag }
          : { op: 'create', document: guarded },
        { op: 'create', document: transfer },
        {
          op: 'create',
          document: stepAudit(services, resellerId, actorOf(principal), transfer, now),
        },
        { op: 'create', document: stepEvent(services, resellerId, transfer) },
        ...emails.map((document) => ({ op: 'create' as const, document })),
        // In a transfer from now, counted with the guard that holds them (docs/rules.md section 14).
        ...countsPatch({
          subscriptions: { inTransfer: moved.length },
          moments: { lastTransferRequestedAt: transfer.createdAt },
        }),
      ]);
      return await propagate(services, actorOf(principal), transfer);
    } catch (error) {
      if (!(
        error instanceof WriteConflict &&
        // Stryker disable next-line ConditionalExpression: past the emails counter (0) and the guard (1) the batch creates documents under fresh ids (a refused batch writes none of them) and patches counts that commitCounting creates when missing: no later write can conflict
        error.index <= 1
      ))
        throw error;
    }
  }
  throw new DomainError('conflict', 'Too many concurrent requests for this customer; try again.');
}

export type TransferDirection = 'outgoing' | 'incoming';

/** GET /api/me/transfers: the partner's copies, sent (reseller) or received (provider). */
export function listTransfers(
  services: Services,
  principal: Principal,
  direction: TransferDirection,
  status: TransferStatus | undefined,
  page: PageRequest,
): Promise<Page<Transfer>> {
  return services.partners.transfers(
    principal.tenantId,
    direction === 'outgoing' ? 'reseller' : 'provider',
    status,
    page,
  );
}

/** One transfer, from the caller's own copy: another partner's is never found (404). */
export async function readTransfer(
  services: Services,
  principal: Principal,
  transferId: string,
): Promise<Transfer> {
  const found = await services.partners.getDocument<Transfer>(
    principal.tenantId,
    transferDocumentId(transferId),
  );
  // Stryker disable next-line ConditionalExpression: transferId is a uuid (the route's schema), so no other document is named transfer-<it>
  if (!found || found.value.type !== 'transfer') throw notFound('The transfer');
  return found.value;
}

/** The caller's copy, when it is on `side`; the other side is told who decides (403). */
async function ownCopy(
  services: Services,
  principal: Principal,
  transferId: string,
  side: Transfer['side'],
): Promise<Transfer> {
  const copy = await readTransfer(services, principal, transferId);
  if (copy.side !== side) {
    throw new DomainError(
      'forbidden',
      side === 'provider'
        ? `Only the indirect provider (${copy.provider.companyName}) accepts or rejects a transfer.`
        : `Only the reseller (${copy.reseller.companyName}) withdraws its transfer request.`,
    );
  }
  return copy;
}

/**
 * A request past its 30 days, or between partners no longer in partnership, cannot be accepted
 * even before the timer ran: it is closed as it should be, and the answer says why (409).
 */
async function closeIfLapsed(services: Services, transfer: Transfer): Promise<void> {
  const current = (
    await loadResellerCopy(services, transfer.reseller.partnerId, transfer.transferId)
  ).value;
  if (current.status !== 'pending') return;
  if (services.clock.now().toISOString() >= current.expiresAt) {
    await closeTransfer(
      services,
      systemActor,
      current.reseller.partnerId,
      current.transferId,
      'expired',
      null,
    );
    throw new DomainError('conflict', 'The transfer request expired after 30 days.');
  }
  // Both sides: a partnership ended on the provider's side only (a crash between the two
  // writes of the end) has ended too (docs/rules.md section 8b).
  const { resellerSide, providerSide } = await partnershipSides(services, {
    providerId: current.provider.partnerId,
    resellerId: current.reseller.partnerId,
  });
  if (partnershipState(resellerSide?.value, providerSide?.value, 'reseller') !== 'active') {
    await closeTransfer(
      services,
      systemActor,
      current.reseller.partnerId,
      current.transferId,
      'cancelled',
      'the partnership ended',
    );
    throw new DomainError('conflict', 'The partnership ended: the transfer was cancelled.');
  }
}

/** POST .../accept: the provider accepts; the transfer completes on both sides. */
export async function acceptTransfer(
  services: Services,
  principal: Principal,
  transferId: string,
): Promise<Transfer> {
  const copy = await ownCopy(services, principal, transferId, 'provider');
  await closeIfLapsed(services, copy);
  return closeTransfer(
    services,
    actorOf(principal),
    copy.reseller.partnerId,
    transferId,
    'completed',
    null,
    principal.tenantId,
  );
}

export async function rejectTransfer(
  services: Services,
  principal: Principal,
  transferId: string,
  reason: string,
): Promise<Transfer> {
  const copy = await ownCopy(services, principal, transferId, 'provider');
  return closeTransfer(
    services,
    actorOf(principal),
    copy.reseller.partnerId,
    transferId,
    'rejected',
    reason,
    principal.tenantId,
  );
}

export async function withdrawTransfer(
  services: Services,
  principal: Principal,
  transferId: string,
): Promise<Transfer> {
  await ownCopy(services, principal, transferId, 'reseller');
  return closeTransfer(
    services,
    actorOf(principal),
    principal.tenantId,
    transferId,
    'withdrawn',
    null,
    principal.tenantId,
  );
}

/**
 * The expireTransfers timer (docs/api.md): expires requests pending for 30 days, telling both
 * partners, and finishes any change a crash left half-written (its marker past its grace).
 */
export async function expireTransfers(
  services: Services,
  logger: Logger,
): Promise<{ expired: number; completed: number }> {
  const now = services.clock.now();
  let expired = 0;
  let completed = 0;
  for await (const { value } of services.partners.transfersToExpire(now)) {
    try {
      await closeTransfer(
        services,
        systemActor,
        value.reseller.partnerId,
        value.transferId,
        'expired',
        null,
      );
      expired += 1;
    } catch (error) {
      // Decided meanwhile by a partner: nothing to expire.
      if (!(
        error instanceof DomainError &&
        // Stryker disable next-line ConditionalExpression: closeTransfer counts no emails here (never rate-limited), and its one other domain error, not-found, needs the reseller's copy missing: the timer read that copy, and transfers are never deleted
        error.code === 'conflict'
      ))
        throw error;
      logger.info('expireTransfers: decided meanwhile', { transferId: value.transferId });
    }
  }
  // One transfer that cannot be finished must not hold up the others: it is logged, the run
  // goes on, and the run fails at the end so the host reports it.
  const failed: string[] = [];
  for await (const { value } of services.partners.transfersToPropagate(now)) {
    try {
      await propagate(services, systemActor, value);
      completed += 1;
    } catch (error) {
      failed.push(value.transferId);
      logger.error('expireTransfers: could not finish a transfer step', {
        transferId: value.transferId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  if (failed.length > 0) throw new Error(`expireTransfers: ${failed.length} transfers unfinished`);
  return { expired, completed };
}

/**
 * Ending a partnership cancels the pending transfers between the two (docs/rules.md section
 * 8b): `pending`, the provider's copies, read before the end counted their emails.
 */
export async function cancelTransfersBetween(
  services: Services,
  principal: Principal,
  resellerId: string,
  pending: readonly Transfer[],
): Promise<string[]> {
  const cancelled: string[] = [];
  for (const transfer of pending) {
    try {
      await closeTransfer(
        services,
        actorOf(principal),
        resellerId,
        transfer.transferId,
        'cancelled',
        'the partnership ended',
      );
      cancelled.push(transfer.transferId);
    } catch (error) {
      if (!(
        error instanceof DomainError &&
        // Stryker disable next-line ConditionalExpression: closeTransfer counts no emails here (never rate-limited), and its one other domain error, not-found, needs the reseller's copy missing: the provider's pending copy was written after it, and transfers are never deleted
        error.code === 'conflict'
      ))
        throw error;
    }
  }
  return cancelled;
}
