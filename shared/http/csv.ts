/**
 * CSV answers (RFC 4180): fields quoted when they hold a comma, a quote or a line break, and a
 * text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage
 * return) prefixed with an apostrophe, so opening the file runs nothing.
 */
function field(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}

/** The stuck list of the operators' transition report, one line per partner. */
export function stuckCsv(
  stuck: readonly { partnerId: string; companyName: string; step: string; since: string }[],
): string {
  return toCsv(
    ['partnerId', 'companyName', 'step', 'since'],
    stuck.map((entry) => [entry.partnerId, entry.companyName, entry.step, entry.since]),
  );
}

interface MediaRange {
  type: string;
  quality: number;
  order: number;
}

function mediaRanges(accept: string): MediaRange[] {
  return accept.split(',').map((part, order) => {
    const [type = '', ...parameters] = part.split(';').map((piece) => piece.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { type, quality: Number.isFinite(quality) ? quality : 0, order };
  });
}

/**
 * Whether an Accept header prefers CSV to JSON (RFC 9110 section 12.5.1): the most specific
 * range naming each decides its quality; at equal quality, the one listed first wins. No Accept
 * header, or one that does not name text/csv, is answered JSON.
 */
export function prefersCsv(accept: string | null): boolean {
  if (!accept) return false;
  const ranges = mediaRanges(accept);
  const quality = (type: string, subtype: string): { quality: number; order: number } => {
    const match =
      ranges.find((range) => range.type === `${type}/${subtype}`) ??
      ranges.find((range) => range.type === `${type}/*`) ??
      ranges.find((range) => range.type === '*/*');
    return match ?? { quality: 0, order: Infinity };
  };
  const csv = ranges.find((range) => range.type === 'text/csv');
  if (!csv || csv.quality <= 0) return false;
  const json = quality('application', 'json');
  return csv.quality > json.quality || (csv.quality === json.quality && csv.order < json.order);
}
