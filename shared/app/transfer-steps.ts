import { auditEvent } from '../domain/audit';
import {
  relationshipId,
  subscriptionDocumentId,
  type CustomerDocument,
  type CustomerRelationship,
  type Subscription,
} from '../domain/customers';
import { DomainError, notFound } from '../domain/errors';
import { contactEmailOf, preferredLanguage, type Partner } from '../domain/partner';
import type { Actor } from '../domain/principal';
import {
  assertTransition,
  isActive,
  movedSubscriptions,
  propagationGraceSeconds,
  transferDocumentId,
  transferGuardId,
  transferredSubscriptions,
  type Transfer,
  type TransferGuard,
  type TransferStatus,
} from '../domain/transfers';
import type { EventType } from '../domain/events';
import type { EmailKind } from '../domain/email';
import { transferEmail } from './emails/transfer-emails';
import { eventOf } from './events';
import { landingLink } from './links';
import { queue } from './outbox';
import { WriteConflict, type PartnerDocument, type Versioned, type WriteOperation } from './ports';
import { countEmails } from './rate-limit';
import type { Services } from './services';
import { commitCounting, countsPatch, pipelinePatch, readCounts } from './transition-counts';
import { firstTime } from '../domain/transition-counts';

/** How often a step is counted again when concurrent actions moved the hourly counter. */
const countingAttempts = 10;

/** The acting partner's hourly counter, in its own partition, moved meanwhile (never shown: retried). */
class CounterConflict extends Error {}

/**
 * Counts `emails` against `partnerId`'s allowance in its own partition, then runs `write`; if
 * that write is refused, the count is given back (at worst, after a crash, a few emails are
 * counted that were never queued: the allowance errs on the safe side).
 */
async function countApart(
  services: Services,
  partnerId: string,
  now: Date,
  emails: number,
  write: () => Promise<unknown>,
): Promise<void> {
  const counted = await countEmails(services, partnerId, now, { emails });
  try {
    await services.partners.commit(partnerId, [counted]);
  } catch (error) {
    if (error instanceof WriteConflict) throw new CounterConflict();
    throw error;
  }
  try {
    await write();
  } catch (error) {
    await countEmails(services, partnerId, now, { emails: -emails }, 'allowed')
      .then((givenBack) => services.partners.commit(partnerId, [givenBack]))
      .catch(() => undefined);
    throw error;
  }
}

/**
 * The steps every transfer change goes through (docs/rules.md section 8b). A change is decided in one batch
 * in the reseller's partition (its copy, its audit event, both partners' emails), then
 * `propagate` brings the provider's copy, the customer's subscriptions and the reseller's guard
 * in step, each write keyed by ids so that running it again writes nothing twice. Until the
 * last step the reseller's copy keeps `propagateAfter`: the next accept or the expireTransfers
 * timer runs `propagate` again after a crash.
 */
const attempts = 5;

export const auditActions: Record<TransferStatus, EmailKind> = {
  pending: 'transfer-requested',
  completed: 'transfer-completed',
  rejected: 'transfer-rejected',
  withdrawn: 'transfer-withdrawn',
  expired: 'transfer-expired',
  cancelled: 'transfer-cancelled',
};

export const isOpen = (transfer: Transfer): boolean => transfer.status === 'pending';

const propagateAfter = (now: Date): string =>
  new Date(now.getTime() + propagationGraceSeconds * 1000).toISOString();

/** The step's email to each partner that has an address, queued in the reseller's partition. */
export function stepEmails(
  services: Services,
  transfer: Transfer,
  partners: readonly (Partner | null)[],
): PartnerDocument[] {
  const link = landingLink(services.config, 'transfers');
  return partners.flatMap((partner) => {
    const to = contactEmailOf(partner);
    if (!partner || !to) return [];
    return [
      queue(
        services,
        transfer.reseller.partnerId,
        auditActions[transfer.status],
        transferEmail(transfer, to, preferredLanguage(partner), link),
      ),
    ];
  });
}

export function stepAudit(
  services: Services,
  partnerId: string,
  actor: Actor,
  transfer: Transfer,
  at: Date,
): PartnerDocument {
  const counterparty =
    partnerId === transfer.reseller.partnerId ? transfer.provider : transfer.reseller;
  return auditEvent(services.ids.newId(), partnerId, at, actor, auditActions[transfer.status], {
    to: transfer.status,
    reason: `transfer ${transfer.transferId} of ${transfer.customerName}'s subscriptions with ${counterparty.companyName}${transfer.reason ? `: ${transfer.reason}` : ''}`,
  });
}

