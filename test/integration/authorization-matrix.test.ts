import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import {
  hasAnyRole,
  isOperator,
  type PartnerRole,
  type Principal,
} from '../../shared/domain/principal';
import { startTestApp, type ApiResponse, type TestApp } from '../support/app';
import {
  buildAttackFixture,
  identities,
  pathFor,
  tenantResourceParams,
  type AttackFixture,
  type Identity,
} from '../support/attack';
import { ManualClock } from '../support/clock';

/**
 * Every route of the function table x every identity (issue 9), the expectation derived from
 * the route's `access`:
 * - anonymous: nobody is refused (never 401 or 403);
 * - no valid token (none, expired, another audience): 401 on every other route;
 * - operator: only the operator tenant holding one of the roles the route names gets through
 *   (an EnrollmentReviewer only on the review queue and its decisions), anyone else 403;
 * - signed-in with roles: a token without one of them 403 (the customer's admin holds
 *   GlobalAdmin of its own tenant, so it gets through the guard: the data rules below hold it);
 * - past the guard, who may succeed (2xx/3xx):
 *   - `me...` routes act on the caller's own tenant: A's users may; a partner of another tenant
 *     may unless the path names one of A's resources ({partnerId}, {invitationId},
 *     {customerId}, ...), then it must get 403/404; a tenant with no partner record (the
 *     operator, a customer) gets 4xx, or at most an empty page of its own (empty) partition;
 *   - other signed-in routes: an explicit rule below, and none is assumed: a route without one
 *     fails this test until someone decides who may use it.
 */
type Success = 'may' | 'never' | '403 or 404' | 'empty page at most';

const partnerIdentities = new Set<Identity>([
  'SalesAgent',
  'AdminAgent',
  'GlobalAdmin',
  'self-assigned GlobalAdmin app role',
  'app-only token',
]);
const noPartnerRecord = new Set<Identity>([
  'Operator',
  'EnrollmentReviewer',
  'customer-tenant admin',
]);

const otherSignedInRoutes: Record<string, (identity: Identity) => Success> = {
  // The provider directory: any enrolled partner; a tenant without a partner record never.
  'GET indirect-providers': (identity) => (noPartnerRecord.has(identity) ? 'never' : 'may'),
  // Only the tenant holding the invited MPN ID, which none of these identities is.
  'POST partner-invitations/accept': () => 'never',
  // Only a customer tenant's global admin; a partner tenant is refused (wrong-tenant).
  'POST customer-invitations/accept': (identity) =>
    identity === 'customer-tenant admin' ? 'may' : 'never',
};

/** Not an access token for this API as Entra issues it (docs/api.md, Identity): 401 everywhere. */
const invalidTokens = new Set<Identity>([
  'no token',
  'expired token',
  'token for another audience',
  'ID token',
  'personal account',
  'token without scope or role',
]);

/**
 * What each valid identity's token says, as the verifier reads it: app roles, whether it is a
 * global admin (the directory role in `wids`; never an app role nor an application), its kind.
 */
type Claimed = Pick<Principal, 'kind' | 'roles' | 'isGlobalAdmin'>;
const user = (roles: string[], isGlobalAdmin = false): Claimed => ({
  kind: 'user',
  roles,
  isGlobalAdmin,
});
const none = user([]);
const claimsOf: Record<Identity, Claimed> = {
  'no token': none,
  'expired token': none,
  'token for another audience': none,
  'ID token': none,
  'personal account': none,
  'token without scope or role': none,
  'partner of another tenant': user(['AdminAgent', 'SalesAgent'], true),
  SalesAgent: user(['SalesAgent']),
  AdminAgent: user(['AdminAgent']),
  GlobalAdmin: user([], true),
  'self-assigned GlobalAdmin app role': user(['GlobalAdmin']),
  'app-only token': { kind: 'app', roles: ['AdminAgent'], isGlobalAdmin: false },
  Operator: user(['Operator']),
  EnrollmentReviewer: user(['EnrollmentReviewer']),
  'customer-tenant admin': user([], true),
};

const operatorIdentities = new Set<Identity>(['Operator', 'EnrollmentReviewer']);

type Expected = { refused: 401 | 403 } | { success: Success };

const paramsOf = (definition: HttpFunctionDefinition): string[] =>
  [...definition.route.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)/g)].map((match) => match[1]!);

