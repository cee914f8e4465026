import { operatorEventsPartition } from '../domain/events';
import { webhookDocumentId, type EventDelivery, type WebhookEndpoint } from '../domain/webhooks';
import { eachBounded } from './bounded';
import { attempt, sendClaimed, type AttemptOutcome } from './delivery-attempts';
import type { EventsWritten } from './event-scope';
import { horizon, publishPartition, relayCustomerEvents, relayCustomerEventsIn } from './events';
import { quietCursor, takeFromFeed } from './fan-out';
import type { Logger, Versioned } from './ports';
import type { Services } from './services';

export interface EventDeliveryReport {
  relayed: number;
  published: number;
  /** Partitions whose events could not be published this run. */
  unpublished: number;
  delivered: number;
  retried: number;
  failed: number;
  /**
   * Of those, deliveries to the operators' own endpoints: the platform's matter, which alerts.
   * A partner's endpoint failing is that partner's (docs/rules.md section 13).
   */
  platformFailed: number;
  /** Claimed by another host first. */
  skipped: number;
  /** Endpoints whose turn ended on an error of ours (logged): their deliveries wait. */
  unsent: number;
  /** Endpoints disabled by this run (410 Gone, or three days of failures). */
  disabled: number;
}

/** Endpoints served at once, partitions published at once, partitions published and endpoints behind taken per run. */
const endpointsAtOnce = 16;
const partitionsAtOnce = 16;
const partitionsPerRun = 200;
const endpointsBehindPerRun = 500;
/** Events taken from the feed at a time in an endpoint's turn, then sent before taking more. */
const eventsPerTake = 20;
/** Reads of due deliveries per run (each past the endpoints that already have their share). */
const dueReadsPerRun = 3;
/**
 * No new attempt starts after this long in one run (the timer runs every minute), nor on one
 * endpoint after this long in its turn: an endpoint that answers slowly (10 s at worst) keeps
 * its slot for one turn at most, and leaves what it did not reach to the next run.
 */
const sendingBudgetMs = 40_000;
const endpointTurnMs = 10_000;

/** A report with nothing done yet (the bench adds runs up from it). */
export const emptyReport = (): EventDeliveryReport => ({
  relayed: 0,
  published: 0,
  unpublished: 0,
  delivered: 0,
  retried: 0,
  failed: 0,
  platformFailed: 0,
  skipped: 0,
  unsent: 0,
  disabled: 0,
});

/**
 * The deliverEvents timer (docs/api.md Timer functions): copies relayed events, publishes every
 * partition with events waiting to its feed, then sends what is due: deliveries to try again, and
 * the events endpoints behind have yet to be sent, taken from their partner's feed
 * (fan-out.ts). Each attempt is claimed first, so two hosts never send the same one
 * (delivery-attempts.ts). Endpoints are served side by side and each takes only its share per
 * run, the longest waiting first, so a slow or flooded one delays nobody else.
 */
export async function deliverEvents(
  services: Services,
  logger: Logger,
): Promise<EventDeliveryReport> {
  const report = emptyReport();
  const relayedTo = await relayCustomerEvents(services, services.config.webhooks.deliveriesPerRun);
  report.relayed = relayedTo.length;
  const partitions = new Set([
    ...relayedTo,
    ...(await services.events.partitionsToPublish(horizon(services.clock.now()), partitionsPerRun)),
  ]);
  await eachBounded([...partitions], partitionsAtOnce, async (partnerId) => {
    // One partition that cannot be published holds up no other: the next run tries it again.
    try {
      const published = await publishPartition(services, partnerId);
      report.published += published;
    } catch (error) {
      report.unpublished += 1;
      logger.error('events could not be published; the next run tries again', {
        partnerId,
        error: (error as Error).message,
      });
    }
  });
  await sendDue(services, logger, report);
  return report;
}

/**
 * The deliveries due to be tried again now, at most a share per endpoint
 * (EVENTS_DELIVERIES_PER_ENDPOINT_PER_RUN), oldest first: when one endpoint's backlog fills a
 * read, the next read passes over the endpoints that have their share, so one partner's flood
 * never hides the others' deliveries.
 */