const stepEvents: Record<TransferStatus, EventType & `transfer.${string}`> = {
  pending: 'transfer.created',
  completed: 'transfer.completed',
  rejected: 'transfer.rejected',
  withdrawn: 'transfer.withdrawn',
  expired: 'transfer.expired',
  cancelled: 'transfer.cancelled',
};

/**
 * The step's event for one side (docs/rules.md section 11: every `transfer.*` goes to both),
 * written in the batch that writes that side's copy in its new status, so once per side.
 */
export function stepEvent(
  services: Services,
  partnerId: string,
  transfer: Transfer,
  position = 0,
): PartnerDocument {
  return eventOf(
    services,
    partnerId,
    stepEvents[transfer.status],
    {
      transferId: transfer.transferId,
      customerId: transfer.customerId,
      providerId: transfer.provider.partnerId,
      resellerId: transfer.reseller.partnerId,
      status: transfer.status,
      subscriptionIds: movedSubscriptions(transfer).map((item) => item.subscriptionId),
      reason: transfer.reason,
    },
    position,
  );
}

/** The provider's copy of the reseller's. */
export function providerCopyOf(transfer: Transfer): Transfer {
  const { propagateAfter: _pending, ...copy } = transfer;
  return {
    ...copy,
    partnerId: transfer.provider.partnerId,
    side: 'provider',
    counterpartyId: transfer.reseller.partnerId,
  };
}

export async function loadResellerCopy(
  services: Services,
  resellerId: string,
  transferId: string,
): Promise<Versioned<Transfer>> {
  const found = await services.partners.getDocument<Transfer>(
    resellerId,
    transferDocumentId(transferId),
  );
  // Stryker disable next-line ConditionalExpression: every caller names the reseller of a copy it read, and transfer-<uuid> in a reseller's partition is only ever its own copy (the guard is transfer-guard-<customerId>; a provider cannot invite itself, so no partner holds both sides)
  if (!found || found.value.type !== 'transfer' || found.value.side !== 'reseller') {
    // Stryker disable next-line StringLiteral: unreachable, as said above: the reseller's copy is written before any other copy and never deleted
    throw notFound('The transfer');
  }
  return found;
}

/**
 * Moves a pending transfer to `to`: decided by an etag-guarded replace of the reseller's copy
 * (of two concurrent decisions one wins), then propagated. Deciding what it already is answers
 * it as it is (a retry), after finishing what a crash may have left. The step's emails count
 * against the hourly allowance of the partner whose action it is (`countedFor`; null for the
 * timer's expiries and for cancellations the end of the partnership counted already).
 */