function expected(definition: HttpFunctionDefinition, method: string, who: Identity): Expected {
  const { access, route } = definition;
  if (access.kind === 'anonymous') return { success: 'may' };
  if (invalidTokens.has(who)) return { refused: 401 };
  const operatorTenant = 'operator-tenant';
  const principal: Principal = {
    ...claimsOf[who],
    tenantId: operatorIdentities.has(who) ? operatorTenant : 'tenant-a',
    userId: '',
    name: '',
    email: null,
  };
  if (access.kind === 'operator') {
    return isOperator(principal, operatorTenant, access.roles)
      ? { success: 'may' }
      : { refused: 403 };
  }
  if (access.roles && !hasAnyRole(principal, access.roles as PartnerRole[]))
    return { refused: 403 };
  if (route === 'me' || route.startsWith('me/')) {
    if (partnerIdentities.has(who)) return { success: 'may' };
    // Another tenant naming A's resource learns nothing, not even that it exists.
    const namesResourceOfA = paramsOf(definition).some((name) => tenantResourceParams.has(name));
    if (namesResourceOfA) return { success: '403 or 404' };
    return { success: noPartnerRecord.has(who) ? 'empty page at most' : 'may' };
  }
  const rule = otherSignedInRoutes[`${method} ${route}`];
  if (!rule) {
    throw new Error(
      `The authorization matrix has no rule for ${method} /api/${route}: add one to otherSignedInRoutes saying who may succeed.`,
    );
  }
  return { success: rule(who) };
}

/**
 * Rows where some identity "may" succeed but none can with this fixture (tenant A, a direct-bill
 * partner approved at once, with two pending reseller invitations and one customer), each with
 * why. Their refusals are still checked; their "may" half is proven by the route's own tests
 * (named here). The list is exact: a row listed here that succeeds fails the test too.
 */
const fixtureCannotSucceed = new Map<string, string>([
  ['POST me/enrollment', 'A is enrolled already (409); enrollment.test.ts'],
  ['DELETE me/enrollment', 'irreversible: never 2xx by the spec'],
  [
    'POST operator/enrollments/{partnerId}/decision',
    'A was approved at once (409); enrollment.test.ts',
  ],
  [
    'POST operator/emails/{emailId}/retry',
    "none of A's emails failed for good (409); operator-status.test.ts",
  ],
  ['POST me/customers', 'the generated body is refused for A (4xx); customers.test.ts'],
  [
    'POST me/customer-invitations',
    'A is not an active indirect reseller; customer-invitations.test.ts',
  ],
  [
    'POST me/customer-invitations/{invitationId}/send',
    'A has no customer invitation; customer-invitations.test.ts',
  ],
  [
    'POST me/customer-invitations/{invitationId}/done',
    'A has no customer invitation; customer-invitations.test.ts',
  ],
  [
    'DELETE me/customer-invitations/{invitationId}',
    'A has no customer invitation; customer-invitations.test.ts',
  ],
  [
    'POST customer-invitations/lookup',
    'the token is a partner invitation; customer-invitations.test.ts, link-pages.test.ts',
  ],
  [
    'POST customer-invitations/accept',
    'the token is a partner invitation; customer-invitations.test.ts',
  ],
  [
    'POST me/customers/{customerId}/users/{userId}/licenses/{subscriptionId}',
    'the user holds the license already; customers.test.ts',
  ],
  [
    'DELETE me/customers/{customerId}/users/{userId}/licenses/{subscriptionId}',
    'the user was deleted by the row before; customers.test.ts',
  ],
  [
    'POST me/incentives/{program}/enrollment',
    'A is not invited to the incentives yet; incentives.test.ts',
  ],
  [
    'POST incentive-invitations/lookup',
    'the token is a partner invitation; incentives.test.ts, link-pages.test.ts',
  ],
  [
    'POST me/customers/{customerId}/orders',
    "A's customer is the provider's to order for once extended; customers.test.ts",
  ],
  [
    'POST me/customers/{customerId}/relationship-extension',
    'the customer is extended already by the fixture (409); transfers.test.ts',
  ],
  [
    'GET me/customers/{customerId}/transfers/eligibility',
    'the generated providerId is no provider of A (400); transfers.test.ts',
  ],
  [
    'POST me/customers/{customerId}/transfers',
    'the generated body names no provider of A (400); transfers.test.ts',
  ],
  [
    'POST me/transfers/{transferId}/reject',
    "A's transfer was accepted by the row before (409); transfers.test.ts",
  ],
  [
    'POST me/transfers/{transferId}/withdraw',
    "A's transfer was decided by the rows before (409); transfers.test.ts",
  ],
]);

