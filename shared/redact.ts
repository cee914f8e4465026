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
  [
    /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g,
    '[redacted link token]',
  ],
  // Webhook signing secrets (adapters/webhooks/secrets.ts).
  [/\bwhsec_[A-Za-z0-9+/=]+/g, 'whsec_[redacted]'],
  // Private members of a JSON Web Key.
  [/("(?:d|p|q|dp|dq|qi|k)"\s*:\s*")[^"]+"/g, '$1[redacted]"'],
];

export function redactSecrets(text: string): string {
  return patterns.reduce(
    (redacted, [pattern, replacement]) => redacted.replace(pattern, replacement),
    text,
  );
}

/**
 * Structural redaction, for the log's properties: the fields known to carry a secret (a link
 * token, a link, a key, an Authorization header) are replaced whatever their value looks like,
 * so nothing depends on a pattern recognising it. Free text still goes through redactSecrets.
 */
const secretFields = new Set([
  'token',
  'link',
  'links',
  'secret',
  'secrets',
  'authorization',
  'password',
  'accountkey',
  'connectionstring',
  'idempotencykey',
  'text',
  'html',
]);

export function redactFields(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key,
      secretFields.has(key.toLowerCase().replace(/[-_]/g, ''))
        ? '[redacted]'
        : redactFields(item, depth + 1),
    ]),
  );
}
