import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
} from 'node:crypto';
import type { IdempotencyRecord } from '../app/ports';
import type { Services } from '../app/services';
import { DomainError, validationFailed } from '../domain/errors';

/** How long an answer is replayed; the idempotency container's TTL says the same. */
export const idempotencyWindowSeconds = 24 * 3600;

/**
 * The headers naming a retry: the IETF Idempotency-Key, else the MS-RequestId that Partner
 * Center clients send (a new GUID per request, the same on its retries).
 */
export const idempotencyKeyHeaders = ['Idempotency-Key', 'MS-RequestId'] as const;

export const replayedHeader = 'Idempotent-Replayed';

/** The key of a request, or null without one; a malformed key is 400 naming its header. */
export function idempotencyKeyOf(request: HttpRequest): string | null {
  for (const header of idempotencyKeyHeaders) {
    const value = request.headers.get(header);
    if (value === null) continue;
    const key = value.trim();
    if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
      throw validationFailed([
        { path: `headers.${header}`, message: 'must be 1 to 200 visible ASCII characters' },
      ]);
    }
    return key;
  }
  return null;
}

/** JSON with sorted keys: the same input hashes the same whatever its key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([name, item]) => `${JSON.stringify(name)}:${canonical(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

interface StoredAnswer {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/**
 * Answers may hold secrets (an invitation's link), so they are stored sealed with AES-256-GCM
 * under a key derived from the Idempotency-Key, which only the caller holds, AND the server's
 * idempotency secret (Key Vault in Azure), which a reader of the database does not: a guessable
 * key (`1`, `retry-1`) opens nothing, and the scope is an HMAC under that secret, so candidate
 * keys cannot be tested against it offline either.
 */
function seal(answer: StoredAnswer, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify(answer), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

function open(sealed: string, key: Buffer): StoredAnswer {
  const bytes = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(12, 28));
  const text = Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]);
  return JSON.parse(text.toString('utf8')) as StoredAnswer;
}

/** The record's id and the key its answer is sealed under: the server secret and the client's key. */
export function idempotencyKeys(
  serverSecret: Buffer,
  clientKey: string,
  tenant: string,
  method: string,
  route: string,
): { scope: string; sealingKey: Buffer } {
  const scope = createHmac('sha256', serverSecret)
    .update(JSON.stringify(['idempotency-scope', tenant, method, route, clientKey]))
    .digest('hex');
  const sealingKey = Buffer.from(
    hkdfSync(
      'sha256',
      Buffer.concat([serverSecret, Buffer.from(clientKey, 'utf8')]),
      'partner-transition/idempotency',
      JSON.stringify([tenant, method, route, clientKey.length]),
      32,
    ),
  );
  return { scope, sealingKey };
}

/** Opens a stored answer with a sealing key (tests: what a database reader could try). */
export function openStoredAnswer(sealed: string, key: Buffer): unknown {
  return open(sealed, key);
}

export interface IdempotentCall {
  services: Services;
  context: InvocationContext;
  request: HttpRequest;
  /** The caller's tenant, null for an anonymous caller: keys are scoped per tenant. */
  tenantId: string | null;
  route: string;
  /** The validated params, query and body: two requests are the same when these are. */
  input: unknown;
}

const keyReused = (): DomainError =>
  new DomainError(
    'idempotency-key-reused',
    'This idempotency key (Idempotency-Key or MS-RequestId) was used in the last 24 hours for a different request; send a new key with a new request.',
  );

const inProgress = (): DomainError =>
  new DomainError(
    'conflict',
    'A request with this idempotency key is in progress, or was interrupted: retry later, or check whether it took effect before sending it with a new key.',
  );

function replayOf(record: IdempotencyRecord, requestHash: string, key: Buffer): HttpResponseInit {
  if (record.requestHash !== requestHash) throw keyReused();
  if (record.state !== 'completed' || record.response === null) throw inProgress();
  const answer = open(record.response, key);
  return {
    status: answer.status,
    headers: { ...answer.headers, [replayedHeader]: 'true' },
    ...(answer.body === null ? {} : { body: answer.body }),
  };
}

