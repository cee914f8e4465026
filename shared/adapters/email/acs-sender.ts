import type { EmailClient, EmailMessage as AcsMessage } from '@azure/communication-email';
import type { TokenCredential } from '@azure/identity';
import {
  SendThrottled,
  TransientSendError,
  type EmailSender,
  type SendResult,
} from '../../app/ports';
import type { EmailMessage } from '../../domain/email';

export type AcsConnection =
  { connectionString: string } | { endpoint: string; credential: TokenCredential };

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  response?: { headers?: { get(name: string): string | undefined } };
}

/**
 * Azure Communication Services email. The outbox email id is the ACS Operation-Id, so a send
 * retried after a crash or a lost answer is recognised by ACS and delivered once.
 */
export class AcsEmailSender implements EmailSender {
  readonly name = 'azure-communication-services';
  private client: Promise<EmailClient> | undefined;
  private readonly connect: () => Promise<EmailClient>;

  constructor(
    connection: AcsConnection,
    private readonly senderAddress: string,
    private readonly pollIntervalMs = 2000,
  ) {
    // No retries inside the SDK: a throttled send would sleep in the timer for its Retry-After.
    // The outbox retries instead, with backoff and the Retry-After as a floor.
    const endpoint =
      'connectionString' in connection
        ? endpointOf(connection.connectionString)
        : connection.endpoint;
    const options = {
      retryOptions: { maxRetries: 0 },
      allowInsecureConnection: isLoopbackHttp(endpoint),
    };
    this.connect = async () => {
      // Loaded at the first send, not at every cold start: the local outbox never needs it.
      const { EmailClient } = await import('@azure/communication-email');
      return 'connectionString' in connection
        ? new EmailClient(connection.connectionString, options)
        : new EmailClient(connection.endpoint, connection.credential, options);
    };
  }

  async send(message: EmailMessage, operationId: string): Promise<SendResult> {
    const acsMessage: AcsMessage = {
      senderAddress: this.senderAddress,
      recipients: { to: [{ address: message.to }] },
      // ACS takes the From display name from the sender username resource, not per message:
      // the partner is named by the text's fixed footer and reached through Reply-To.
      ...(message.replyTo ? { replyTo: [{ address: message.replyTo }] } : {}),
      content: { subject: message.subject, plainText: message.text, html: message.html },
    };
    const client = await (this.client ??= this.connect().catch((error: unknown) => {
      this.client = undefined; // a failed load is tried again at the next send
      throw error;
    }));
    let result;
    try {
      const poller = await client.beginSend(acsMessage, {
        operationId,
        updateIntervalInMs: this.pollIntervalMs,
      });
      result = await poller.pollUntilDone();
    } catch (error) {
      const e = error as RestErrorLike;
      const status = e.statusCode;
      const unreachable = status === undefined && e.code === 'REQUEST_SEND_ERROR';
      if (
        unreachable ||
        status === 408 ||
        status === 429 ||
        (status !== undefined && status >= 500)
      ) {
        const header = Number(e.response?.headers?.get('retry-after'));
        const retryAfter = Number.isFinite(header) && header > 0 ? header : undefined;
        if (status === 429) throw new SendThrottled('ACS throttled the send (429)', retryAfter);
        throw new TransientSendError(
          `ACS send failed${status ? ` with ${status}` : ''}`,
          retryAfter,
        );
      }
      throw error;
    }
    if (result.status !== 'Succeeded') {
      throw new Error(`ACS reported ${result.status}: ${result.error?.message ?? 'no detail'}`);
    }
    return { messageId: result.id };
  }
}

function endpointOf(connectionString: string): string {
  return /endpoint=([^;]+)/i.exec(connectionString)?.[1] ?? '';
}

/** Only a local test double is reached over plain http; anything else must be https. */
function isLoopbackHttp(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return (
      url.protocol === 'http:' && (url.hostname === '127.0.0.1' || url.hostname === 'localhost')
    );
  } catch {
    return false;
  }
}
