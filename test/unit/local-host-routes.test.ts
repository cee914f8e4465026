import { describe, expect, it } from 'vitest';
import { compileRoute } from '../../shared/local/host';

describe('Functions route templates', () => {
  it('captures each parameter', () => {
    const { pattern, names } = compileRoute('me/customers/{customerId}/users/{userId}');
    expect(names).toEqual(['customerId', 'userId']);
    expect(pattern.exec('/me/customers/abc/users/def')?.slice(1)).toEqual(['abc', 'def']);
  });

  it('matches literally, not as a regular expression', () => {
    const { pattern } = compileRoute('openapi.json');
    expect(pattern.test('/openapi.json')).toBe(true);
    expect(pattern.test('/openapiXjson')).toBe(false);
  });

  it('does not let a parameter span segments', () => {
    const { pattern } = compileRoute('links/partner-invitations/{token}');
    expect(pattern.test('/links/partner-invitations/a/b')).toBe(false);
  });

  // The Functions host also enforces a constraint such as :guid; this host only strips it (no
  // route of the table uses one), so `/items/x` matches here and would not there.
  it('supports optional parameters, and accepts a constraint without enforcing it', () => {
    const { pattern, names } = compileRoute('items/{id:guid}/{page?}');
    expect(names).toEqual(['id', 'page']);
    expect(pattern.exec('/items/x')?.slice(1)).toEqual(['x', undefined]);
  });
});