/**
 * The live record of a request first made before IDEMPOTENCY_SECRET was rotated: it is under the
 * previous secret's scope, and a retry is answered from there rather than run a second time.
 */
async function beforeRotation(
  call: IdempotentCall,
  key: string,
  tenant: string,
  method: string,
  now: Date,
): Promise<{ record: IdempotencyRecord; sealingKey: Buffer } | null> {
  const previousSecret = call.services.secrets.previousIdempotency;
  if (!previousSecret) return null;
  const { scope, sealingKey } = idempotencyKeys(previousSecret, key, tenant, method, call.route);
  const found = await call.services.idempotency.find(scope);
  return found && Date.parse(found.value.expiresAt) > now.getTime()
    ? { record: found.value, sealingKey }
    : null;
}

/** 2xx and 4xx are final; a 5xx or a 429 must be free to run again on a retry. */
const isFinal = (status: number): boolean => status < 500 && status !== 429;

/**
 * Runs a POST once per idempotency key (docs/api.md: idempotency-key-reused). The first request
 * claims the scope with a create, so of concurrent duplicates one runs and the others get 409
 * `conflict`; its answer is then stored, and a retry within 24 hours gets it again, marked
 * Idempotent-Replayed, without running anything. The same key with another request is 409
 * `idempotency-key-reused`. A claim is never taken over while it lives: a retry after a process
 * died mid-request gets 409 rather than a chance to create something twice.
 */
export async function idempotent(
  call: IdempotentCall,
  run: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  const key = idempotencyKeyOf(call.request);
  if (key === null) return run();
  const { services } = call;
  const method = call.request.method.toUpperCase();
  const tenant = call.tenantId ?? 'anonymous';
  const { scope, sealingKey } = idempotencyKeys(
    services.secrets.idempotency,
    key,
    tenant,
    method,
    call.route,
  );
  const requestHash = sha256(canonical([method, call.route, call.input]));
  const now = services.clock.now();

  const found = await services.idempotency.find(scope);
  // The emulator keeps records past their TTL: an expired one counts as absent.
  if (found && Date.parse(found.value.expiresAt) > now.getTime())
    return replayOf(found.value, requestHash, sealingKey);
  const earlier = await beforeRotation(call, key, tenant, method, now);
  if (earlier) return replayOf(earlier.record, requestHash, earlier.sealingKey);
  const record: IdempotencyRecord = {
    id: scope,
    scope,
    requestHash,
    state: 'in-progress',
    response: null,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + idempotencyWindowSeconds * 1000).toISOString(),
  };
  const etag = await services.idempotency.claim(record, found?.etag);
  if (etag === null) {
    const winner = await services.idempotency.find(scope);
    if (!winner) throw inProgress();
    return replayOf(winner.value, requestHash, sealingKey);
  }

  let response: HttpResponseInit;
  try {
    response = await run();
  } catch (error) {
    await services.idempotency.release(scope, etag).catch(() => undefined);
    throw error;
  }
  const status = response.status ?? 200;
  if (!isFinal(status)) {
    await services.idempotency.release(scope, etag).catch(() => undefined);
    return response;
  }
  const answer: StoredAnswer = {
    status,
    headers: Object.fromEntries(new Headers(response.headers as Record<string, string>)),
    body: typeof response.body === 'string' ? response.body : null,
  };
  try {
    await services.idempotency.complete(
      { ...record, state: 'completed', response: seal(answer, sealingKey) },
      etag,
    );
  } catch (error) {
    // The request took effect: answer it. Its key stays claimed, so a retry gets 409, never a rerun.
    call.context.warn(
      'idempotency: the answer could not be stored',
      error instanceof Error ? error.name : 'error',
    );
  }
  return response;
}
