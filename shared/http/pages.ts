import { escapeHtml } from '../html';

export interface PageContent {
  title: string;
  /** Paragraphs of plain text; every one is escaped. */
  paragraphs: string[];
  /** A list of label/value facts shown as a definition list (escaped). */
  facts?: [string, string][];
  /** Numbered steps (escaped). */
  steps?: string[];
  tone?: 'info' | 'error';
  language?: 'en' | 'fr';
}

/**
 * A small accessible HTML page for people following email links: landmarks, one heading, no
 * script at all (the Content-Security-Policy forbids it), every value escaped.
 */
export function renderPage(content: PageContent): string {
  const accent = content.tone === 'error' ? '#a4262c' : '#0f6cbd';
  return [
    '<!doctype html>',
    `<html lang="${content.language ?? 'en'}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(content.title)}</title>`,
    `<style>body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;background:#f5f5f5}main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem;border-top:4px solid ${accent};border-radius:4px}h1{font-size:1.5rem;margin-top:0}dt{font-weight:600}dd{margin:0 0 .75rem 0}</style>`,
    '</head>',
    '<body>',
    '<main>',
    `<h1>${escapeHtml(content.title)}</h1>`,
    ...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(content.facts && content.facts.length > 0
      ? [
          '<dl>',
          ...content.facts.map(
            ([label, value]) => `<dt>${escapeHtml(label)}</dt><dd>${escapeHtml(value)}</dd>`,
          ),
          '</dl>',
        ]
      : []),
    ...(content.steps && content.steps.length > 0
      ? ['<ol>', ...content.steps.map((step) => `<li>${escapeHtml(step)}</li>`), '</ol>']
      : []),
    '</main>',
    '</body>',
    '</html>',
  ].join('\n');
}
