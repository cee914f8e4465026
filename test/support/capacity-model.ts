import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The arithmetic of docs/capacity.md, from the tables it reads: document sizes (measured by
 * document-sizes.test.ts) and round trips (measured by largest-tenant.test.ts), with the unit
 * costs and assumptions the document states. test/unit/capacity.test.ts holds the document's
 * results to what this computes, and to Azure's limits.
 */
export const capacityDoc = (): string =>
  readFileSync(path.resolve(__dirname, '../../docs/capacity.md'), 'utf8');

/** A section's text, from its heading to the next heading of any level. */
function section(text: string, heading: string): string {
  const body = text.split(heading)[1];
  if (body === undefined) throw new Error(`docs/capacity.md has no "${heading}"`);
  return body.split(/\n#+ /)[0]!;
}

/** `| `container` | `type` | bytes | ...`, keyed `container/type`. */
export function documentSizes(text = capacityDoc()): Map<string, number> {
  const rows = [
    ...section(text, '## Document sizes').matchAll(
      /^\| `([a-z]+)` +\| `([a-z-]+|\(no type\))` +\| ([\d,]+) /gm,
    ),
  ];
  return new Map(rows.map(([, c, t, b]) => [`${c}/${t}`, Number(b!.replace(/,/g, ''))]));
}

export interface RoundTrips {
  reads: number;
  queries: number;
  writes: number;
  batches: number;
}

/** `| what, where | reads | queries | writes | batches |`. */
export function roundTrips(text = capacityDoc()): Map<string, RoundTrips> {
  const rows = [
    ...section(text, '### Round trips of one customer creation').matchAll(
      /^\| ([a-z ,']+?) +\| (\d+) +\| (\d+) +\| (\d+) +\| (\d+) +\|/gm,
    ),
  ];
  return new Map(
    rows.map(([, what, reads, queries, writes, batches]) => [
      what!,
      {
        reads: Number(reads),
        queries: Number(queries),
        writes: Number(writes),
        batches: Number(batches),
      },
    ]),
  );
}

/** What the document assumes (its "Assumptions" section says each). */
export const assumptions = {
  gigabyte: 1e9,
  /** Data and index = 2 × data. */
  indexFactor: 2,
  logicalPartitionLimitGB: 20,
  customers: 3_000_000,
  endpoints: 10,
  creationsPerSecond: 50,
  partnerships: 30_000,
  resellerInvitations: 30_000,
  /** Its partnership invitation emails, all failed and keeping their bodies (the worst). */
  emails: 30_000,
  /** Instances serving the import, each starting a prompt run at most once a second. */
  instances: 10,
  /** Its staff paging through customers: pages of 50, a second. */
  pagesPerSecond: 10,
  pageSize: 50,
  /** EVENTS_DELIVERIES_PER_RUN: the deliveries the timer sends a minute. */
  deliveriesPerMinute: 2000,
  /** Events taken from the feed at a time in an endpoint's turn (deliver-events.ts). */
  eventsPerTake: 20,
  /** Serverless: 5,000 RU/s per container up to 250 GB, shared by its physical partitions. */
  serverlessContainerRUs: 5000,
  physicalPartitionGB: 50,
  /** Physical partitions of `partners` (about 80 GB with the index) and `events` (under 100 GB). */
  partnersPartitions: 2,
  eventsPartitions: 2,
  customersPartitions: 2,
  runsPerMonthEveryMinute: 43_800,
  runsPerMonthHourly: 730,
  failedKept: 1000,
  pricePerMillionRU: 0.25,
} as const;

/** Request units per operation (estimates: the document's "Request units" section). */
export const units = {
  pointRead: 1,
  create: 7,
  delete: 7,
  replace: 14,
  upsert: 14,
  /** A query page: this much, plus `perDocument` for each document it returns. */
  queryPage: 3,
  perDocument: 0.5,
  /** An aggregate (COUNT, MIN, SUM) per range: this much, plus `perCounted` per item counted. */
  aggregatePage: 3,
  perCounted: 0.05,
} as const;

const gb = (bytes: number): number => bytes / assumptions.gigabyte;

/** The largest tenant's logical partitions: data, and data and index, in GB. */
export function largestTenantPartitions(sizes = documentSizes()): Map<string, number> {
  const size = (kind: string): number => {
    const bytes = sizes.get(kind);
    if (bytes === undefined) throw new Error(`no size for ${kind}`);
    return bytes;
  };
  const a = assumptions;
  const distributor =
    a.customers *
      (size('partners/customer-relationship') + size('partners/audit') + size('partners/event')) +
    a.partnerships * size('partners/partnership') +
    a.resellerInvitations * size('partners/reseller-invitation') +
    a.emails * size('partners/email') +
    a.endpoints * (size('partners/webhook') + size('partners/webhook-slot'));
  const feed = a.customers * size('events/event');
  const endpoint = a.customers * size('events/delivery') + size('events/webhook-cursor');
  return new Map([
    ["the distributor's partition", gb(distributor)],
    ['its feed', gb(feed)],
    ['each of its endpoints', gb(endpoint)],
  ]);
}

const perPartitionCeiling = (partitions: number): number =>
  assumptions.serverlessContainerRUs / partitions;

/** RU of a round-trips row: reads, single-partition query pages of `documents`, writes. */
function cost(trips: RoundTrips, batchRU: number, writeRU: number, documents: number): number {
  return (
    trips.reads * units.pointRead +
    trips.queries * (units.queryPage + units.perDocument * documents) +
    trips.writes * writeRU +
    batchRU
  );
}

/** RU/s asked of the physical partitions holding the largest tenant, during its import. */
export function importLoad(trips = roundTrips()): Map<string, { rus: number; ceiling: number }> {
  const a = assumptions;
  const row = (what: string): RoundTrips => {
    const found = trips.get(what);
    if (!found) throw new Error(`no round trips for ${what}`);
    return found;
  };
  const rate = a.creationsPerSecond;
  // The request: its reads, one batch of three creates (relationship, audit event, event).
  const request = cost(row("the request, the distributor's partition"), 3 * units.create, 0, 0);
  // A publication round: its sequence and endpoints read, the reservation, then one batch of
  // the sequence's replace and a delete per event. Paced prompt runs: at most one a second per
  // instance, so each round carries rate / instances events.
  const rounds = Math.min(rate, a.instances);
  const perRound = rate / rounds;
  const round = row("a round of ten, the distributor's partition");
  const roundFixed =
    round.reads * units.pointRead +
    (units.queryPage + units.perDocument * perRound) +
    (units.queryPage + units.perDocument * a.endpoints) +
    round.writes * units.replace +
    units.replace;
  const paging = a.pagesPerSecond * (units.queryPage + units.perDocument * a.pageSize);
  const distributor = rate * request + rounds * roundFixed + rate * units.delete + paging;
  // The events container: each event written to the feed, each endpoint told once a round
  // (a read: behind already, no write), and the timer's sending: per delivery its create in
  // the batch with the cursor and its settlement; per take of eventsPerTake the cursor read,
  // the feed query and the cursor's replace.
  const feedWrites = rate * units.create;
  const told = rounds * a.endpoints * units.pointRead;
  const deliveries = a.deliveriesPerMinute / 60;
  const perTake =
    units.pointRead + (units.queryPage + units.perDocument * a.eventsPerTake) + units.replace;
  const sending =
    deliveries * (units.create + units.replace) + (deliveries / a.eventsPerTake) * perTake;
  return new Map([
    [
      "the distributor's, in `partners`",
      { rus: distributor, ceiling: perPartitionCeiling(a.partnersPartitions) },
    ],
    [
      "its feed's and endpoints', in `events`",
      { rus: feedWrites + told + sending, ceiling: perPartitionCeiling(a.eventsPartitions) },
    ],
  ]);
}

/** Request units of one timer run, idle and with `failedKept` failures kept per outbox. */
export function timerRuns(): Map<string, { idle: number; failed: number; runs: number }> {
  const a = assumptions;
  const p = a.partnersPartitions;
  const emptyQuery = (partitions: number): number => partitions * units.queryPage;
  const aggregate = (partitions: number, counted: number): number =>
    partitions * units.aggregatePage + units.perCounted * counted;
  const recent = (partitions: number, failed: number): number =>
    partitions * (units.queryPage + units.perDocument * Math.min(20, failed / partitions));
  const heartbeat = units.pointRead + units.upsert;
  const backlog = (partitions: number, failed: number): number =>
    aggregate(partitions, 0) * 2 + aggregate(partitions, failed) + recent(partitions, failed);
  // Three lanes: the platform's own mail, then transactional, then bulk.
  const emails = (failed: number): number =>
    3 * emptyQuery(p) + backlog(p, failed) + units.upsert + heartbeat;
  const e = a.eventsPartitions;
  const events = (failed: number): number =>
    emptyQuery(a.customersPartitions) +
    emptyQuery(p) +
    2 * emptyQuery(e) +
    // The failing endpoints (DISTINCT), whose deliveries the backlog counts apart.
    emptyQuery(e) +
    backlog(e, failed) +
    // The feed's backlog: the cursors behind (idle: none, an empty page per range, each one's
    // partner's sequence read only when there are) and their oldest (MIN).
    emptyQuery(e) +
    aggregate(e, 0) +
    units.upsert +
    heartbeat;
  const hourly = 2 * emptyQuery(p) + heartbeat;
  return new Map([
    [
      'deliverEmails',
      { idle: emails(0), failed: emails(a.failedKept), runs: a.runsPerMonthEveryMinute },
    ],
    [
      'deliverEvents',
      { idle: events(0), failed: events(a.failedKept), runs: a.runsPerMonthEveryMinute },
    ],
    ['escalatePendingEnrollments', { idle: hourly, failed: hourly, runs: a.runsPerMonthHourly }],
    ['sendIncentiveInvitations', { idle: hourly, failed: hourly, runs: a.runsPerMonthHourly }],
    ['expireTransfers', { idle: hourly, failed: hourly, runs: a.runsPerMonthHourly }],
  ]);
}
