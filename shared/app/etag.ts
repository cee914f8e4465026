/** Compares two etags whether or not they carry quotes or a weak marker (HTTP vs Cosmos). */
export function sameEtag(a: string, b: string): boolean {
  const normalise = (value: string): string =>
    value
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
  return normalise(a) === normalise(b);
}
