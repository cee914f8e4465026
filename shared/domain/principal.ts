/** Who is calling, as read from a validated token (docs/docs/api.md, Identity). */
export interface Principal {
  /** A signed-in user, or an application acting for itself (app-only token, `idtyp: app`). */
  kind: 'user' | 'app';
  tenantId: string;
  userId: string;
  name: string;
  email: string | null;
  roles: string[];
  isGlobalAdmin: boolean;
}

/** The Global Administrator directory role template id, as found in the `wids` claim. */
export const globalAdminRoleTemplateId = '62e90394-69f5-4237-9190-012177145e10';

/** The tenant every personal Microsoft account (MSA) signs in through: never a partner. */
export const personalAccountsTenantId = '9188040d-6c67-4c5b-b112-36a304b66dad';

export type PartnerRole = 'GlobalAdmin' | 'AdminAgent' | 'SalesAgent';

/**
 * docs/rules.md, Actors: a global admin holds the directory role (`wids`); the verifier decides
 * `isGlobalAdmin` (the GlobalAdmin app role counts only where the deployment opts in).
 */
export function hasRole(principal: Principal, role: PartnerRole): boolean {
  return role === 'GlobalAdmin' ? principal.isGlobalAdmin : principal.roles.includes(role);
}

export function hasAnyRole(principal: Principal, roles: readonly PartnerRole[]): boolean {
  return roles.some((role) => hasRole(principal, role));
}

/**
 * Operator staff roles (docs/rules.md, Actors): `Operator` keeps the master records and does
 * everything an operator may; `EnrollmentReviewer` only reads the review queue and decides.
 */
export type OperatorRole = 'Operator' | 'EnrollmentReviewer';

/** The configured operator tenant holding one of the roles the route names. */
export function isOperator(
  principal: Principal,
  operatorTenantId: string,
  roles: readonly OperatorRole[],
): boolean {
  return (
    principal.tenantId === operatorTenantId && roles.some((role) => principal.roles.includes(role))
  );
}

/** How an actor appears in the audit trail. */
export interface Actor {
  kind: 'user' | 'operator' | 'system';
  tenantId: string | null;
  userId: string | null;
  name: string;
}

export const systemActor: Actor = { kind: 'system', tenantId: null, userId: null, name: 'system' };

export function actorOf(principal: Principal, kind: 'user' | 'operator' = 'user'): Actor {
  return { kind, tenantId: principal.tenantId, userId: principal.userId, name: principal.name };
}
