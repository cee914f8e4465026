/** Headers on every answer: no sniffing, no caching of tenant data, no framing. */
export const securityHeaders: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** HTML pages allow nothing but their own inline style: no script can run in them. */
export const htmlSecurityHeaders: Readonly<Record<string, string>> = {
  ...securityHeaders,
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export type HttpResult =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; html: string; headers?: Record<string, string> }
  /** Any other text (a script, a style sheet): its headers name its Content-Type. */
  | { status: number; text: string; headers: Record<string, string> }
  | { status: number; headers?: Record<string, string> };

export const ok = (json: unknown, headers?: Record<string, string>): HttpResult => ({
  status: 200,
  json,
  ...(headers ? { headers } : {}),
});

export const created = (json: unknown, headers?: Record<string, string>): HttpResult => ({
  status: 201,
  json,
  ...(headers ? { headers } : {}),
});

export const accepted = (json: unknown): HttpResult => ({ status: 202, json });

export const noContent = (): HttpResult => ({ status: 204 });

export const redirect = (location: string): HttpResult => ({
  status: 302,
  headers: { Location: location },
});

export const htmlPage = (
  status: number,
  html: string,
  headers?: Record<string, string>,
): HttpResult => ({ status, html, ...(headers ? { headers } : {}) });

/** Cosmos etags may or may not carry quotes; an HTTP ETag header always does. */
export function etagHeader(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}