async function dueByEndpoint(services: Services): Promise<Map<string, Versioned<EventDelivery>[]>> {
  const { deliveriesPerRun, deliveriesPerEndpointPerRun } = services.config.webhooks;
  const byEndpoint = new Map<string, Versioned<EventDelivery>[]>();
  const full = new Set<string>();
  const seen = new Set<string>();
  for (let read = 0; read < dueReadsPerRun; read += 1) {
    const due = await services.events.deliveriesDue(services.clock.now(), deliveriesPerRun, [
      ...full,
    ]);
    for (const delivery of due) {
      if (seen.has(delivery.value.id)) continue;
      seen.add(delivery.value.id);
      const list = byEndpoint.get(delivery.value.webhookId) ?? [];
      if (list.length < deliveriesPerEndpointPerRun) list.push(delivery);
      if (list.length === deliveriesPerEndpointPerRun) full.add(delivery.value.webhookId);
      byEndpoint.set(delivery.value.webhookId, list);
    }
    if (due.length < deliveriesPerRun) break;
  }
  return byEndpoint;
}

/** One endpoint's turn in a run: deliveries to try again, then new events from the feed. */
interface Turn {
  partnerId: string;
  webhookId: string;
  /** The endpoint, when the run read it already. */
  endpoint?: Versioned<WebhookEndpoint>;
  retries: Versioned<EventDelivery>[];
  /** Whether to take its next events from the feed (it is behind, or a request just wrote). */
  fromFeed: boolean;
}

/** What a run may still take from the feed, all endpoints together (EVENTS_DELIVERIES_PER_RUN). */
interface RunBudget {
  left: number;
  prompt: boolean;
}

/**
 * Sends what is due now: deliveries to try again, and the events endpoints behind have yet to be
 * sent, taken from the feed (fan-out.ts) a share per endpoint, the longest waiting first.
 */
export async function sendDue(
  services: Services,
  logger: Logger,
  report: EventDeliveryReport,
): Promise<void> {
  const retries = await dueByEndpoint(services);
  const turns = new Map<string, Turn>();
  let retried = 0;
  for (const [webhookId, deliveries] of retries) {
    turns.set(webhookId, {
      partnerId: deliveries[0]!.value.partnerId,
      webhookId,
      retries: deliveries,
      fromFeed: false,
    });
    retried += deliveries.length;
  }
  for (const { value: cursor } of await services.events.cursorsDue(
    services.clock.now(),
    endpointsBehindPerRun,
  )) {
    const turn = turns.get(cursor.webhookId);
    if (turn) turn.fromFeed = true;
    else
      turns.set(cursor.webhookId, {
        partnerId: cursor.partnerId,
        webhookId: cursor.webhookId,
        retries: [],
        fromFeed: true,
      });
  }
  const budget = {
    left: Math.max(0, services.config.webhooks.deliveriesPerRun - retried),
    prompt: false,
  };
  await serveEndpoints(services, logger, report, [...turns.values()], budget);
}

/**
 * Right after a request that wrote events (EVENTS_PROMPT_DELIVERY): the same work as the timer,
 * for the partitions that request wrote only, each through single-partition queries: its
 * customers' events relayed, its partners' (and the copies' partitions) published, the endpoints
 * publication found caught up sent these events (a head start, capped per endpoint and minute),
 * and the deliveries it wrote (a test event, a redelivery) sent. Whatever this leaves (an
 * endpoint behind, a bulk import), the paced timer does.
 */
