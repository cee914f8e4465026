import { describe, expect, it } from 'vitest';
import { draftFor } from '../../shared/app/emails/customer-invitation-email';

describe('the customer invitation draft', () => {
  const link = 'https://app.example/api/links/customer-invitations/abc.def';
  it('is written in English or French, with the link and the expiry date', () => {
    const en = draftFor('en', 'Fourth Coffee', 'Adatum', link, '2026-04-01T09:00:00.000Z');
    expect(en.subject).toBe('Fourth Coffee invites you to work with Adatum');
    expect(en.body).toContain(link);
    expect(en.body).toContain('2026-04-01');
    const fr = draftFor('fr', 'Fourth Coffee', 'Adatum', link, '2026-04-01T09:00:00.000Z');
    expect(fr.subject).toBe('Fourth Coffee vous invite à travailler avec Adatum');
    expect(fr.body).toContain(link);
  });
});
