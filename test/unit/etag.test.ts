import { describe, expect, it } from 'vitest';
import { sameEtag } from '../../shared/app/etag';

/** The comparison behind If-Match: HTTP's quoted and weak forms against Cosmos's etag. */
describe('sameEtag', () => {
  const cosmos = '"0a00b1c2-0000-0d00-0000-65f0a1b20000"';
  const bare = '0a00b1c2-0000-0d00-0000-65f0a1b20000';

  it('ignores the spaces around a tag', () => {
    expect(sameEtag(`  ${cosmos} `, cosmos)).toBe(true);
    expect(sameEtag(` W/${cosmos}`, cosmos)).toBe(true);
  });

  it('drops quotes only when they wrap the whole tag', () => {
    expect(sameEtag(bare, cosmos)).toBe(true);
    // A quote inside the tag is part of it: `0"a00…"` and `"0a00…"5` are other tags.
    expect(sameEtag(`${bare[0]}"${bare.slice(1)}"`, cosmos)).toBe(false);
    expect(sameEtag(`"${bare.slice(0, -1)}"${bare.slice(-1)}`, cosmos)).toBe(false);
  });
});
