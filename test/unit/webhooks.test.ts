import { describe, expect, it } from 'vitest';
import { subscribesTo, type WebhookEndpoint } from '../../shared/domain/webhooks';

function endpoint(events: string[]): WebhookEndpoint {
  return {
    type: 'webhook',
    id: 'webhook-w1',
    partnerId: 'p1',
    webhookId: 'w1',
    url: 'https://hooks.contoso.example/in',
    events,
    description: null,
    status: 'active',
    disabledReason: null,
    secrets: [],
    slot: 0,
    createdAt: '2026-03-02T09:00:00.000Z',
    updatedAt: '2026-03-02T09:00:00.000Z',
  };
}

// docs/api.md, Events: an endpoint takes the types it names, or every type with `*`; a
// webhook.test event goes only to the endpoint it was sent to (it is in no feed).
describe('which events an endpoint takes', () => {
  it('takes the types it names, or every type with *', () => {
    expect(subscribesTo(endpoint(['transfer.completed']), 'transfer.completed')).toBe(true);
    expect(subscribesTo(endpoint(['transfer.completed']), 'transfer.created')).toBe(false);
    expect(subscribesTo(endpoint(['*']), 'partnership.accepted')).toBe(true);
  });

  it('never takes a test event from the feed, even with * or webhook.test named', () => {
    expect(subscribesTo(endpoint(['*']), 'webhook.test')).toBe(false);
    expect(subscribesTo(endpoint(['webhook.test']), 'webhook.test')).toBe(false);
  });
});
