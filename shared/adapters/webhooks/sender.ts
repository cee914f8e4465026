import type { IncomingMessage } from 'node:http';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import { Webhook } from 'standardwebhooks';
import {
  guardWebhookUrl,
  type GuardedWebhookUrl,
  type LookupAll,
  type ResolvedAddress,
} from './address-guard';

/**
 * One webhook delivery attempt (docs/api.md, Events): checked by the address guard, signed as
 * Standard Webhooks says, POSTed to the checked address only, no redirect followed.
 */

export interface WebhookMessage {
  url: string;
  /** The endpoint's valid secrets (`whsec_...`): the current one, and the old one for 24 h. */
  secrets: string[];
  /** The event id: `webhook-id`, stable across retries. */
  eventId: string;
  /** When this attempt is signed: `webhook-timestamp`. */
  timestamp: Date;
  /** The event as JSON, sent and signed byte for byte. */
  body: string;
}

export interface DeliveryOptions {
  /** True under the local host only (domain/webhook-url.ts). */
  allowLocal: boolean;
  lookup?: LookupAll;
  /** The whole attempt, the name's resolution included. */
  timeoutMs?: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'gone' | 'refused';

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  status?: number;
  durationMs: number;
  /** The start of the answer's body, at most excerptLength characters. */
  excerpt?: string;
  error?: string;
}

export const excerptLength = 200;
const defaultTimeoutMs = 10_000;
const userAgent = 'partner-transition-webhooks/1';

/** The `webhook-signature` header: one `v1,<signature>` per secret, space-separated. */
export function signatureHeader(
  secrets: readonly string[],
  eventId: string,
  timestamp: Date,
  body: string,
): string {
  return secrets.map((secret) => new Webhook(secret).sign(eventId, timestamp, body)).join(' ');
}

/** A resolver that answers the checked address whatever is asked: no second DNS answer counts. */
function pinnedTo({ address }: ResolvedAddress): LookupFunction {
  const family = isIP(address);
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

class TimedOut extends Error {}

class Deadline {
  readonly promise: Promise<'timed-out'>;
  /** Aborted when the deadline passes: the name's resolution is cancelled with it. */
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  constructor(milliseconds: number) {
    this.promise = new Promise((resolve) => {
      this.timer = setTimeout(() => {
        this.controller.abort();
        resolve('timed-out');
      }, milliseconds);
    });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

interface Answer {
  status: number;
  excerpt: string;
}

/**
 * Reads no more of the body than the excerpt needs. An answer read to its end leaves its
 * connection open for the endpoint's next delivery; one still sending when the excerpt is full,
 * or past the deadline, is dropped with its connection.
 */
function excerptOf(response: IncomingMessage, deadline: Deadline): Promise<string> {
  return new Promise((resolve) => {
    const decoder = new StringDecoder('utf8');
    let text = '';
    let done = false;
    const finish = (ended: boolean): void => {
      if (done) return;
      done = true;
      response.removeAllListeners('data');
      if (!ended) response.destroy();
      // Control characters would garble a log line or a page that shows the excerpt.
      // eslint-disable-next-line no-control-regex
      resolve(text.slice(0, excerptLength).replace(/[\u0000-\u001f\u007f]/g, ' '));
    };
    response.on('data', (chunk: Buffer) => {
      text += decoder.write(chunk);
      if (text.length >= excerptLength) finish(false);
    });
    response.on('end', () => finish(true));
    response.on('error', () => finish(false));
    response.on('aborted', () => finish(false));
    void deadline.promise.then(() => finish(false));
  });
}

/** Endpoints' connection pools kept, the least recently used closed past this many. */
const maxPools = 256;
const pools = new Map<string, HttpAgent>();

/**
 * The connections to one endpoint origin at one checked address, kept open between deliveries
 * (on Azure each new one is a TLS handshake). A pool only ever connects to the address its key
 * names, through a resolver pinned to it, so a socket reused for a delivery was opened to the
 * address that delivery's own check just accepted, never to an earlier answer of the resolver.
 */
function poolFor(guarded: Extract<GuardedWebhookUrl, { ok: true }>): HttpAgent {
  const { url, hostname, address } = guarded;
  const key = `${url.protocol}//${hostname}:${url.port}@${address.address}`;
  let pool = pools.get(key);
  if (pool) {
    pools.delete(key);
    pools.set(key, pool);
    return pool;
  }
  const options = {
    keepAlive: true,
    maxSockets: 16,
    maxFreeSockets: 4,
    // An idle connection is closed after this long (endpoints' servers close theirs too).
    timeout: 15_000,
    lookup: pinnedTo(address),
  };
  pool = url.protocol === 'https:' ? new HttpsAgent(options) : new HttpAgent(options);
  pools.set(key, pool);
  if (pools.size > maxPools) {
    const [oldestKey, oldest] = pools.entries().next().value!;
    pools.delete(oldestKey);
    oldest.destroy();
  }
  return pool;
}

function post(
  guarded: Extract<GuardedWebhookUrl, { ok: true }>,
  headers: Record<string, string>,
  body: string,
  deadline: Deadline,
  again = true,
): Promise<Answer> {
  const { url, hostname, address } = guarded;
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        protocol: url.protocol,
        hostname,
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...headers, host: url.host },
        agent: poolFor(guarded),
        lookup: pinnedTo(address),
        ...(url.protocol === 'https:' && isIP(hostname) === 0 ? { servername: hostname } : {}),
      },
      (response) => {
        void excerptOf(response, deadline).then((excerpt) =>
          resolve({ status: response.statusCode ?? 0, excerpt }),
        );
      },
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      // A kept connection the endpoint closed just as it was reused: tried once on a new one
      // (the endpoint dedupes by webhook-id should it have read the first).
      if (again && outgoing.reusedSocket && error.code === 'ECONNRESET') {
        resolve(post(guarded, headers, body, deadline, false));
      } else reject(error);
    });
    void deadline.promise.then(() => outgoing.destroy(new TimedOut()));
    outgoing.end(body);
  });
}

