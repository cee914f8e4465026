import * as z from 'zod';
import { eventTypes } from '../../domain/events';
import { isoTimestamp, text } from './common';
import { eventSchema } from './events';

/**
 * Types a partner may subscribe to: every type of the catalogue, or `*`. `webhook.test` is one
 * (listed and accepted alike); a test event goes to the endpoint tested, whatever it selects.
 */
const eventSelection = z
  .array(z.enum(['*', ...eventTypes] as [string, ...string[]]))
  .min(1)
  .max(eventTypes.length + 1)
  // A type named twice counts once, and "*" with others is all of them.
  .transform((events) => (events.includes('*') ? ['*'] : [...new Set(events)]));

const webhookUrl = z.string().trim().min(1).max(2048).pipe(z.url());

export const newWebhookBody = z.strictObject({
  url: webhookUrl,
  events: eventSelection,
  description: text(200).optional(),
});

export const webhookChangeBody = z
  .strictObject({
    url: webhookUrl.optional(),
    events: eventSelection.optional(),
    description: text(200).optional(),
    status: z.enum(['active', 'disabled']).optional(),
  })
  .refine((change) => Object.values(change).some((value) => value !== undefined), {
    message: 'name at least one of url, events, description, status',
  });

export const webhookIdParams = z.object({ webhookId: z.uuid() });
export const deliveryParams = z.object({
  webhookId: z.uuid(),
  eventId: z.string().regex(/^evt_[0-9a-f]{32}$/, 'must be an event id (evt_...)'),
});

const webhookFields = {
  webhookId: z.string(),
  url: z.string(),
  events: z.array(z.string()).describe('Event types, or ["*"] for all of them'),
  description: z.string().nullable(),
  status: z.enum(['active', 'disabled']),
  disabledReason: z.string().nullable(),
  createdAt: isoTimestamp,
  updatedAt: isoTimestamp,
};

export const webhookView = z
  .object(webhookFields)
  .meta({ id: 'Webhook', description: 'A webhook endpoint (never its secret)' });

export const createdWebhookView = z
  .object({
    ...webhookFields,
    secret: z.string().describe('whsec_...: shown this once; verify signatures with it'),
  })
  .meta({ id: 'CreatedWebhook', description: 'A new webhook endpoint, with its secret' });

export const secretView = z
  .object({
    secret: z.string().describe('The new secret; the previous one still signs for 24 hours'),
  })
  .meta({ id: 'WebhookSecret' });

export const deliveryView = z
  .object({
    eventId: z.string(),
    type: z.enum(eventTypes),
    attempt: z.number().int(),
    outcome: z.string(),
    status: z.enum(['pending', 'sending', 'delivered', 'failed']),
    responseStatus: z.number().int().nullable(),
    durationMs: z.number().nullable(),
    at: isoTimestamp,
    nextAttemptAt: isoTimestamp.nullable(),
  })
  .meta({ id: 'Delivery', description: "An event's delivery to one endpoint: its last attempt" });

export const queuedView = z
  .object({ eventId: z.string(), status: z.literal('queued') })
  .meta({ id: 'QueuedEvent' });

export const feedQuery = z.strictObject({
  after: z
    .string()
    .regex(/^(0|[1-9]\d{0,15})$/, 'must be a cursor this feed gave you')
    .optional(),
  pageSize: z.coerce.number().int().min(1).max(100).default(50),
});

export const feedView = z
  .object({
    items: z.array(eventSchema),
    cursor: z.string().describe('Where to read on next time (unchanged when nothing is new)'),
  })
  .meta({ id: 'EventFeed', description: "The partner's events after a cursor, oldest first" });
