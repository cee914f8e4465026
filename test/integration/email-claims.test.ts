import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AcsEmailSender } from '../../shared/adapters/email/acs-sender';
import type { DueEmail } from '../../shared/app/ports';
import type { Services } from '../../shared/app/services';
import { queuedEmail, type OutboxEmail } from '../../shared/domain/email';
import { gate, override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { ManualClock } from '../support/clock';
import { roundTripsByPartition } from '../support/cosmos-requests';
import { startFakeAcs } from '../support/fake-acs';

/**
 * deliverEmails claims a partner's due emails together (one round trip per 25, each on its own
 * etag), sends them one after another and writes their outcomes together. These tests hold the
 * claims and settlements to what a partner and an operator would see: each email sent once, an
 * email another run took over left as that run made it, nothing lost at a crash or a 429.
 */

const start = '2026-03-02T09:00:00.000Z';

/**
 * `count` emails of a new partner, due one second apart (the first the oldest, so the first
 * sent), written straight into the outbox as the partner's flows queue them.
 */
async function dueEmails(app: TestApp, count: number, partnerId = randomUUID()) {
  const now = app.clock.now().getTime();
  const emails: OutboxEmail[] = Array.from({ length: count }, (_, n) => {
    const queued = queuedEmail(
      randomUUID(),
      partnerId,
      'partner-invitation',
      {
        to: `contact-${n}@fabrikam.example`,
        subject: `Invitation ${n}`,
        text: `Hello ${n}`,
        html: `<p>Hello ${n}</p>`,
        links: [],
      },
      new Date(now - (count - n) * 1000),
    );
    return queued;
  });
  for (let at = 0; at < emails.length; at += 100) {
    await app.services.partners.commit(
      partnerId,
      emails.slice(at, at + 100).map((document) => ({ op: 'create', document })),
    );
  }
  return { partnerId, ids: emails.map((email) => email.id), emails };
}

/** Each email of the partner, by id. */
async function byId(app: TestApp, partnerId: string): Promise<Map<string, OutboxEmail>> {
  const emails = await app.documents<OutboxEmail>(partnerId, 'email');
  return new Map(emails.map((email) => [email.id, email]));
}

/** The summary of the app's last deliverEmails run, as its `timer run` line logs it. */
function lastRun(app: TestApp): Record<string, unknown> {
  const line = app.logs
    .filter((entry) => entry.message.startsWith('timer run {'))
    .map((entry) => JSON.parse(entry.message.slice('timer run '.length)))
    .filter((run) => run.timerName === 'deliverEmails')
    .at(-1);
  return line.summary;
}

/** Services whose sender counts each call before it reaches the file outbox (which hides repeats). */
function countingSends(sends: string[], services: Services): Services {
  return {
    ...services,
    emailSender: override(services.emailSender, {
      send: async (message, operationId) => {
        sends.push(operationId);
        return services.emailSender.send(message, operationId);
      },
    }),
  };
}

describe("deliverEmails claims a partner's emails together", () => {
  it('claims three due emails of one partner in one round trip and writes their outcomes in one', async () => {
    const app = await startTestApp({ clock: new ManualClock(start), countCosmosRequests: true });
    try {
      const { partnerId, ids } = await dueEmails(app, 3);
      const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEmails'));
      expect(roundTripsByPartition(requests).get(partnerId)).toEqual({
        reads: 0,
        batches: 2,
        writes: 0,
        queries: 0,
      });
      const emails = await byId(app, partnerId);
      for (const id of ids) expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
      const files = (await app.mailbox()).map((email) => email.file);
      expect(files.map((file) => file.slice(-40, -4)).sort()).toEqual([...ids].sort());
    } finally {
      await app.close();
    }
  });

  it('claims 30 due emails of one partner in two groups, 25 then 5: two claims and two settlements, each email sent once', async () => {
    const claims: number[] = [];
    const app = await startTestApp({
      clock: new ManualClock(start),
      countCosmosRequests: true,
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          claim: async (partnerId, emails, leaseUntil) => {
            claims.push(emails.length);
            return services.outbox.claim(partnerId, emails, leaseUntil);
          },
        }),
      }),
    });
    try {
      const { partnerId, ids } = await dueEmails(app, 30);
      const requests = await app.cosmosRequests!.during(() => app.runTimer('deliverEmails'));
      expect(claims.sort((a, b) => b - a)).toEqual([25, 5]);
      expect(roundTripsByPartition(requests).get(partnerId)).toEqual({
        reads: 0,
        batches: 4,
        writes: 0,
        queries: 0,
      });
      const emails = await byId(app, partnerId);
      for (const id of ids) expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await app.mailbox()).toHaveLength(30);
      expect(lastRun(app)).toMatchObject({ sent: 30, skipped: 0 });
    } finally {
      await app.close();
    }
  });
});

