import type { Actor } from './principal';

/** One line of a partner's activity log (api.md GET /api/me/activity). Append-only. */
export interface AuditEvent {
  type: 'audit';
  id: string;
  partnerId: string;
  at: string;
  actor: Actor;
  action: string;
  from: string | null;
  to: string | null;
  reason: string | null;
}

export function auditEvent(
  id: string,
  partnerId: string,
  at: Date,
  actor: Actor,
  action: string,
  change: { from?: string | null; to?: string | null; reason?: string | null } = {},
): AuditEvent {
  return {
    type: 'audit',
    id,
    partnerId,
    at: at.toISOString(),
    actor,
    action,
    from: change.from ?? null,
    to: change.to ?? null,
    reason: change.reason ?? null,
  };
}
