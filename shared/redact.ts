/**
 * Log lines carry error text the app does not control (SDK errors, a sender's failure), which
 * can quote a connection string, an Authorization header or a link. Every line that carries
 * such text goes through here, so no key, token or link secret reaches the logs.
 */
const patterns: [RegExp, string][] = [
  // Connection strings and SAS: AccountKey=, accesskey=, SharedAccessKey=, sig=.
  [/\b(AccountKey|accesskey|SharedAccessKey|SharedAccessSignature)=[^;\s"'&]+/gi, '$1=[redacted]'],
  [/([?&]sig=)[^&\s"']+/gi, '$1[redacted]'],
  [/\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  // A JWT wherever it appears.
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted jwt]'],
  // Invitation link tokens: <partition, 22>.<secret, 43> (shared/app/link-tokens.ts).
  [/\b[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b/g, '[redacted link token]'],
  // Private members of a JSON Web Key.
  [/("(?:d|p|q|dp|dq|qi|k)"\s*:\s*")[^"]+"/g, '$1[redacted]"'],
];

export function redactSecrets(text: string): string {
  return patterns.reduce(
    (redacted, [pattern, replacement]) => redacted.replace(pattern, replacement),
    text,
  );
}