describe('deliverEmails on two hosts, one email of a partner claimed by the other', () => {
  /**
   * Host A reads the partner's three emails due and waits there (`gate`); host B, meanwhile,
   * runs the timer for the first of them only (the others not yet due for it, as when its read
   * saw a page without them). A then claims the three with the etags it read.
   */
  async function race(
    change: (b: TestApp, partnerId: string, firstId: string) => Promise<void>,
  ): Promise<{ a: TestApp; sends: string[]; partnerId: string; ids: string[] }> {
    const sends: string[] = [];
    const held = gate();
    let armed = false;
    let onlyFor: string | null = null;
    const a = await startTestApp({
      clock: new ManualClock(start),
      decorate: (services) => ({
        ...countingSends(sends, services),
        outbox: override(services.outbox, {
          due: async (now, lane, limit, passOver) => {
            const due = await services.outbox.due(now, lane, limit, passOver);
            if (armed && due.length > 0) {
              armed = false;
              await held.hold();
            }
            return due;
          },
        }),
      }),
    });
    const b = await startSecondHost(a, (services) => ({
      ...countingSends(sends, services),
      outbox: override(services.outbox, {
        due: async (now, lane, limit, passOver) =>
          (await services.outbox.due(now, lane, limit, passOver)).filter(
            (email: DueEmail) => onlyFor === null || email.id === onlyFor,
          ),
      }),
    }));
    try {
      const { partnerId, ids } = await dueEmails(a, 3);
      armed = true;
      const runOfA = a.runTimer('deliverEmails');
      await held.reached;
      onlyFor = ids[0]!;
      await change(b, partnerId, ids[0]!);
      held.open();
      await runOfA;
      return { a, sends, partnerId, ids };
    } finally {
      held.open();
      await b.close();
    }
  }

  it('sends only the other two when another host sent one after this host read them due: 1 skipped, nothing sent twice', async () => {
    const { a, sends, partnerId, ids } = await race(async (b) => {
      await b.runTimer('deliverEmails');
    });
    try {
      expect([...sends].sort()).toEqual([...ids].sort());
      expect(sends[0]).toBe(ids[0]); // B's
      expect(lastRun(a)).toMatchObject({ sent: 2, skipped: 1 });
      const emails = await byId(a, partnerId);
      for (const id of ids) expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
    } finally {
      await a.close();
    }
  });

  it('sends only the other two when one of them is gone (purged) after this host read them due: 1 skipped', async () => {
    const { a, sends, partnerId, ids } = await race(async (b, partnerId, firstId) => {
      await b.services.partners.commit(partnerId, [{ op: 'delete', id: firstId }]);
    });
    try {
      expect([...sends].sort()).toEqual(ids.slice(1).sort());
      expect(lastRun(a)).toMatchObject({ sent: 2, skipped: 1 });
      const emails = await byId(a, partnerId);
      expect(emails.has(ids[0]!)).toBe(false);
      for (const id of ids.slice(1))
        expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
    } finally {
      await a.close();
    }
  });
});

describe('deliverEmails settling a group one of whose claims another run took over', () => {
  it('writes the other outcomes and leaves the taken-over email as the other run made it', async () => {
    const held = gate();
    let armed = false;
    const a = await startTestApp({
      clock: new ManualClock(start),
      decorate: (services) => ({
        ...services,
        outbox: override(services.outbox, {
          settle: async (partnerId, outcomes) => {
            if (armed) {
              armed = false;
              await held.hold(); // sent, not yet recorded: A stalls past its lease
            }
            return services.outbox.settle(partnerId, outcomes);
          },
        }),
      }),
    });
    let takeOver: string | null = null;
    const b = await startSecondHost(a, (services) => ({
      ...services,
      emailSender: override(services.emailSender, {
        send: async () => {
          throw new Error('mailbox unavailable');
        },
      }),
      outbox: override(services.outbox, {
        due: async (now, lane, limit, passOver) =>
          (await services.outbox.due(now, lane, limit, passOver)).filter(
            (email) => email.id === takeOver,
          ),
      }),
    }));
    try {
      const { partnerId, ids } = await dueEmails(a, 3);
      armed = true;
      const runOfA = a.runTimer('deliverEmails');
      await held.reached;
      // A's claims lapse; B takes the first over: its send fails, it is due again later.
      a.clock.advance({ minutes: 5 });
      takeOver = ids[0]!;
      await b.runTimer('deliverEmails');
      const asBMadeIt = (await byId(a, partnerId)).get(ids[0]!)!;
      expect(asBMadeIt).toMatchObject({
        status: 'pending',
        attempts: 2,
        lastError: 'mailbox unavailable',
      });
      held.open();
      await runOfA;

      const emails = await byId(a, partnerId);
      expect(emails.get(ids[0]!)).toEqual(asBMadeIt);
      for (const id of ids.slice(1))
        expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
    } finally {
      held.open();
      await b.close();
      await a.close();
    }
  });
});

