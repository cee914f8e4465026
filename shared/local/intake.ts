import type { IncomingMessage } from 'node:http';

/**
 * A request as the Functions host hands it to the Node.js worker: the RPC message built by
 * azure-functions-host src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs
 * (ToRpcHttp, lines 128-221), from what Kestrel parsed. @azure/functions 4.16.5 then builds the
 * handler's HttpRequest from it (src/http/HttpRequest.ts:31-74). Cited as ToRpcHttp below.
 */

/**
 * Every header, names lower-cased, each one's values joined with ',': Kestrel keeps every value
 * of a repeated header and ToRpcHttp sends `StringValues.ToString()` (lines 155-170). Node would
 * drop a second Authorization or Content-Type and join the others with ', '.
 */
export function requestHeaders(message: IncomingMessage): Record<string, string> {
  // From the raw name/value pairs, in one pass (headersDistinct builds an array per header).
  const headers = Object.create(null) as Record<string, string>;
  const raw = message.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    const seen = headers[name];
    headers[name] = seen === undefined ? raw[index + 1]! : `${seen},${raw[index + 1]!}`;
  }
  return headers;
}

/**
 * The query as ASP.NET Core parses it (QueryHelpers.ParseNullableQuery over
 * src/Shared/QueryStringEnumerable.cs): pairs split on '&', a name without '=' has an empty value,
 * '+' is a space, names are merged case-insensitively (KeyValueAccumulator, the first spelling
 * kept) and ToRpcHttp joins a repeated name's values with ',' (lines 139-153). So
 * `?pageSize=10&PageSize=20` reaches the app as `pageSize: "10,20"` on Azure.
 */
export function queryOf(search: string): Record<string, string> {
  // No query (nearly every request): nothing to parse.
  if (search === '' || search === '?') return {};
  const values = new Map<string, { name: string; values: string[] }>();
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const name = unescapeQuery(equals === -1 ? pair : pair.slice(0, equals).trimStart());
    const value = equals === -1 ? '' : unescapeQuery(pair.slice(equals + 1));
    const key = name.toUpperCase();
    const found = values.get(key);
    if (found) found.values.push(value);
    else values.set(key, { name, values: [value] });
  }
  return Object.fromEntries(
    [...values.values()].map((entry) => [entry.name, entry.values.join(',')]),
  );
}

/** Uri.UnescapeDataString after '+' becomes a space: a malformed escape stays as it is. */
function unescapeQuery(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * The path routes are matched against: Kestrel decodes the percent-escapes of the path except
 * `%2F`, so that an escaped slash never splits a segment, and refuses a path holding a NUL with
 * 400 (ASP.NET Core src/Shared/UrlDecoder/UrlDecoder.cs; Kestrel's request-target parsing).
 * `null` when the request is to be refused. Dot segments are already resolved by URL parsing.
 */
export function decodedPath(pathname: string): string | null {
  // Nothing escaped (nearly every request): nothing to decode.
  if (!pathname.includes('%')) return pathname;
  if (/%00/.test(pathname)) return null;
  return pathname
    .split(/(%2F)/i)
    .map((piece, index) => (index % 2 === 1 ? piece : unescapePath(piece)))
    .join('');
}

function unescapePath(piece: string): string {
  try {
    return decodeURIComponent(piece);
  } catch {
    return piece.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/**
 * The client's address as the Azure front end appends it to X-Forwarded-For: `ip:port`
 * (`[v6]:port` for IPv6), so that every local request exercises the app's parsing of that form
 * (shared/app/request-limits.ts clientAddress). The front end's format is not in any of the
 * host's sources; App Service's is documented as `ip:port`. Written into `headers`, the request's
 * own (requestHeaders makes them for each request), which are answered: copying them cost the
 * host 2 µs a request.
 */
export function withClientAddress(
  headers: Record<string, string>,
  address: string | undefined,
  port: number | undefined,
): Record<string, string> {
  if (!address) return headers;
  const entry =
    port === undefined
      ? address
      : address.includes(':')
        ? `[${address}]:${port}`
        : `${address}:${port}`;
  const forwarded = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = forwarded ? `${forwarded}, ${entry}` : entry;
  return headers;
}

export type BodyIntake =
  /** No Content-Length, or 0: ToRpcHttp sends no body (line 209), whatever arrives chunked. */
  | { kind: 'none' }
  /** Content-Length over the host's FUNCTIONS_REQUEST_BODY_SIZE_LIMIT. */
  | { kind: 'over-host-limit' }
  | { kind: 'bytes'; bytes: Buffer };

/**
 * The body as the host reads it: only when Content-Length is over 0
 * (`request.ContentLength > 0`, ToRpcHttp:209), so a chunked body never reaches the app. A
 * declared length over FUNCTIONS_REQUEST_BODY_SIZE_LIMIT makes Kestrel throw at the first read
 * (the limit is set per request by src/WebJobs.Script.WebHost/Middleware/
 * HttpRequestBodySizeMiddleware.cs:38-66) and the host answers 500 (ExceptionMiddleware.cs:45-50).
 */
export async function readBody(message: IncomingMessage, hostLimit: number): Promise<BodyIntake> {
  const declared = Number(message.headers['content-length'] ?? '0');
  if (!(declared > 0)) return { kind: 'none' };
  if (declared > hostLimit) return { kind: 'over-host-limit' };
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return { kind: 'bytes', bytes: Buffer.concat(chunks) };
}
