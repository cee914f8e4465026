import { describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import { knownRoles, tokenRefusal, type TokenAsked } from '../../shared/local/token-roles';

const operatorTenant = '00000000-0000-0000-0000-0000000000ff';
const partner = '11111111-1111-1111-1111-111111111111';
const refusal = (asked: TokenAsked): string | null =>
  tokenRefusal(asked, httpFunctions(), operatorTenant);

describe('npm run token: a role mix no route accepts is refused', () => {
  it('refuses --app --roles GlobalAdmin, which every route refuses, and says what automation needs', () => {
    expect(refusal({ tenant: partner, roles: ['GlobalAdmin'], app: true })).toMatch(
      /GlobalAdmin is none .*give automation --roles AdminAgent$/,
    );
    expect(refusal({ tenant: partner, roles: ['GlobalAdmin', 'AdminAgent'], app: true })).toMatch(
      /^GlobalAdmin with --app: an application is never a global admin/,
    );
    expect(refusal({ tenant: partner, roles: [], app: true })).not.toBeNull();
  });

  it('refuses an operator role outside the operator tenant, and a role the app does not know', () => {
    expect(refusal({ tenant: partner, roles: ['Operator'], app: false })).toBe(
      `Operator counts only in the operator tenant (${operatorTenant}); no route honours it in tenant ${partner}`,
    );
    expect(refusal({ tenant: partner, roles: ['Admin Agent'], app: false })).toMatch(
      /^unknown role Admin Agent: the roles are GlobalAdmin, AdminAgent, SalesAgent/,
    );
  });

  it('mints what the walk-through and automation use', () => {
    for (const asked of [
      { tenant: partner, roles: ['GlobalAdmin'], app: false },
      { tenant: partner, roles: ['GlobalAdmin', 'AdminAgent'], app: false },
      { tenant: partner, roles: ['SalesAgent'], app: false },
      { tenant: partner, roles: [], app: false },
      { tenant: partner, roles: ['AdminAgent'], app: true },
      { tenant: partner, roles: ['AdminAgent', 'SalesAgent'], app: true },
      { tenant: operatorTenant, roles: ['Operator'], app: false },
      { tenant: operatorTenant, roles: ['EnrollmentReviewer'], app: false },
    ])
      expect({ asked, refused: refusal(asked) }).toEqual({ asked, refused: null });
  });

  it('knows every role the function table names', () => {
    const named = new Set(
      httpFunctions().flatMap(({ access }) =>
        access.kind === 'anonymous' ? [] : [...(access.roles ?? [])],
      ),
    );
    expect([...named].sort()).toEqual([...knownRoles].sort());
  });
});