export async function deliverWritten(
  services: Services,
  logger: Logger,
  written: EventsWritten,
): Promise<EventDeliveryReport> {
  const report = emptyReport();
  const partitions = new Set(written.partners);
  for (const customerId of written.customers) {
    for (const partnerId of await relayCustomerEventsIn(services, customerId)) {
      partitions.add(partnerId);
      report.relayed += 1;
    }
  }
  const copiedTo = new Set<string>();
  // The endpoints publication told of new events, caught up until now: a prompt run sends them
  // these; an endpoint already behind is left to the paced timer.
  const told = new Map<string, Versioned<WebhookEndpoint>>();
  for (const partnerId of partitions) {
    report.published += await publishPartition(services, partnerId, copiedTo, told);
  }
  for (const partnerId of copiedTo) {
    // Stryker disable next-line ConditionalExpression: publishing again a partition published just above changes no answer; the check only saves its reads
    if (!partitions.has(partnerId)) {
      report.published += await publishPartition(services, partnerId, undefined, told);
    }
    partitions.add(partnerId);
  }
  const share = services.config.webhooks.deliveriesPerEndpointPerRun;
  const turns = new Map<string, Turn>();
  for (const [webhookId, endpoint] of told) {
    turns.set(webhookId, {
      partnerId: endpoint.value.partnerId,
      webhookId,
      endpoint,
      retries: [],
      fromFeed: true,
    });
  }
  for (const webhookId of written.webhooks) {
    const due = await services.events.deliveriesDueIn(webhookId, services.clock.now(), share);
    if (due.length === 0) continue;
    const turn = turns.get(webhookId);
    if (turn) turn.retries = due;
    else
      turns.set(webhookId, {
        partnerId: due[0]!.value.partnerId,
        webhookId,
        retries: due,
        fromFeed: false,
      });
  }
  await serveEndpoints(services, logger, report, [...turns.values()], {
    left: Infinity,
    prompt: true,
  });
  return report;
}

/** Each endpoint's turn, side by side, within the run's time budget and the endpoint's share. */
async function serveEndpoints(
  services: Services,
  logger: Logger,
  report: EventDeliveryReport,
  turns: Turn[],
  budget: RunBudget,
): Promise<void> {
  const started = performance.now();
  const share = services.config.webhooks.deliveriesPerEndpointPerRun;
  await eachBounded(turns, endpointsAtOnce, async (turn) => {
    const begun = performance.now();
    const timeLeft = (): boolean => {
      const now = performance.now();
      return now - started <= sendingBudgetMs && now - begun <= endpointTurnMs;
    };
    // One endpoint's failure (a throttled write, a secret that no longer opens) is logged and
    // costs only its own turn: the other endpoints are served, and the run still reports.
    try {
      let endpoint =
        turn.endpoint ??
        (await services.partners.getDocument<WebhookEndpoint>(
          turn.partnerId,
          webhookDocumentId(turn.webhookId),
        ));
      const count = (outcome: AttemptOutcome): void => {
        report[outcome.counted] += 1;
        if (outcome.counted === 'failed' && turn.partnerId === operatorEventsPartition)
          report.platformFailed += 1;
        if (outcome.disabled && endpoint) {
          report.disabled += 1;
          endpoint = { ...endpoint, value: { ...endpoint.value, status: 'disabled' } };
        }
      };
      for (const delivery of turn.retries) {
        if (!timeLeft()) return;
        count(await attempt(services, logger, endpoint, delivery));
      }
      if (!turn.fromFeed) return;
      if (!endpoint || endpoint.value.status !== 'active') {
        await quietCursor(services, turn.webhookId);
        return;
      }
      let sent = turn.retries.length;
      while (sent < share && budget.left > 0 && timeLeft()) {
        const wanted = Math.min(eventsPerTake, share - sent, budget.left);
        budget.left -= wanted;
        const taken = await takeFromFeed(services, endpoint.value, wanted, budget.prompt);
        budget.left += wanted - taken.length;
        sent += taken.length;
        // Those delivered are recorded together, in one round trip, once the take is sent.
        const delivered: Versioned<EventDelivery>[] = [];
        try {
          for (const delivery of taken) {
            // Out of time: the rest stay claimed, and are sent once their claim lapses.
            if (!timeLeft() || endpoint.value.status !== 'active') break;
            count(await sendClaimed(services, logger, endpoint, delivery, delivered));
          }
        } finally {
          await services.events.settleDeliveries(delivered);
        }
        if (taken.length < wanted) break;
      }
    } catch (error) {
      report.unsent += 1;
      logger.error(
        'webhook deliveries of an endpoint could not be sent; the next run tries again',
        {
          partnerId: turn.partnerId,
          webhookId: turn.webhookId,
          error: (error as Error).message,
        },
      );
    }
  });
}