const outcomeOf = (status: number): DeliveryOutcome =>
  status >= 200 && status < 300 ? 'delivered' : status === 410 ? 'gone' : 'failed';

/** One attempt to deliver `message`; never throws. */
export async function deliverWebhook(
  message: WebhookMessage,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const deadline = new Deadline(timeoutMs);
  const elapsed = (): number => Math.round(performance.now() - started);
  const timedOut = `No answer within ${timeoutMs} ms.`;
  try {
    const guarded = await Promise.race([
      guardWebhookUrl(message.url, {
        allowLocal: options.allowLocal,
        signal: deadline.signal,
        ...(options.lookup ? { lookup: options.lookup } : {}),
      }),
      deadline.promise,
    ]);
    if (guarded === 'timed-out')
      return { outcome: 'failed', durationMs: elapsed(), error: timedOut };
    if (!guarded.ok)
      return {
        outcome: guarded.refusal === 'refused' ? 'refused' : 'failed',
        durationMs: elapsed(),
        error: guarded.reason,
      };
    if (message.secrets.length === 0)
      return { outcome: 'failed', durationMs: elapsed(), error: 'No signing secret.' };
    let signature: string;
    try {
      signature = signatureHeader(
        message.secrets,
        message.eventId,
        message.timestamp,
        message.body,
      );
    } catch {
      // The library's message could quote the secret: say only which thing is wrong.
      return { outcome: 'failed', durationMs: elapsed(), error: 'A signing secret is not valid.' };
    }
    const headers = {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(message.body, 'utf8')),
      'user-agent': userAgent,
      'webhook-id': message.eventId,
      'webhook-timestamp': String(Math.floor(message.timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const answer = await post(guarded, headers, message.body, deadline);
    const outcome = outcomeOf(answer.status);
    return {
      outcome,
      status: answer.status,
      durationMs: elapsed(),
      ...(answer.excerpt === '' ? {} : { excerpt: answer.excerpt }),
      ...(answer.status >= 300 && answer.status < 400
        ? { error: `Redirects are not followed (${answer.status}).` }
        : outcome === 'failed'
          ? { error: `The endpoint answered ${answer.status}.` }
          : {}),
    };
  } catch (error) {
    return {
      outcome: 'failed',
      durationMs: elapsed(),
      error: error instanceof TimedOut ? timedOut : networkError(error),
    };
  } finally {
    deadline.clear();
  }
}

/** A network error in plain words: its code and message (they name no secret, nor the URL). */
function networkError(error: unknown): string {
  if (!(error instanceof Error)) return 'The request failed.';
  const code = (error as NodeJS.ErrnoException).code;
  return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
