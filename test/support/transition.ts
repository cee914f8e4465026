import { expect } from 'vitest';
import type { TestApp } from './app';

export interface TransitionAnswer {
  partnerId: string;
  companyName: string;
  steps: {
    step: string;
    status: string;
    at?: string;
    dueBy?: string;
    waitingOn?: string;
    detail: string;
    action?: { method: string; path: string; summary: string };
  }[];
  next: string | null;
  counts: {
    providers: number;
    customers: { directBill: number; extendedToProvider: number; indirect: number };
    subscriptions: { directBillActive: number; inTransfer: number; transferred: number };
  };
}

/** The partner's transition as its portal reads it (GET /api/me/transition). */
export async function transitionOf(app: TestApp, token: string): Promise<TransitionAnswer> {
  const response = await app.api<TransitionAnswer>('GET', '/api/me/transition', { token });
  expect(response.status, response.text).toBe(200);
  return response.body;
}

/** Each step's status, by step. */
export function stepsOf(view: TransitionAnswer): Record<string, string> {
  return Object.fromEntries(view.steps.map((state) => [state.step, state.status]));
}

export interface Recount {
  providers: number;
  customers: { directBill: number; extendedToProvider: number; indirect: number };
  subscriptions: { directBillActive: number; inTransfer: number; transferred: number };
}

/**
 * The partner's counts worked out the slow way, by reading every document they count (what the
 * app never does): the counts document must always say the same once its changes are written.
 */
export async function recount(app: TestApp, partnerId: string): Promise<Recount> {
  const documents = await app.documents(partnerId);
  const partnerships = documents.filter(
    (document) =>
      document.type === 'partnership' &&
      document.side === 'reseller' &&
      (document.status ?? 'active') === 'active',
  );
  const relationships = documents.filter((document) => document.type === 'customer-relationship');
  const ofKind = (test: (relationship: any) => boolean) => relationships.filter(test).length;
  const guards = documents.filter((document) => document.type === 'transfer-guard');
  const ownCustomers = new Set(
    relationships
      .filter((relationship) => relationship.acquiredAs === 'direct-bill')
      .map((relationship) => relationship.customerId as string),
  );
  const subscriptions = await app.query<any>(
    'customers',
    `SELECT * FROM c WHERE c.type = 'subscription' AND ARRAY_CONTAINS(c.partners, '${partnerId}')`,
  );
  return {
    providers: partnerships.length,
    customers: {
      directBill: ofKind((relationship) => relationship.relationship === 'direct-bill'),
      extendedToProvider: ofKind(
        (relationship) =>
          relationship.relationship === 'indirect-reseller' &&
          relationship.acquiredAs === 'direct-bill',
      ),
      indirect: ofKind(
        (relationship) =>
          relationship.relationship === 'indirect-reseller' &&
          relationship.acquiredAs === 'indirect-provider',
      ),
    },
    subscriptions: {
      directBillActive: subscriptions.filter(
        (subscription) =>
          subscription.billedBy === partnerId &&
          (subscription.status ?? 'active') === 'active' &&
          ownCustomers.has(subscription.customerId),
      ).length,
      inTransfer: guards.reduce((sum, guard) => sum + Object.keys(guard.open).length, 0),
      transferred: subscriptions.filter(
        (subscription) =>
          subscription.partnerOfRecord === partnerId && subscription.transferredFrom,
      ).length,
    },
  };
}

/** The counts as the transition view answers them. */
export async function countsOf(app: TestApp, token: string): Promise<Recount> {
  return (await transitionOf(app, token)).counts;
}
