import type { EmailMessage } from '../../domain/email';

/** Quoted-printable (RFC 2045 section 6.7) for UTF-8 text, lines of at most 76 characters. */
export function encodeQuotedPrintable(text: string): string {
  const lines = text.replace(/\r?\n/g, '\n').split('\n');
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, 'utf8');
      let encoded = '';
      bytes.forEach((byte, index) => {
        const last = index === bytes.length - 1;
        const printable =
          (byte >= 33 && byte <= 126 && byte !== 61) || ((byte === 32 || byte === 9) && !last);
        encoded += printable
          ? String.fromCharCode(byte)
          : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      });
      const wrapped: string[] = [];
      while (encoded.length > 75) {
        let cut = 75;
        // Never split an =XX escape.
        const escape = encoded.lastIndexOf('=', cut);
        if (escape > cut - 3) cut = escape;
        wrapped.push(`${encoded.slice(0, cut)}=`);
        encoded = encoded.slice(cut);
      }
      wrapped.push(encoded);
      return wrapped.join('\r\n');
    })
    .join('\r\n');
}

export function decodeQuotedPrintable(encoded: string): string {
  const joined = encoded.replace(/=\r?\n/g, '').replace(/\r\n/g, '\n');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i += 1) {
    const char = joined[i]!;
    const hex = joined.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded-word for a header holding non-ASCII text. */
export function encodeHeader(value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean)
    ? clean
    : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

export function decodeHeader(value: string): string {
  return value.replace(/=\?UTF-8\?B\?([^?]*)\?=/gi, (_match, base64: string) =>
    Buffer.from(base64, 'base64').toString('utf8'),
  );
}

/** `Display Name <address>`: a quoted ASCII name or an encoded word, never a header break. */
export function mailbox(address: string, displayName?: string): string {
  const clean = address.replace(/[\r\n<>]/g, '');
  if (!displayName) return clean;
  const name = displayName.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(name)
    ? `"${name.replace(/["\\]/g, '')}" <${clean}>`
    : `${encodeHeader(name)} <${clean}>`;
}

/** An RFC 5322 message with a plain-text and an HTML alternative. */
export function toEml(
  message: EmailMessage,
  options: { from: string; messageId: string; date: Date },
): string {
  const boundary = `=_alt_${options.messageId.replace(/[^A-Za-z0-9]/g, '')}`;
  const headers = [
    `From: ${mailbox(options.from, message.fromName)}`,
    ...(message.replyTo ? [`Reply-To: ${mailbox(message.replyTo)}`] : []),
    `To: ${message.to.replace(/[\r\n]/g, '')}`,
    `Subject: ${encodeHeader(message.subject)}`,
    `Date: ${options.date.toUTCString()}`,
    `Message-ID: <${options.messageId}@partner-transition.local>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const part = (type: string, body: string): string =>
    [
      `--${boundary}`,
      `Content-Type: ${type}; charset=utf-8`,
      'Content-Transfer-Encoding: quoted-printable',
      '',
      encodeQuotedPrintable(body),
    ].join('\r\n');
  return [
    ...headers,
    '',
    part('text/plain', message.text),
    part('text/html', message.html),
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

export interface ParsedEml {
  from: string;
  replyTo: string;
  to: string;
  subject: string;
  date: string;
  text: string;
  html: string;
}

/** Reads back what toEml wrote (for `npm run outbox` and the tests). */
export function parseEml(eml: string): ParsedEml {
  const [head = '', ...rest] = eml.split('\r\n\r\n');
  const header = (name: string): string =>
    decodeHeader(new RegExp(`^${name}: (.*)$`, 'mi').exec(head)?.[1] ?? '');
  const body = rest.join('\r\n\r\n');
  const partOf = (type: string): string => {
    const match = new RegExp(
      `Content-Type: ${type}; charset=utf-8\\r\\nContent-Transfer-Encoding: quoted-printable\\r\\n\\r\\n([\\s\\S]*?)\\r\\n--`,
    ).exec(body);
    return match ? decodeQuotedPrintable(match[1]!) : '';
  };
  return {
    from: header('From'),
    replyTo: header('Reply-To'),
    to: header('To'),
    subject: header('Subject'),
    date: header('Date'),
    text: partOf('text/plain'),
    html: partOf('text/html'),
  };
}

export function linksIn(text: string): string[] {
  return [...new Set(text.match(/https?:\/\/[^\s<>"')]+/g) ?? [])];
}
