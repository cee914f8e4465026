import type { Actor } from './principal';

/** One line of a partner's activity log (docs/api.md GET /api/me/activity). Append-only. */
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

/**
 * Audit ids sort in the order events happened: the time, then the event's place among those
 * written at the same instant (an auto-approval writes two), then a unique suffix.
 */
export function auditEventId(at: Date, ordinal: number, unique: string): string {
  return `${at.toISOString()}-${String(ordinal).padStart(2, '0')}-${unique.replace(/-/g, '').slice(0, 12)}`;
}

const auditIdFormat = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z-\d{2}-[0-9a-f]{1,12}$/;

/** True for an id auditEventId made: nothing else in a partition is named by a timestamp. */
export function isAuditEventId(id: string): boolean {
  return auditIdFormat.test(id);
}

export function auditEvent(
  unique: string,
  partnerId: string,
  at: Date,
  actor: Actor,
  action: string,
  change: { from?: string | null; to?: string | null; reason?: string | null } = {},
  ordinal = 0,
): AuditEvent {
  return {
    type: 'audit',
    id: auditEventId(at, ordinal, unique),
    partnerId,
    at: at.toISOString(),
    actor,
    action,
    from: change.from ?? null,
    to: change.to ?? null,
    reason: change.reason ?? null,
  };
}
