import { describe, expect, it } from 'vitest';
import { functionTable, httpFunctions } from '../../functions/table';
import { byFunctionName, compileRoute, routeValues } from '../../shared/http/routes';
import { unmatchedRouteName } from '../../shared/http/unmatched';

describe('Functions route templates', () => {
  it('captures each parameter', () => {
    const template = compileRoute('api/me/customers/{customerId}/users/{userId}');
    expect(template.names).toEqual(['customerId', 'userId']);
    expect(routeValues(template, '/api/me/customers/abc/users/def')).toEqual({
      customerId: 'abc',
      userId: 'def',
    });
  });

  it('matches literally, not as a regular expression', () => {
    const { pattern } = compileRoute('api/openapi.json');
    expect(pattern.test('/api/openapi.json')).toBe(true);
    expect(pattern.test('/api/openapiXjson')).toBe(false);
  });

  it('does not let a parameter span segments', () => {
    const { pattern } = compileRoute('api/links/partner-invitations/{token}');
    expect(pattern.test('/api/links/partner-invitations/a/b')).toBe(false);
  });

  it('matches literals case-insensitively, the prefix included, and ignores one trailing slash, as ASP.NET Core routing does', () => {
    const { pattern } = compileRoute('api/me/customers');
    expect(pattern.test('/API/Me/Customers')).toBe(true);
    expect(pattern.test('/api/me/customers/')).toBe(true);
    expect(pattern.test('/api/me/customers//')).toBe(false);
  });

  it('takes the rest of the path in a catch-all parameter, and sends no value when there is none', () => {
    const template = compileRoute('api/{*path}');
    expect(routeValues(template, '/api/a/b/c')).toEqual({ path: 'a/b/c' });
    expect(routeValues(template, '/api')).toEqual({});
    expect(routeValues(template, '/apix')).toBeNull();
  });

  // The Functions host also enforces a constraint such as :guid; this host only strips it (no
  // route of the table uses one), so `/items/x` matches here and would not there.
  it('supports optional parameters, and accepts a constraint without enforcing it', () => {
    const template = compileRoute('items/{id:guid}/{page?}');
    expect(template.names).toEqual(['id', 'page']);
    expect(routeValues(template, '/items/x')).toEqual({ id: 'x' });
  });
});

describe('route order, as the Functions host tries routes', () => {
  it('sorts functions by name, ordinal and case-insensitive (FunctionMetadataManager)', () => {
    const names = ['beta', 'Alpha', 'alpha2', 'Zulu', 'zz'].map((name) => ({ name }));
    expect(names.sort(byFunctionName).map(({ name }) => name)).toEqual([
      'Alpha',
      'alpha2',
      'beta',
      'Zulu',
      'zz',
    ]);
  });

  it('tries the catch-all that answers unmatched requests last: its name sorts after every other', () => {
    const sorted = [...functionTable].sort(byFunctionName).map((definition) => definition.name);
    expect(sorted.at(-1)).toBe(unmatchedRouteName);
    expect(functionTable.filter((definition) => definition.kind === 'unmatched')).toHaveLength(1);
  });

  it('has no two API templates that can match the same path with a method in common, so name order never decides', () => {
    const segments = (route: string) => route.split('/');
    const isParameter = (segment: string) => /^\{.+\}$/.test(segment);
    const overlap = (a: string, b: string): boolean => {
      const [left, right] = [segments(a), segments(b)];
      if (left.length !== right.length) return false;
      return left.every(
        (segment, index) =>
          isParameter(segment) ||
          isParameter(right[index]!) ||
          segment.toLowerCase() === right[index]!.toLowerCase(),
      );
    };
    const routes = httpFunctions();
    const clashes: string[] = [];
    routes.forEach((first, index) => {
      for (const second of routes.slice(index + 1)) {
        const shared = first.methods.filter((method) => second.methods.includes(method));
        if (shared.length > 0 && overlap(first.route, second.route))
          clashes.push(`${first.name} ${first.route} / ${second.name} ${second.route}`);
      }
    });
    expect(clashes).toEqual([]);
  });
});
