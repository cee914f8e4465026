import type { EmailMessage } from '../../domain/email';
import { escapeHtml } from '../../html';

/** An email as its parts: the plain-text and HTML bodies are both made from it, so they agree. */
export interface EmailContent {
  to: string;
  subject: string;
  greeting: string;
  paragraphs: string[];
  action?: { label: string; url: string };
  closing: string;
  signature: string;
  language: 'en' | 'fr';
}

export function renderEmail(content: EmailContent): EmailMessage {
  const text = [
    content.greeting,
    '',
    ...content.paragraphs.flatMap((paragraph) => [paragraph, '']),
    // French sets a space before a colon, as the paragraphs do.
    ...(content.action
      ? [
          `${content.action.label}${content.language === 'fr' ? ' : ' : ': '}${content.action.url}`,
          '',
        ]
      : []),
    content.closing,
    content.signature,
  ].join('\n');
  const html = [
    '<!doctype html>',
    `<html lang="${content.language}"><head><meta charset="utf-8"><title>${escapeHtml(content.subject)}</title></head>`,
    '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#1b1b1b;line-height:1.5;max-width:640px">',
    `<p>${escapeHtml(content.greeting)}</p>`,
    ...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(content.action
      ? [
          `<p><a href="${escapeHtml(content.action.url)}" style="display:inline-block;padding:10px 18px;background:#0f6cbd;color:#fff;text-decoration:none;border-radius:4px">${escapeHtml(content.action.label)}</a></p>`,
          `<p style="font-size:13px;color:#555">${escapeHtml(content.action.url)}</p>`,
        ]
      : []),
    `<p>${escapeHtml(content.closing)}<br>${escapeHtml(content.signature)}</p>`,
    '</body></html>',
  ].join('\n');
  return {
    to: content.to,
    subject: content.subject,
    text,
    html,
    links: content.action ? [content.action.url] : [],
  };
}
