import { describe, expect, it } from 'vitest';
import { foreignLinks, linksIn } from '../../shared/domain/urls';

// docs/rules.md section 13: a customer invitation's words carry the invitation link and no
// other; the partners' recorded company names are theirs, not links.
describe('link-like text', () => {
  it("leaves a sentence's trailing punctuation out of the link", () => {
    const text = 'Read contoso.com. Then www.fabrikam.example/a?b=1), or https://x.example/!';
    const piece = (link: string) => ({
      start: text.indexOf(link),
      end: text.indexOf(link) + link.length,
      text: link,
    });
    expect(linksIn(text)).toEqual([
      piece('contoso.com'),
      piece('www.fabrikam.example/a?b=1'),
      piece('https://x.example/'),
    ]);
  });
});

describe('links other than the invitation link', () => {
  it('finds every link when no span is allowed and no name is given', () => {
    expect(foreignLinks('Go to rnicrosoft-billing.example/verify now', [], [])).toEqual([
      'rnicrosoft-billing.example/verify',
    ]);
  });

  it("masks a partner's company name wherever it stands, first word included", () => {
    const text = 'Amazon.com, Inc. and Amazon.com, Inc. welcome you';
    expect(foreignLinks(text, [], ['Amazon.com, Inc.'])).toEqual([]);
    expect(foreignLinks(text, [], [])).toEqual(['Amazon.com', 'Amazon.com']);
  });

  it('masks a name only where it stands, not a link beside it', () => {
    expect(foreignLinks('Amazon.com, Inc. (see amazon.example)', [], ['Amazon.com, Inc.'])).toEqual(
      ['amazon.example'],
    );
  });

  it('masks nothing for an empty company name', () => {
    expect(foreignLinks('Visit contoso.com today', [], [''])).toEqual(['contoso.com']);
  });

  it('masks a link that shares one character with an allowed span, not one that only touches it', () => {
    const text = 'Hi contoso.com there';
    // The link holds characters 3 to 13 (end 14).
    expect(foreignLinks(text, [{ start: 0, end: 3 }], [])).toEqual(['contoso.com']);
    expect(foreignLinks(text, [{ start: 0, end: 4 }], [])).toEqual([]);
    expect(foreignLinks(text, [{ start: 13, end: 20 }], [])).toEqual([]);
    expect(foreignLinks(text, [{ start: 14, end: 20 }], [])).toEqual(['contoso.com']);
  });
});
