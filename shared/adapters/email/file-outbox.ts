import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EmailSender, SendResult } from '../../app/ports';
import type { EmailMessage } from '../../domain/email';
import { toEml } from './mime';

export interface DeliveredEmailNotice {
  file: string;
  to: string;
  subject: string;
  links: string[];
}

/**
 * The local mailbox: each email becomes an RFC 5322 .eml file named after its operation id,
 * so delivering the same email twice leaves one file. `announce` is how the local host prints
 * each email's links for the person trying the app (never wired to the app's logger).
 */
export class FileOutbox implements EmailSender {
  readonly name = 'file-outbox';

  constructor(
    private readonly directory: string,
    private readonly from: string,
    private readonly now: () => Date,
    private readonly announce?: (notice: DeliveredEmailNotice) => void,
  ) {}

  async send(message: EmailMessage, operationId: string): Promise<SendResult> {
    if (!/^[A-Za-z0-9-]+$/.test(operationId)) throw new Error('operation id must be a plain id');
    await mkdir(this.directory, { recursive: true });
    const file = path.join(this.directory, `${operationId}.eml`);
    if (await exists(file)) return { messageId: operationId };
    const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(
        toEml(message, { from: this.from, messageId: operationId, date: this.now() }),
      );
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    this.announce?.({ file, to: message.to, subject: message.subject, links: message.links });
    return { messageId: operationId };
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
