import type * as z from 'zod';
import type { PartnerTransition, ResellerPipeline } from '../app/transition';
import type { pipelineView, transitionView } from './schemas/transition';
import { stepDetail } from './transition-words';

/** A count the view shows: never below zero, even while a relayed change is on its way. */
const shown = (value: number): number => Math.max(0, value);

/** GET /api/me/transition, from what the domain derived. */
export function toTransitionView({
  partner,
  counts,
  transition,
  language,
}: PartnerTransition): z.input<typeof transitionView> {
  return {
    partnerId: partner.partnerId,
    companyName: partner.companyName,
    steps: transition.steps.map((state) => ({
      step: state.step,
      status: state.status,
      ...(state.at ? { at: state.at } : {}),
      ...(state.dueBy ? { dueBy: state.dueBy } : {}),
      ...(state.waitingOn ? { waitingOn: state.waitingOn } : {}),
      detail: stepDetail(state.reason, language),
      ...(state.action ? { action: { ...state.action } } : {}),
    })),
    next: transition.next,
    counts: {
      providers: shown(counts.providers),
      customers: {
        directBill: shown(counts.customers.directBill),
        extendedToProvider: shown(counts.customers.extendedToProvider),
        indirect: shown(counts.customers.indirect),
      },
      subscriptions: {
        directBillActive: shown(counts.subscriptions.directBillActive),
        inTransfer: shown(counts.subscriptions.inTransfer),
        transferred: shown(counts.subscriptions.transferred),
      },
    },
  };
}

/** GET /api/me/reseller-pipeline. */
export function toPipelineView({
  invited,
  resellers,
}: ResellerPipeline): z.input<typeof pipelineView> {
  return {
    invited: invited.map((invitation) => ({
      invitationId: invitation.invitationId,
      mpnId: invitation.mpnId,
      email: invitation.email,
      sentAt: invitation.createdAt,
      expiresAt: invitation.expiresAt,
    })),
    resellers: resellers.items.map((side) => ({
      resellerId: side.counterpartyId,
      companyName: side.counterpartyName,
      status: side.status ?? 'active',
      since: side.since,
      customersExtended: shown(side.customersExtended ?? 0),
      transfersPending: shown(side.transfersPending ?? 0),
      transfersCompleted: shown(side.transfersCompleted ?? 0),
      lastActivityAt: side.lastActivityAt ?? side.since,
    })),
    continuationToken: resellers.continuationToken,
  };
}