export async function closeTransfer(
  services: Services,
  actor: Actor,
  resellerId: string,
  transferId: string,
  to: TransferStatus,
  reason: string | null,
  countedFor: string | null = null,
): Promise<Transfer> {
  // Conflicts on the hourly counter are retried apart: they say nothing about the transfer.
  for (let attempt = 1, countings = 0; attempt <= attempts; attempt += 1) {
    const found = await loadResellerCopy(services, resellerId, transferId);
    const current = found.value;
    if (current.status === to) return propagate(services, actor, current);
    assertTransition(current.status, to);
    const now = services.clock.now();
    const closed: Transfer = {
      ...current,
      status: to,
      reason,
      closedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      propagateAfter: propagateAfter(now),
    };
    const completed = to === 'completed';
    const [reseller, provider, counts] = await Promise.all([
      services.partners.get(current.reseller.partnerId),
      services.partners.get(current.provider.partnerId),
      completed ? readCounts(services, resellerId) : null,
    ]);
    // Its subscriptions leave the transfer count with the decision, in the batch that writes its
    // event, so the transition report, recorded as the event is published, sees them moved; a
    // completed transfer's are transferred, no longer billed directly (docs/rules.md section 14).
    const moved = movedSubscriptions(current).length;
    const counted = countsPatch(
      firstTime(
        completed
          ? {
              subscriptions: { inTransfer: -moved, transferred: moved, directBillActive: -moved },
              moments: { firstTransferCompletedAt: closed.closedAt! },
            }
          : { subscriptions: { inTransfer: -moved } },
        counts,
      ),
    );
    const emails = stepEmails(services, closed, [reseller?.value ?? null, provider?.value ?? null]);
    const decision: WriteOperation<PartnerDocument>[] = [
      { op: 'replace', document: closed, etag: found.etag },
      { op: 'create', document: stepAudit(services, resellerId, actor, closed, now) },
      { op: 'create', document: stepEvent(services, resellerId, closed) },
      ...emails.map((document) => ({ op: 'create' as const, document })),
      ...counted,
    ];
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a partner's own step (countedFor) always queues the reseller's email: enrolling needs a complete profile, whose contact email is validated and never cleared
    const counting = countedFor !== null && emails.length > 0;
    // The reseller's own step: its counter goes first in the same batch. The provider's step
    // is decided in the reseller's partition: its counter is written apart, in its own.
    const ownCounter = counting && countedFor === resellerId;
    try {
      if (ownCounter) {
        const emailsCounted = await countEmails(services, resellerId, now, {
          emails: emails.length,
        });
        await commitCounting(services, resellerId, [emailsCounted, ...decision]);
      } else if (counting) {
        await countApart(services, countedFor, now, emails.length, () =>
          commitCounting(services, resellerId, decision),
        );
      } else {
        await commitCounting(services, resellerId, decision);
      }
      return await propagate(services, actor, closed);
    } catch (error) {
      const counterRaced =
        error instanceof CounterConflict ||
        (ownCounter && error instanceof WriteConflict && error.index === 0);
      if (counterRaced) {
        countings += 1;
        if (countings < countingAttempts) attempt -= 1;
        continue;
      }
      if (!(error instanceof WriteConflict && error.index === (ownCounter ? 1 : 0))) throw error;
    }
  }
  throw new DomainError('conflict', 'The transfer changed while it was being decided; try again.');
}

/** Brings every other partition in step with the reseller's copy; idempotent. */
export async function propagate(
  services: Services,
  actor: Actor,
  transfer: Transfer,
): Promise<Transfer> {
  await writeProviderCopy(services, actor, transfer);
  if (transfer.status === 'completed') await moveSubscriptions(services, transfer);
  return settleResellerSide(services, actor, transfer);
}

async function writeProviderCopy(
  services: Services,
  actor: Actor,
  transfer: Transfer,
): Promise<void> {
  const providerId = transfer.provider.partnerId;
  const copy = providerCopyOf(transfer);
  const found = await services.partners.getDocument<Transfer>(providerId, copy.id);
  if (found && found.value.status === copy.status) return;
  const audit = stepAudit(services, providerId, actor, transfer, services.clock.now());
  // A copy first written closed (a crash left the request unpropagated) tells the provider of
  // the request too, first, so it hears each step once.
  const missed =
    !found && transfer.status !== 'pending'
      ? [stepEvent(services, providerId, { ...transfer, status: 'pending', reason: null })]
      : [];
  // The provider's pipeline counts each transfer with the copy in its new status, so once.
  const wasPending = found?.value.status === 'pending';
  const isPending = copy.status === 'pending';
  const pipeline = pipelinePatch(transfer.reseller.partnerId, {
    transfersPending: (isPending ? 1 : 0) - (wasPending ? 1 : 0),
    transfersCompleted: copy.status === 'completed' ? 1 : 0,
    at: services.clock.now().toISOString(),
  });
  try {
    await commitCounting(services, providerId, [
      found
        ? { op: 'replace', document: copy, etag: found.etag }
        : { op: 'create', document: copy },
      { op: 'create', document: audit },
      ...missed.map((document) => ({ op: 'create' as const, document })),
      {
        op: 'create',
        document: stepEvent(services, providerId, transfer, missed.length),
      },
      ...pipeline,
    ]);
  } catch (error) {
    // Another run wrote it first: it writes the same copy.
    if (!(error instanceof WriteConflict && error.index === 0)) throw error;
  }
}

/**
 * Completion on the customer's side: each moved subscription suspended with a pointer to its
 * successor, each successor created under the id chosen when the transfer was requested. One
 * batch in the customer's partition; a rerun skips what is done.
 */
