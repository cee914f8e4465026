import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deliverEmails } from '../../shared/app/deliver-emails';
import {
  SendThrottled,
  type DueEmail,
  type EmailSender,
  type Versioned,
} from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { queuedEmail, type EmailKind, type OutboxEmail } from '../../shared/domain/email';
import { override, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { recordingLogger } from '../support/recording-logger';

/**
 * deliverEmails over backlogs larger than one read of due emails (5,000) and over a throttled
 * send (docs/rules.md, email delivery and section 13): every due email of a run goes out once,
 * partners found behind another's backlog get their turn, and a 429 stops the run at once.
 * The outbox's emails are held in memory (thousands of them, seeded in no time), behind the
 * outbox's own contract: `due` returns the lane's waiting emails oldest first, past the partners
 * passed over, at most `limit`; `claim` and `settle` each act only on an unchanged etag. The send
 * budget's counters stay in the Cosmos emulator.
 */

/** Past this many reads of due emails a run is reading in circles: the read fails the run. */
const readsBeforeGivingUp = 30;

interface MemoryOutbox {
  emails: Map<string, Versioned<OutboxEmail>>;
  /** Each read of due emails: `<lane>:<partners passed over>`. */
  reads: string[];
  /** Each claim: the partner whose emails it claimed. */
  claims: string[];
}

const newOutbox = (): MemoryOutbox => ({ emails: new Map(), reads: [], claims: [] });

let etags = 0;
const nextEtag = () => `"etag-${(etags += 1)}"`;

function inMemory(outbox: MemoryOutbox): (services: Services) => Services {
  return (services) => ({
    ...services,
    outbox: override(services.outbox, {
      due: async (now, lane, limit, passOver = []) => {
        outbox.reads.push(`${lane}:${[...passOver].sort().join(',')}`);
        if (outbox.reads.length > readsBeforeGivingUp) {
          throw new Error(`read due emails more than ${readsBeforeGivingUp} times in a run`);
        }
        const at = now.toISOString();
        return [...outbox.emails.values()]
          .filter(
            ({ value }) =>
              value.lane === lane &&
              (value.status === 'pending' || value.status === 'sending') &&
              value.dueAt !== undefined &&
              value.dueAt <= at &&
              !passOver.includes(value.partnerId),
          )
          .sort((x, y) => x.value.dueAt!.localeCompare(y.value.dueAt!))
          .slice(0, limit)
          .map(({ value, etag }): DueEmail => ({
            id: value.id,
            partnerId: value.partnerId,
            attempts: value.attempts,
            dueAt: value.dueAt!,
            etag,
          }));
      },
      claim: async (partnerId, emails, leaseUntil) => {
        outbox.claims.push(partnerId);
        const claimed: Versioned<OutboxEmail>[] = [];
        for (const email of emails) {
          const stored = outbox.emails.get(email.id);
          if (!stored || stored.etag !== email.etag) continue;
          const value: OutboxEmail = {
            ...stored.value,
            status: 'sending',
            attempts: stored.value.attempts + 1,
            dueAt: leaseUntil.toISOString(),
          };
          const entry = { value, etag: nextEtag() };
          outbox.emails.set(email.id, entry);
          claimed.push(entry);
        }
        return claimed;
      },
      settle: async (_partnerId, outcomes) => {
        for (const { value, etag } of outcomes) {
          if (outbox.emails.get(value.id)?.etag === etag) {
            outbox.emails.set(value.id, { value, etag: nextEtag() });
          }
        }
      },
    }),
  });
}

/** `count` emails of a partner, each due `dueAt` (the oldest first), of a kind of `lane`. */
function seed(
  outbox: MemoryOutbox,
  partnerId: string,
  count: number,
  dueAt: string,
  kind: EmailKind = 'transfer-requested',
): string[] {
  const ids: string[] = [];
  for (let n = 0; n < count; n += 1) {
    const id = `${partnerId}-${String(n).padStart(5, '0')}`;
    const value = queuedEmail(
      id,
      partnerId,
      kind,
      { to: `${id}@example.com`, subject: 'Subject', text: 'Text', html: '<p>Html</p>', links: [] },
      new Date(dueAt),
    );
    outbox.emails.set(id, { value, etag: nextEtag() });
    ids.push(id);
  }
  return ids;
}

/**
 * A sender that records every send (the email id it carries), failing or throttling the ids the
 * test names, and moving the injected clock on by `secondsPerSend` at each send.
 */
function recordingSender(clock: ManualClock): EmailSender & {
  sends: string[];
  failing: (id: string) => boolean;
  throttling: (id: string) => boolean;
  secondsPerSend: number;
} {
  const sender = {
    name: 'recording',
    sends: [] as string[],
    failing: (_id: string) => false,
    throttling: (_id: string) => false,
    secondsPerSend: 0,
    send: async (_message: unknown, operationId: string) => {
      sender.sends.push(operationId);
      clock.advance({ seconds: sender.secondsPerSend });
      if (sender.throttling(operationId)) throw new SendThrottled('quota exceeded', 60);
      if (sender.failing(operationId)) throw new Error('mailbox unavailable');
      return { messageId: operationId };
    },
  };
  return sender;
}

const statusOf = (outbox: MemoryOutbox, id: string) => outbox.emails.get(id)!.value;

/**
 * An app whose outbox is held in memory, with these email settings; the outbox, the sender and
 * the clock are the describe block's, emptied and reset before each of its tests.
 */
function inMemoryDelivery(env: Record<string, string>) {
  const world = {
    app: undefined as unknown as TestApp,
    outbox: newOutbox(),
    clock: new ManualClock('2026-03-02T09:00:00.000Z'),
    sender: undefined as unknown as ReturnType<typeof recordingSender>,
  };
  world.sender = recordingSender(world.clock);
  beforeAll(async () => {
    world.app = await startTestApp({
      clock: world.clock,
      emailSender: world.sender,
      env,
      decorate: inMemory(world.outbox),
    });
  });
  afterAll(() => world.app.close());
  beforeEach(() => {
    world.outbox.emails.clear();
    world.outbox.reads = [];
    world.outbox.claims = [];
    world.sender.sends = [];
    world.sender.failing = () => false;
    world.sender.throttling = () => false;
    world.sender.secondsPerSend = 0;
  });
  return world;
}

describe('deliverEmails over backlogs past one read of due emails (5,000)', () => {
  // A budget far above the backlogs: a read asks for the most due emails a read takes, 5,000.
  const world = inMemoryDelivery({
    EMAIL_SENDS_PER_MINUTE: '100000',
    EMAIL_SENDS_PER_HOUR: '1000000',
    EMAIL_RETRY_BASE_SECONDS: '1',
  });
  const { outbox, clock, sender } = world;

  it("sends a partner's emails past the first 5,000 in the same run, once the other partners found behind them are sent too", async () => {
    clock.set('2026-03-02T09:00:00.000Z');
    const a = seed(outbox, 'a', 5002, '2026-03-02T08:00:00.000Z');
    const b = seed(outbox, 'b', 1, '2026-03-02T08:30:00.000Z');
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(report).toMatchObject({ sent: 5003, outOfBudget: false, throttled: 0 });
    expect(new Set(sender.sends)).toEqual(new Set([...a, ...b]));
    expect(sender.sends).toHaveLength(5003);
    expect([...outbox.emails.values()].every(({ value }) => value.status === 'sent')).toBe(true);
    // The first turn read a's first 5,000 and, past a, b's one; the second turn a's last 2.
    expect(outbox.reads).toEqual([
      'platform:',
      'transactional:',
      'transactional:a',
      'transactional:',
      'bulk:',
    ]);
  });

  it('sends in one run the emails of a fifth partner found behind four full reads of four backlogs', async () => {
    clock.set('2026-03-03T09:00:00.000Z');
    const ids = [
      ...seed(outbox, 'a', 5000, '2026-03-03T08:00:00.000Z'),
      ...seed(outbox, 'b', 5000, '2026-03-03T08:10:00.000Z'),
      ...seed(outbox, 'c', 5000, '2026-03-03T08:20:00.000Z'),
      ...seed(outbox, 'd', 5000, '2026-03-03T08:30:00.000Z'),
    ];
    const [e] = seed(outbox, 'e', 1, '2026-03-03T08:40:00.000Z');
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(statusOf(outbox, e!)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(report).toMatchObject({ sent: 20001, outOfBudget: false });
    expect(new Set(sender.sends)).toEqual(new Set([...ids, e]));
    expect(sender.sends).toHaveLength(20001);
    expect(outbox.reads).toEqual([
      'platform:',
      'transactional:',
      'transactional:a',
      'transactional:a,b',
      'transactional:a,b,c',
      'transactional:',
      'bulk:',
    ]);
  });

  it('tries an email at most once a run, though its retry falls due again before the run ends, and moves on to the next lane', async () => {
    clock.set('2026-03-04T09:00:00.000Z');
    // Each send takes a second of the injected clock; every send of theirs fails, retried 1 s later: by
    // the end of the first turn nearly all 10,000 are due again, more than a read takes.
    sender.secondsPerSend = 1;
    sender.failing = (id) => !id.startsWith('c-');
    const ids = [
      ...seed(outbox, 'a', 5000, '2026-03-04T08:00:00.000Z'),
      ...seed(outbox, 'b', 5000, '2026-03-04T08:30:00.000Z'),
    ];
    const [bulk] = seed(outbox, 'c', 1, '2026-03-04T08:00:00.000Z', 'incentive-invitation');
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(report).toMatchObject({ sent: 1, retried: 10000, failed: 0 });
    // None twice: each was sent once, and holds one attempt.
    expect(sender.sends).toHaveLength(10001);
    expect(new Set(sender.sends)).toEqual(new Set([...ids, bulk]));
    expect(ids.every((id) => statusOf(outbox, id).attempts === 1)).toBe(true);
    expect(
      ids.filter((id) => statusOf(outbox, id).dueAt! <= clock.now().toISOString()).length,
    ).toBeGreaterThan(5000);
    // The second turn's four reads found only emails of this run: the lane is done, the bulk
    // lane next (its email sent), and nothing read again.
    expect(outbox.reads).toEqual([
      'platform:',
      'transactional:',
      'transactional:a',
      'transactional:a,b',
      'transactional:',
      'transactional:',
      'transactional:',
      'transactional:',
      'bulk:',
    ]);
    expect(statusOf(outbox, bulk!)).toMatchObject({ status: 'sent' });
  });
});

describe('deliverEmails with a short send budget, one group of emails at a time', () => {
  // 2 sends a minute: a read asks for 8 due emails (4 per send the budget allows).
  const world = inMemoryDelivery({
    EMAIL_SENDS_PER_MINUTE: '2',
    EMAIL_SENDS_PER_HOUR: '1000',
    EMAIL_DELIVERY_CONCURRENCY: '1',
  });
  const { outbox, clock, sender } = world;

  it("sends another partner's email found past a backlog that fills the read, taking turns with the backlog", async () => {
    clock.set('2026-03-02T09:00:00.000Z');
    const a = seed(outbox, 'a', 8, '2026-03-02T08:00:00.000Z');
    const [b] = seed(outbox, 'b', 1, '2026-03-02T08:30:00.000Z');
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(report).toMatchObject({ sent: 2, outOfBudget: true });
    expect(sender.sends).toEqual([a[0], b]);
    expect(outbox.reads).toEqual(['platform:', 'transactional:', 'transactional:a']);
  });

  it("claims no other partner's email once ACS throttles a send: it stays as it was", async () => {
    clock.set('2026-03-03T09:00:00.000Z');
    const [a] = seed(outbox, 'a', 1, '2026-03-03T08:00:00.000Z');
    const [b] = seed(outbox, 'b', 1, '2026-03-03T08:30:00.000Z');
    const bBefore = outbox.emails.get(b!)!;
    sender.throttling = (id) => id === a;
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(report).toMatchObject({ sent: 0, throttled: 1, skipped: 0 });
    expect(sender.sends).toEqual([a]);
    expect(outbox.claims).toEqual(['a']);
    // b's email was neither claimed nor put back: the very document it was, due as it was.
    expect(outbox.emails.get(b!)).toBe(bBefore);
    expect(statusOf(outbox, a!)).toMatchObject({
      status: 'pending',
      attempts: 0,
      dueAt: '2026-03-03T09:01:00.000Z',
    });
  });

  it('reads no later lane once ACS throttles a send: the run stops', async () => {
    clock.set('2026-03-04T09:00:00.000Z');
    const [a] = seed(outbox, 'a', 1, '2026-03-04T08:00:00.000Z');
    const [bulk] = seed(outbox, 'c', 1, '2026-03-04T08:00:00.000Z', 'incentive-invitation');
    sender.throttling = (id) => id === a;
    const report = await deliverEmails(world.app.services, recordingLogger());
    expect(report).toMatchObject({ sent: 0, throttled: 1 });
    expect(outbox.reads).toEqual(['platform:', 'transactional:']);
    expect(outbox.claims).toEqual(['a']);
    expect(sender.sends).toEqual([a]);
    expect(statusOf(outbox, bulk!)).toMatchObject({ status: 'pending', attempts: 0 });
  });
});
