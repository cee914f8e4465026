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
