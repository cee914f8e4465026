import type { Access, HttpFunctionDefinition } from '../http/define';
import {
  hasRole,
  isOperator,
  type OperatorRole,
  type PartnerRole,
  type Principal,
} from '../domain/principal';

/** The app roles the app reads (docs/api.md, Identity); `GlobalAdmin` is the directory role. */
export const knownRoles: readonly (PartnerRole | OperatorRole)[] = [
  'GlobalAdmin',
  'AdminAgent',
  'SalesAgent',
  'Operator',
  'EnrollmentReviewer',
];

/** What automation (an app-only token) needs: every route but those only a person may call. */
export const automationRoles: readonly PartnerRole[] = ['AdminAgent'];

export interface TokenAsked {
  tenant: string;
  roles: string[];
  app: boolean;
}

/** The principal the app reads from such a development token (the verifier's rules). */
function principalOf(asked: TokenAsked): Principal {
  return {
    kind: asked.app ? 'app' : 'user',
    tenantId: asked.tenant,
    userId: 'dev',
    name: 'dev',
    email: null,
    roles: asked.roles.filter((role) => role !== 'GlobalAdmin'),
    isGlobalAdmin: !asked.app && asked.roles.includes('GlobalAdmin'),
  };
}

const names = (access: Access): readonly string[] =>
  access.kind === 'anonymous' ? [] : (access.roles ?? []);

/** Whether a route naming `role` lets this principal through by that role (not another). */
function honours(
  access: Access,
  role: string,
  principal: Principal,
  operatorTenantId: string,
): boolean {
  if (access.kind === 'operator')
    return isOperator(principal, operatorTenantId, [role as OperatorRole]);
  return hasRole(principal, role as PartnerRole);
}

/**
 * Why no route of the function table would honour a role of this token (null: each role asked
 * for opens some route to it). `npm run token` refuses such a token rather than mint one every
 * route it was meant for refuses.
 */
export function tokenRefusal(
  asked: TokenAsked,
  table: readonly HttpFunctionDefinition[],
  operatorTenantId: string,
): string | null {
  const unknown = asked.roles.filter((role) => !knownRoles.includes(role as PartnerRole));
  if (unknown.length > 0)
    return `unknown role ${unknown.join(', ')}: the roles are ${knownRoles.join(', ')}`;
  if (asked.app && asked.roles.filter((role) => role !== 'GlobalAdmin').length === 0) {
    return `an app-only token acts only through its app roles, and GlobalAdmin is none (no application is a global admin): give automation --roles ${automationRoles.join(',')}`;
  }
  const principal = principalOf(asked);
  for (const role of asked.roles) {
    const opened = table.some(
      ({ access }) =>
        names(access).includes(role) && honours(access, role, principal, operatorTenantId),
    );
    if (opened) continue;
    if (role === 'GlobalAdmin')
      return 'GlobalAdmin with --app: an application is never a global admin; the routes only a global admin may call need a person (leave out --app)';
    return `${role} counts only in the operator tenant (${operatorTenantId}); no route honours it in tenant ${asked.tenant}`;
  }
  return null;
}
