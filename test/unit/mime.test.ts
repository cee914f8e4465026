import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeQuotedPrintable,
  encodeQuotedPrintable,
  parseEml,
  toEml,
} from '../../shared/adapters/email/mime';

describe('quoted-printable', () => {
  it('round-trips any text and keeps every line within 76 characters of 7-bit ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const normalised = text.replace(/\r\n?/g, '\n');
        const encoded = encodeQuotedPrintable(normalised);
        expect(decodeQuotedPrintable(encoded)).toBe(normalised);
        for (const line of encoded.split('\r\n')) {
          expect(line.length).toBeLessThanOrEqual(76);
          expect(line).toMatch(/^[\x20-\x7e]*$/);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('RFC 5322 messages', () => {
  it('round-trips subject and both bodies', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.string({ maxLength: 300 }), (subject, body) => {
        const cleanSubject = subject.replace(/[\r\n]+/g, ' ');
        const text = body.replace(/\r\n?/g, '\n');
        const eml = toEml(
          { to: 'a@b.example', subject: cleanSubject, text, html: `<p>${text}</p>`, links: [] },
          { from: 'x@y.example', messageId: 'id-1', date: new Date('2026-01-01T00:00:00Z') },
        );
        const parsed = parseEml(eml);
        expect(parsed.subject).toBe(cleanSubject);
        expect(parsed.text).toBe(text);
        expect(parsed.html).toBe(`<p>${text}</p>`);
      }),
      { numRuns: 200 },
    );
  });

  it('cannot be given extra headers through the subject or recipient', () => {
    const eml = toEml(
      {
        to: 'a@b.example\r\nBcc: evil@example.com',
        subject: 'Hi\r\nBcc: evil@example.com',
        text: 't',
        html: 'h',
        links: [],
      },
      { from: 'x@y.example', messageId: 'id-2', date: new Date() },
    );
    expect(eml.split('\r\n\r\n')[0]).not.toMatch(/^Bcc:/m);
  });
});

describe('the From display name and Reply-To', () => {
  it('cannot break out of their header, ASCII or not', () => {
    const eml = toEml(
      {
        to: 'a@b.example',
        subject: 'S',
        text: 't',
        html: 'h',
        links: [],
        fromName: 'Evil "Co"\r\nBcc: victim@x.example',
        replyTo: 'pat@contoso.example>\r\nBcc: v@x.example',
      },
      { from: 'noreply@x.example', messageId: 'id-3', date: new Date('2026-01-01T00:00:00Z') },
    );
    const head = eml.split('\r\n\r\n')[0]!;
    expect(head).not.toMatch(/^Bcc:/m);
    expect(parseEml(eml).from).toBe('"Evil Co Bcc: victim@x.example" <noreply@x.example>');
    const french = parseEml(
      toEml(
        { to: 'a@b.example', subject: 'S', text: 't', html: 'h', links: [], fromName: 'Café SA' },
        { from: 'noreply@x.example', messageId: 'id-4', date: new Date() },
      ),
    );
    expect(french.from).toBe('Café SA <noreply@x.example>');
  });
});
