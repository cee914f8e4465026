import * as z from 'zod';
import { eventDataSchemas, eventTypes, type EventType } from '../../domain/events';
import { isoTimestamp } from './common';

/** `enrollment.submitted` → `EnrollmentSubmittedEvent`: each event's name in openapi.json. */
export function eventSchemaId(type: EventType): string {
  const words = type.split(/[.-]/).map((word) => `${word[0]!.toUpperCase()}${word.slice(1)}`);
  return `${words.join('')}Event`;
}

/**
 * One schema per event type, as a webhook endpoint receives it and the pull feed lists it, its
 * `data` from the schemas the events are built with (domain/events.ts).
 */
export const eventSchemas: { [T in EventType]: z.ZodType } = Object.fromEntries(
  eventTypes.map((type) => [
    type,
    z
      .object({
        id: z.string().describe('evt_...: the same on every retry; drop duplicates by it'),
        type: z.literal(type),
        occurredAt: isoTimestamp,
        partnerId: z.string().describe('The partner whose change it is'),
        data: eventDataSchemas[type],
      })
      .meta({ id: eventSchemaId(type), description: `The ${type} event` }),
  ]),
) as unknown as { [T in EventType]: z.ZodType };

/** Every event: one union, discriminated on `type` (the feed's items, the webhooks section). */
export const eventSchema = z
  .discriminatedUnion(
    'type',
    eventTypes.map((type) => eventSchemas[type]) as unknown as [
      z.ZodObject<{ type: z.ZodLiteral<string> }>,
      ...z.ZodObject<{ type: z.ZodLiteral<string> }>[],
    ],
  )
  .meta({
    id: 'Event',
    description: 'An event, its data per type',
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        eventTypes.map((type) => [type, `#/components/schemas/${eventSchemaId(type)}`]),
      ),
    },
  });
