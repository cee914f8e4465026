import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type SendBehaviour =
  { status: 202 } | { status: 429; retryAfterSeconds: number } | { status: 500 };

export interface FakeAcs {
  endpoint: string;
  connectionString: string;
  /** Answers for the next sends, in order; afterwards every send is accepted. */
  script: SendBehaviour[];
  /** Each accepted operation id once, with its message: what ACS would deliver. */
  delivered: Map<string, { to: string; subject: string; plainText: string; html: string }>;
  requests: { method: string; path: string; operationId: string | null; status: number }[];
  badSignatures: number;
  close(): Promise<void>;
}

/**
 * A local server speaking the ACS email REST contract: HMAC-SHA256 signed POST /emails:send
 * (202 with Operation-Location), then GET /emails/operations/{id}. Like ACS, a repeated
 * Operation-Id is the same operation and is not delivered again.
 */
export async function startFakeAcs(): Promise<FakeAcs> {
  const accessKey = Buffer.from('fake-acs-access-key-for-tests').toString('base64');
  const state: Omit<FakeAcs, 'endpoint' | 'connectionString' | 'close'> = {
    script: [],
    delivered: new Map(),
    requests: [],
    badSignatures: 0,
  };

  const signatureValid = (request: http.IncomingMessage, body: string): boolean => {
    const date = request.headers['x-ms-date'];
    const contentHash = request.headers['x-ms-content-sha256'];
    const authorization = request.headers.authorization ?? '';
    const expectedHash = createHash('sha256').update(body).digest('base64');
    if (typeof date !== 'string' || contentHash !== expectedHash) return false;
    const match =
      /^HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=(.+)$/.exec(
        authorization,
      );
    if (!match) return false;
    const url = new URL(request.url ?? '/', 'http://placeholder');
    const pathAndQuery = url.search
      ? `${url.pathname}?${url.searchParams.toString()}`
      : url.pathname;
    const stringToSign = `${request.method}\n${pathAndQuery}\n${date};${request.headers.host};${contentHash}`;
    const expected = createHmac('sha256', Buffer.from(accessKey, 'base64'))
      .update(stringToSign)
      .digest();
    const given = Buffer.from(match[1]!, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
      const operationId = (request.headers['operation-id'] as string | undefined) ?? null;
      const answer = (
        status: number,
        json: unknown,
        headers: Record<string, string> = {},
      ): void => {
        state.requests.push({
          method: request.method ?? '',
          path: url.pathname,
          operationId,
          status,
        });
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(json));
      };
      if (!signatureValid(request, body)) {
        state.badSignatures += 1;
        return answer(401, { error: { code: 'Denied', message: 'Denied by the HMAC check' } });
      }
      if (request.method === 'POST' && url.pathname === '/emails:send') {
        if (!url.searchParams.get('api-version'))
          return answer(400, { error: { code: 'MissingApiVersion', message: 'api-version' } });
        const next = state.script.shift() ?? { status: 202 };
        if (next.status === 429) {
          return answer(
            429,
            { error: { code: 'TooManyRequests', message: 'Throttled' } },
            { 'retry-after': String(next.retryAfterSeconds) },
          );
        }
        if (next.status === 500)
          return answer(500, { error: { code: 'InternalError', message: 'Oops' } });
        const id = operationId ?? crypto.randomUUID();
        const message = JSON.parse(body) as {
          recipients: { to: { address: string }[] };
          content: { subject: string; plainText: string; html: string };
        };
        if (!state.delivered.has(id)) {
          state.delivered.set(id, {
            to: message.recipients.to[0]!.address,
            subject: message.content.subject,
            plainText: message.content.plainText,
            html: message.content.html,
          });
        }
        const location = `http://${request.headers.host}/emails/operations/${id}?api-version=${url.searchParams.get('api-version')}`;
        return answer(
          202,
          { id, status: 'Running' },
          { 'operation-location': location, 'retry-after': '0' },
        );
      }
      const operation = /^\/emails\/operations\/([^/]+)$/.exec(url.pathname);
      if (request.method === 'GET' && operation) {
        const id = decodeURIComponent(operation[1]!);
        if (!state.delivered.has(id))
          return answer(404, { error: { code: 'NotFound', message: 'no such operation' } });
        return answer(200, { id, status: 'Succeeded' });
      }
      return answer(404, { error: { code: 'NotFound', message: 'no such route' } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, {
    endpoint,
    connectionString: `endpoint=${endpoint}/;accesskey=${accessKey}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
