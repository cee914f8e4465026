import type { WebhookTransport } from '../../app/ports';
import { guardWebhookUrl, type LookupAll } from './address-guard';
import { newWebhookSecret, openSecret, sealSecret } from './secrets';
import { deliverWebhook } from './sender';

export interface WebhookTransportOptions {
  /** Under the local host only: `http://localhost` endpoints (WEBHOOKS_ALLOW_LOCAL). */
  allowLocal: boolean;
  /** The server key secrets are sealed with (derived from IDEMPOTENCY_SECRET's). */
  serverKey: Buffer;
  /** The server key before its last rotation (IDEMPOTENCY_SECRET_PREVIOUS): opens, never seals. */
  previousServerKey?: Buffer | undefined;
  /** Name resolution (tests answer a private address for a public-looking name). */
  lookup?: LookupAll | undefined;
  timeoutMs?: number | undefined;
}

/** The webhook port over the address guard, the signed sender and sealed secrets. */
export function createWebhookTransport(options: WebhookTransportOptions): WebhookTransport {
  const guard = {
    allowLocal: options.allowLocal,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  };
  return {
    async refusal(url) {
      const checked = await guardWebhookUrl(url, guard);
      return checked.ok ? null : checked.reason;
    },
    deliver: (message) =>
      deliverWebhook(
        { ...message, timestamp: new Date() },
        {
          ...guard,
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        },
      ),
    newSecret: newWebhookSecret,
    seal: (secret) => sealSecret(secret, options.serverKey),
    open: (sealed) =>
      openSecret(sealed, [
        options.serverKey,
        ...(options.previousServerKey ? [options.previousServerKey] : []),
      ]),
  };
}
