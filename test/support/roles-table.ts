import type { Access, HttpFunctionDefinition } from '../../shared/http/define';
import { hasAnyRole, type Principal } from '../../shared/domain/principal';
import { automationRoles } from '../../shared/local/token-roles';

const roleNames: Record<string, string> = {
  GlobalAdmin: 'global admin',
  AdminAgent: 'AdminAgent',
  SalesAgent: 'SalesAgent',
  Operator: 'Operator',
  EnrollmentReviewer: 'EnrollmentReviewer',
};

const either = (names: readonly string[]): string =>
  names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;

/** Who may call a route, in the words of docs/api.md's table, from its access alone. */
export function whoMay(access: Access): string {
  if (access.kind === 'anonymous') return 'anyone';
  if (access.kind === 'operator')
    return `${either(access.roles.map((role) => roleNames[role]!))} of the operator tenant`;
  if (!access.roles) return 'any user of the tenant';
  return either(access.roles.map((role) => roleNames[role]!));
}

const automation: Principal = {
  kind: 'app',
  tenantId: 'any',
  userId: 'app',
  name: 'automation',
  email: null,
  roles: [...automationRoles],
  isGlobalAdmin: false,
};

/** What an app-only token needs there: automation's roles, or a person. */
export function automationMay(access: Access): string {
  if (access.kind === 'anonymous') return 'no token';
  if (access.kind === 'operator') return 'Operator (operator tenant)';
  if (!access.roles) return 'any role';
  return hasAnyRole(automation, access.roles)
    ? automationRoles.join(', ')
    : 'no: a person (global admin)';
}

/** docs/api.md's "Who may call each route", one row per operation of the function table. */
export function rolesTable(functions: readonly HttpFunctionDefinition[]): string {
  const rows = functions.flatMap(({ route, methods, access }) =>
    methods.map(
      (method) => `| \`${method} /api/${route}\` | ${whoMay(access)} | ${automationMay(access)} |`,
    ),
  );
  return [
    '| operation | who may call it | an app-only token (automation) |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}