async function moveSubscriptions(services: Services, transfer: Transfer): Promise<void> {
  const customerId = transfer.customerId;
  const moved = movedSubscriptions(transfer);
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const found = await Promise.all(
      moved.flatMap((item) => [
        services.customers.getDocument<Subscription>(
          customerId,
          subscriptionDocumentId(item.subscriptionId),
        ),
        services.customers.getDocument<Subscription>(
          customerId,
          subscriptionDocumentId(item.newSubscriptionId),
        ),
      ]),
    );
    const at = services.clock.now().toISOString();
    const operations: WriteOperation<CustomerDocument>[] = [];
    let index = 0;
    for (const line of transfer.lineItems) {
      for (const item of [line, ...line.addOns]) {
        const original = found[index];
        const successorExists = found[index + 1] !== null;
        index += 2;
        if (!original) continue;
        const baseNewId = item === line ? null : line.newSubscriptionId;
        const { suspended, successor } = transferredSubscriptions(
          transfer,
          item,
          original.value,
          baseNewId,
          at,
        );
        if (!successorExists) operations.push({ op: 'create', document: successor });
        if (isActive(original.value)) {
          operations.push({ op: 'replace', document: suspended, etag: original.etag });
        }
      }
    }
    // Stryker disable next-line ConditionalExpression: committing no operation is no write (writeInPartition answers [] before any round trip), so going on to commit nothing returns the same
    if (operations.length === 0) return;
    try {
      await services.customers.commit(customerId, operations);
      return;
    } catch (error) {
      // A seat change or another run meanwhile: read again (seat changes are not carried).
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
  throw new DomainError('conflict', 'The subscriptions changed while moving; try again.');
}

/** Does the reseller still bill any active subscription of this customer? */
async function stillBillsDirectly(services: Services, transfer: Transfer): Promise<boolean> {
  let continuationToken: string | undefined;
  do {
    const page = await services.customers.listFor<Subscription>(
      transfer.customerId,
      'subscription',
      transfer.reseller.partnerId,
      { pageSize: 100, continuationToken },
    );
    if (
      page.items.some(
        ({ value }) => value.billedBy === transfer.reseller.partnerId && isActive(value),
      )
    ) {
      return true;
    }
    continuationToken = page.continuationToken ?? undefined;
  } while (continuationToken !== undefined);
  return false;
}

/**
 * The reseller's last step, one batch: the guard freed for a closed transfer, the customer's
 * "keeps direct-bill rights" flag cleared once nothing is billed directly any more, and the
 * marker removed from its copy (last: a batch refused part-way on the emulator leaves it set).
 */
async function settleResellerSide(
  services: Services,
  actor: Actor,
  transfer: Transfer,
): Promise<Transfer> {
  const resellerId = transfer.reseller.partnerId;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    const found = await loadResellerCopy(services, resellerId, transfer.transferId);
    const current = found.value;
    if (current.propagateAfter === undefined) return current;
    if (current.status !== transfer.status) return propagate(services, actor, current);
    const closed = !isOpen(current);
    const completed = current.status === 'completed';
    const [guard, relationship, billsDirectly] = await Promise.all([
      closed
        ? services.partners.getDocument<TransferGuard>(
            resellerId,
            transferGuardId(current.customerId),
          )
        : null,
      completed
        ? services.partners.getDocument<CustomerRelationship>(
            resellerId,
            relationshipId(current.customerId),
          )
        : null,
      // Stryker disable next-line BooleanLiteral: when not completed the relationship is not read (null), so billsDirectly is never consulted
      completed ? stillBillsDirectly(services, current) : true,
    ]);
    const operations: WriteOperation<PartnerDocument>[] = [];
    if (guard && Object.values(guard.value.open).includes(current.transferId)) {
      const open = Object.fromEntries(
        Object.entries(guard.value.open).filter(([, id]) => id !== current.transferId),
      );
      operations.push({ op: 'replace', document: { ...guard.value, open }, etag: guard.etag });
    }
    if (relationship?.value.retainsDirectBill && !billsDirectly) {
      operations.push({
        op: 'replace',
        document: { ...relationship.value, retainsDirectBill: false },
        etag: relationship.etag,
      });
    }
    const { propagateAfter: _done, ...settled } = current;
    operations.push({ op: 'replace', document: settled, etag: found.etag });
    try {
      await services.partners.commit(resellerId, operations);
      return settled;
    } catch (error) {
      if (!(error instanceof WriteConflict)) throw error;
    }
  }
  throw new DomainError(
    'conflict',
    'The transfer changed while it was being completed; try again.',
  );
}