describe("deliverEmails when ACS throttles inside a partner's group", () => {
  it('sends the first, puts back the throttled second (due at the Retry-After) and the third as they were; the next run sends both once', async () => {
    const acs = await startFakeAcs();
    const app = await startTestApp({
      clock: new ManualClock(start),
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
    });
    try {
      const { partnerId, ids, emails: queued } = await dueEmails(app, 3);
      const [first, second, third] = ids as [string, string, string];
      acs.script.push({ status: 202 }, { status: 429, retryAfterSeconds: 60 });
      await app.runTimer('deliverEmails');

      let emails = await byId(app, partnerId);
      expect(emails.get(first)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(emails.get(second)).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: '2026-03-02T09:01:00.000Z',
      });
      expect(emails.get(third)).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: queued[2]!.dueAt,
        text: queued[2]!.text,
      });
      const sendsOf = (id: string) =>
        acs.requests.filter(
          (request) => request.path === '/emails:send' && request.operationId === id,
        ).length;
      expect([sendsOf(first), sendsOf(second), sendsOf(third)]).toEqual([1, 1, 0]);
      expect(lastRun(app)).toMatchObject({ sent: 1, throttled: 1 });

      app.clock.advance({ seconds: 60 });
      await app.runTimer('deliverEmails');
      emails = await byId(app, partnerId);
      for (const id of ids) expect(emails.get(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect([sendsOf(first), sendsOf(second), sendsOf(third)]).toEqual([1, 2, 1]);
      expect([...acs.delivered.keys()].sort()).toEqual([...ids].sort());
    } finally {
      await app.close();
      await acs.close();
    }
  });
});

describe("deliverEmails when ACS throttles one partner's group while another's runs", () => {
  it('stops the other group at once: the send it had begun goes out, the rest is put back as it was', async () => {
    const acs = await startFakeAcs();
    // P1's first send waits until P2's first has begun, and P2's waits until P1's is throttled;
    // P1's settlement waits until P2's group ends, so P2 cannot learn of the 429 from P1's
    // finished group, only from the send.
    let p2Begun: () => void = () => undefined;
    const p2Sending = new Promise<void>((resolve) => (p2Begun = resolve));
    let throttledNow: () => void = () => undefined;
    const throttled = new Promise<void>((resolve) => (throttledNow = resolve));
    let p2Settling: () => void = () => undefined;
    const p2Settled = new Promise<void>((resolve) => (p2Settling = resolve));
    const ids: { p1: string[]; p2: string[] } = { p1: [], p2: [] };
    const partners = { p1: randomUUID(), p2: randomUUID() };
    const app = await startTestApp({
      clock: new ManualClock(start),
      env: { EMAIL_DELIVERY_CONCURRENCY: '2' },
      emailSender: new AcsEmailSender(
        { connectionString: acs.connectionString },
        'DoNotReply@contoso.example',
        5,
      ),
      decorate: (services) => ({
        ...services,
        emailSender: override(services.emailSender, {
          send: async (message, operationId) => {
            if (operationId === ids.p2[0]) {
              p2Begun();
              await throttled;
            }
            if (operationId === ids.p1[0]) await p2Sending;
            try {
              return await services.emailSender.send(message, operationId);
            } finally {
              if (operationId === ids.p1[0]) throttledNow();
            }
          },
        }),
        outbox: override(services.outbox, {
          settle: async (partnerId, outcomes) => {
            if (partnerId === partners.p2) p2Settling();
            if (partnerId === partners.p1) await p2Settled;
            return services.outbox.settle(partnerId, outcomes);
          },
        }),
      }),
    });
    try {
      const first = await dueEmails(app, 2, partners.p1);
      const second = await dueEmails(app, 2, partners.p2);
      ids.p1 = first.ids;
      ids.p2 = second.ids;
      acs.script.push({ status: 429, retryAfterSeconds: 60 });
      await app.runTimer('deliverEmails');

      const p1 = await byId(app, partners.p1);
      const p2 = await byId(app, partners.p2);
      expect(p1.get(ids.p1[0]!)).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: '2026-03-02T09:01:00.000Z',
      });
      expect(p1.get(ids.p1[1]!)).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: first.emails[1]!.dueAt,
      });
      expect(p2.get(ids.p2[0]!)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(p2.get(ids.p2[1]!)).toMatchObject({
        status: 'pending',
        attempts: 0,
        dueAt: second.emails[1]!.dueAt,
      });
      const sends = () =>
        acs.requests
          .filter((request) => request.path === '/emails:send')
          .map((request) => request.operationId);
      expect(sends()).toEqual([ids.p1[0], ids.p2[0]]);

      app.clock.advance({ seconds: 60 });
      await app.runTimer('deliverEmails');
      expect([...acs.delivered.keys()].sort()).toEqual([...ids.p1, ...ids.p2].sort());
      expect(sends()).toHaveLength(5); // the throttled one twice, every other once
    } finally {
      await app.close();
      await acs.close();
    }
  });
});