/** The guard's own refusal (shared/http/define.ts), told apart from a rule's 403. */
const guardRefusal = /^Only .* may do this\.$/;

let app: TestApp;
let fixture: AttackFixture;
const succeeded = new Set<string>();
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
  fixture = await buildAttackFixture(app);
});
afterAll(() => app.close());

const rows = httpFunctions().flatMap((definition) =>
  definition.methods.map((method) => ({
    name: `${method} /api/${definition.route}`,
    definition,
    method,
  })),
);

describe('the authorization matrix: every route x every identity', () => {
  it.each(rows)(
    '$name answers each identity as its access says',
    async ({ definition, method }) => {
      const path = `${pathFor(definition, (name) => fixture.paramValue(definition, name))}${fixture.query(definition)}`;
      const body = method === 'GET' || method === 'DELETE' ? undefined : fixture.body(definition);
      const failures: string[] = [];
      for (const who of identities) {
        const want = expected(definition, method, who);
        const response: ApiResponse = await app.api(method, path, {
          token: fixture.tokens[who],
          ...(body === undefined ? {} : { body }),
        });
        const problem = verdict(want, response);
        if (problem) failures.push(`as ${who}: ${problem}`);
        if (response.status < 400) succeeded.add(`${method} ${definition.route}`);
      }
      expect(failures).toEqual([]);
    },
  );

  it('makes someone decide for a new route: a signed-in route outside me/ or an unknown parameter fails loudly', () => {
    const unknown = {
      ...rows[0]!.definition,
      route: 'gift-vouchers/{token}/redeem',
      access: { kind: 'signed-in' as const, roles: ['GlobalAdmin' as const] },
    };
    expect(() => expected(unknown, 'POST', 'GlobalAdmin')).toThrow(/no rule for POST/);
    const withParam = { ...rows[0]!.definition, route: 'me/widgets/{widgetId}' };
    expect(() => fixture.paramValue(withParam, 'widgetId')).toThrow(/does not know/);
  });

  it('is not vacuous: every row some identity may use succeeded for someone, but the listed ones', () => {
    const mayRows = rows.filter(({ definition, method }) =>
      identities.some((who) => {
        const want = expected(definition, method, who);
        return 'success' in want && want.success === 'may';
      }),
    );
    const neverSucceeded = mayRows
      .map(({ definition, method }) => `${method} ${definition.route}`)
      .filter((row) => !succeeded.has(row));
    expect(neverSucceeded.sort()).toEqual([...fixtureCannotSucceed.keys()].sort());
  });
});

function verdict(want: Expected, response: ApiResponse): string | null {
  const { status } = response;
  if (status >= 500) return `answered ${status} ${response.text}`;
  const isProblem = (response.headers.get('content-type') ?? '').includes(
    'application/problem+json',
  );
  if ('refused' in want) {
    if (status !== want.refused) return `expected ${want.refused}, got ${status} ${response.text}`;
    const code = want.refused === 401 ? 'unauthenticated' : 'forbidden';
    if (!isProblem || response.body.code !== code) return `expected problem ${code}`;
    return null;
  }
  if (status === 401) return `refused a valid identity with 401 ${response.text}`;
  if (status === 403 && isProblem && guardRefusal.test(response.body.detail))
    return `the guard refused it: ${response.body.detail}`;
  if (want.success === '403 or 404' && status >= 400 && status !== 403 && status !== 404)
    return `must get 403 or 404, got ${status} ${response.text}`;
  if (status >= 400) return null;
  if (want.success === 'never') return `must not succeed, got ${status} ${response.text}`;
  if (want.success === '403 or 404') return `must get 403 or 404, got ${status} ${response.text}`;
  if (want.success === 'empty page at most') {
    const body = response.body as {
      items?: unknown[];
      continuationToken?: unknown;
      cursor?: unknown;
    };
    // A page with nothing after it: no continuation, or the event feed's cursor at its start.
    const nothingMore = body?.continuationToken === null || body?.cursor === '0';
    if (!(Array.isArray(body?.items) && body.items.length === 0 && nothingMore))
      return `a tenant without a partner record saw ${status} ${response.text}`;
  }
  return null;
}
