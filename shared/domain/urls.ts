/**
 * What a mail client or a chat would turn into a link (docs/rules.md section 13): URLs with a
 * scheme (`https://`, `ftp://`), `www.` names, and bare domain names with or without a path
 * (`rnicrosoft-billing.example/verify`, `contoso.com`). An email address is not one: its domain
 * follows an `@`. Pure text rules, no I/O.
 */
const linkLike = new RegExp(
  [
    // A scheme and `//`: https://..., ftp://..., hxxp://...
    String.raw`\b[\p{L}][\p{L}\p{N}+.-]*:\/\/[^\s<>"']*`,
    // www. names, whatever follows.
    String.raw`\bwww\.[^\s<>"']+`,
    // Bare domain names: labels and a top-level label of letters, then an optional path. Not
    // inside a longer word, nor after an @ (an email address), nor before one.
    String.raw`(?<![\p{L}\p{N}@._-])(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}[\p{L}\p{N}-]{1,62}(?![\p{L}\p{N}@_-])(?:[/?#:][^\s<>"']*)?`,
  ].join('|'),
  'giu',
);

/** Trailing punctuation is the sentence's, not the link's. */
const trailing = /[.,;:!?)\]}'"»]+$/u;

export interface FoundLink {
  start: number;
  end: number;
  text: string;
}

/** Every link-like piece of `text`, in order. */
export function linksIn(text: string): FoundLink[] {
  const found: FoundLink[] = [];
  for (const match of text.matchAll(linkLike)) {
    // Never empty: every link-like piece begins with a letter or digit, which `trailing` keeps.
    const raw = match[0].replace(trailing, '');
    found.push({ start: match.index, end: match.index + raw.length, text: raw });
  }
  return found;
}

/**
 * The link-like pieces of `text` outside the `allowed` spans (the invitation's own link) and
 * outside the `names` given (the partners' recorded company names, `Amazon.com, Inc.`).
 */
export function foreignLinks(
  text: string,
  allowed: readonly { start: number; end: number }[],
  names: readonly string[],
): string[] {
  const masked = [...allowed];
  for (const name of names.filter((value) => value.length > 0)) {
    for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + name.length))
      masked.push({ start: at, end: at + name.length });
  }
  return linksIn(text)
    .filter((link) => !masked.some((span) => link.start < span.end && span.start < link.end))
    .map((link) => link.text);
}