describe("deliverEmails when the process dies at each write of a partner's group", () => {
  /**
   * Where the process dies: at the claim (nothing written), just after the claim (claimed, nothing
   * sent), at the settlement (sent, outcomes not written). What it left, what it sent, and the
   * attempts each email has once sent.
   */
  const cases = [
    { dies: 'at the claim', left: { status: 'pending', attempts: 0 }, sent: 0, attempts: 1 },
    {
      dies: 'after the claim, before a send',
      left: { status: 'sending', attempts: 1, dueAt: '2026-03-02T09:05:00.000Z' },
      sent: 0,
      attempts: 2,
    },
    {
      dies: 'at the settlement',
      left: { status: 'sending', attempts: 1, dueAt: '2026-03-02T09:05:00.000Z' },
      sent: 3,
      attempts: 2,
    },
  ] as const;

  it.each(cases)(
    'loses nothing and doubles nothing when it dies $dies of three emails: each delivered once, after the lease lapses',
    async ({ dies, left, sent, attempts }) => {
      let dying = true;
      const sends: string[] = [];
      const app = await startTestApp({
        clock: new ManualClock(start),
        decorate: (services) => ({
          ...countingSends(sends, services),
          outbox: override(services.outbox, {
            claim: async (partnerId, emails, leaseUntil) => {
              if (dying && dies === 'at the claim') throw new Error('process killed');
              const claimed = await services.outbox.claim(partnerId, emails, leaseUntil);
              if (dying && dies === 'after the claim, before a send')
                throw new Error('process killed');
              return claimed;
            },
            settle: async (partnerId, outcomes) => {
              if (dying && dies === 'at the settlement') throw new Error('process killed');
              return services.outbox.settle(partnerId, outcomes);
            },
          }),
        }),
      });
      try {
        const { partnerId, ids } = await dueEmails(app, 3);
        await expect(app.runTimer('deliverEmails')).rejects.toThrow('process killed');
        dying = false;
        const found = await byId(app, partnerId);
        for (const id of ids) expect(found.get(id)).toMatchObject(left);
        expect(sends).toHaveLength(sent);

        // A run within the lease leaves a claim alone; one once it lapses (at 300 s) takes it over.
        app.clock.advance({ seconds: 299 });
        await app.runTimer('deliverEmails');
        const unclaimed = dies === 'at the claim' ? 3 : 0;
        expect(sends).toHaveLength(sent + unclaimed);
        app.clock.advance({ seconds: 1 });
        await app.runTimer('deliverEmails');

        const emails = await byId(app, partnerId);
        for (const id of ids) expect(emails.get(id)).toMatchObject({ status: 'sent', attempts });
        // Sent again only where the first send was made and not recorded: the same operation id.
        expect([...sends].sort()).toEqual((sent === 0 ? [...ids] : [...ids, ...ids]).sort());
        const files = (await app.mailbox()).map((email) => email.file.slice(-40, -4));
        expect(files.sort()).toEqual([...ids].sort());
      } finally {
        await app.close();
      }
    },
  );
});
