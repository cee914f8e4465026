import type { Language } from '../domain/partner';

/**
 * A date as people read it, in the page's language: "1 April 2026, 09:00 UTC" or
 * "1 avril 2026, 09:00 UTC" (UTC named, since the reader's own time zone is unknown).
 */
export function readableDate(iso: string, language: Language): string {
  const date = new Date(iso);
  const day = new Intl.DateTimeFormat(language === 'fr' ? 'fr-FR' : 'en-GB', {
    day: 'numeric',
    month: 'long',
    year: 'numeric',
    timeZone: 'UTC',
  }).format(date);
  const time = new Intl.DateTimeFormat('en-GB', {
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZone: 'UTC',
  }).format(date);
  return `${day}, ${time} UTC`;
}
