import { EmailClient, type EmailMessage as AcsMessage } from '@azure/communication-email';
import type { TokenCredential } from '@azure/identity';
import { TransientSendError, type EmailSender, type SendResult } from '../../app/ports';
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
  private readonly client: EmailClient;

  constructor(
    connection: AcsConnection,
    private readonly senderAddress: string,
    private readonly pollIntervalMs = 2000,
  ) {
    this.client =
      'connectionString' in connection
        ? new EmailClient(connection.connectionString, { retryOptions: { maxRetries: 2 } })
        : new EmailClient(connection.endpoint, connection.credential, {
            retryOptions: { maxRetries: 2 },
          });
  }

  async send(message: EmailMessage, operationId: string): Promise<SendResult> {
    const acsMessage: AcsMessage = {
      senderAddress: this.senderAddress,
      recipients: { to: [{ address: message.to }] },
      content: { subject: message.subject, plainText: message.text, html: message.html },
    };
    let result;
    try {
      const poller = await this.client.beginSend(acsMessage, {
        operationId,
        updateIntervalInMs: this.pollIntervalMs,
      });
      result = await poller.pollUntilDone();
    } catch (error) {
      const e = error as RestErrorLike;
      const status = e.statusCode;
      if (status === undefined || status === 408 || status === 429 || status >= 500) {
        const retryAfter = Number(e.response?.headers?.get('retry-after'));
        throw new TransientSendError(
          `ACS send failed${status ? ` with ${status}` : ''}`,
          Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
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
