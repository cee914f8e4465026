import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyUnavailable } from '../../shared/app/ports';
import { claimAttempts, staleMpnClaimMinutes } from '../../shared/app/directory';
import { mpnIndexId, mpnPartition } from '../../shared/domain/providers';
import {
  dyingAtWrite,
  failingPartnerWrites,
  gate,
  override,
  startSecondHost,
  startTestApp,
  type ApiResponse,
  type TestApp,
} from '../support/app';
import { createPartner, masterRecord, uniqueMpnId } from '../support/builders';
import { ManualClock } from '../support/clock';
import { newTenantId } from '../support/ids';

/**
 * One MPN ID identifies one partner (docs/rules.md): the ID is held by a create-only entry in a
 * partition of its own, so concurrent master-record writes cannot both take it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

const entriesFor = (mpnId: string) =>
  app.query('partners', `SELECT * FROM c WHERE c.type = 'mpn-index' AND c.mpnId = '${mpnId}'`);

async function put(target: TestApp, partnerId: string, record: ReturnType<typeof masterRecord>) {
  return target.api('PUT', `/api/operator/partners/${partnerId}`, {
    token: await target.operatorToken(),
    body: record,
  });
}

describe('one MPN ID, one partner', () => {
  it('gives an MPN ID to exactly one of 20 partners whose records are written at once; the others get 409 and nothing', async () => {
    const mpnId = uniqueMpnId();
    const partnerIds = Array.from({ length: 20 }, () => newTenantId());
    const responses = await Promise.all(
      partnerIds.map((partnerId) => put(app, partnerId, masterRecord({ mpnId }))),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 409)).toHaveLength(19);
    for (const refused of responses.filter((response) => response.status === 409)) {
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.body.code).toBe('conflict');
      expect(refused.body.detail).toBe(`MPN ID ${mpnId} is already recorded for another partner.`);
    }
    const winner = partnerIds[statuses.indexOf(201)]!;
    const entries = await entriesFor(mpnId);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ partnerId: `mpn:${mpnId}`, ownerId: winner });
    // The refused partners were not written at all.
    const records = await app.query(
      'partners',
      `SELECT c.partnerId FROM c WHERE c.type = 'partner' AND c.mpnId = '${mpnId}'`,
    );
    expect(records).toEqual([{ partnerId: winner }]);
  });

  it('moves a partner to a new MPN ID: the new entry is its own, the old one is free for another partner', async () => {
    const { partnerId, record } = await createPartner(app);
    const newMpnId = uniqueMpnId();
    const moved = await put(app, partnerId, { ...record, mpnId: newMpnId });
    expect(moved.status).toBe(200);
    expect(await entriesFor(newMpnId)).toMatchObject([{ ownerId: partnerId }]);
    expect(await entriesFor(record.mpnId!)).toEqual([]);
    const other = newTenantId();
    expect((await put(app, other, masterRecord({ mpnId: record.mpnId }))).status).toBe(201);
    expect(await entriesFor(record.mpnId!)).toMatchObject([{ ownerId: other }]);
  });

  it('refuses a stale If-Match with 412 and leaves the MPN ID free', async () => {
    const { partnerId, record } = await createPartner(app);
    const mpnId = uniqueMpnId();
    const stale = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
      body: { ...record, mpnId },
      headers: { 'if-match': '"stale-etag"' },
    });
    expect(stale.status).toBe(412);
    expect(await entriesFor(mpnId)).toEqual([]);
    expect((await put(app, newTenantId(), masterRecord({ mpnId }))).status).toBe(201);
  });

  it('keeps the MPN ID for a partner whose write crashed after the claim, and a rerun completes it once', async () => {
    const partnerId = newTenantId();
    const mpnId = uniqueMpnId();
    let failures = 1;
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((partition) =>
        partition === partnerId && failures-- > 0 ? new DependencyUnavailable('cosmos') : null,
      ),
    );
    try {
      const record = masterRecord({ mpnId });
      expect((await put(flaky, partnerId, record)).status).toBe(503);
      expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: partnerId }]);
      // Meanwhile another partner cannot take it.
      expect((await put(app, newTenantId(), masterRecord({ mpnId }))).status).toBe(409);
      const rerun = await put(flaky, partnerId, record);
      expect(rerun.status).toBe(201);
      expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: partnerId }]);
      expect(await app.documents(partnerId, 'partner')).toHaveLength(1);
    } finally {
      await flaky.close({ keepDatabase: true });
    }
  });

  it('lets another partner take an MPN ID left by a crashed write that nobody reran, once it is stale', async () => {
    const abandoned = newTenantId();
    const mpnId = uniqueMpnId();
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((partition) =>
        partition === abandoned ? new DependencyUnavailable('cosmos') : null,
      ),
    );
    try {
      expect((await put(flaky, abandoned, masterRecord({ mpnId }))).status).toBe(503);
    } finally {
      await flaky.close({ keepDatabase: true });
    }
    const other = newTenantId();
    expect((await put(app, other, masterRecord({ mpnId }))).status).toBe(409);
    app.clock.advance({ minutes: staleMpnClaimMinutes + 1 });
    expect((await put(app, other, masterRecord({ mpnId }))).status).toBe(201);
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: other }]);
  });

  /** An MPN ID claimed by a write that crashed after the claim: its entry, and nobody's record. */
  async function abandonedClaim(): Promise<string> {
    const abandoned = newTenantId();
    const mpnId = uniqueMpnId();
    const flaky = await startSecondHost(
      app,
      failingPartnerWrites((partition) =>
        partition === abandoned ? new DependencyUnavailable('cosmos') : null,
      ),
    );
    try {
      expect((await put(flaky, abandoned, masterRecord({ mpnId }))).status).toBe(503);
    } finally {
      await flaky.close({ keepDatabase: true });
    }
    return mpnId;
  }

  it('takes over a claim left by a crashed write at exactly 60 minutes, not a millisecond before', async () => {
    const mpnId = await abandonedClaim();
    const [entry] = await entriesFor(mpnId);
    const other = newTenantId();
    const stale = Date.parse(entry.claimedAt) + staleMpnClaimMinutes * 60_000;
    app.clock.set(new Date(stale - 1));
    expect((await put(app, other, masterRecord({ mpnId }))).status).toBe(409);
    app.clock.set(new Date(stale));
    expect((await put(app, other, masterRecord({ mpnId }))).status).toBe(201);
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: other }]);
  });

  it('gives a stale claim to one of two partners taking it over at once: the one that read it before the other took it gets 409', async () => {
    const mpnId = await abandonedClaim();
    app.clock.advance({ minutes: staleMpnClaimMinutes + 1 });
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const found = await services.partners.getDocument(partition, id);
          if (armed && id === mpnIndexId(mpnId) && found) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    const [first, second] = [newTenantId(), newTenantId()];
    try {
      const late = put(slow, second, masterRecord({ mpnId })); // reads the stale claim, waits
      await held.reached;
      expect((await put(app, first, masterRecord({ mpnId }))).status).toBe(201);
      held.open();
      expect((await late).status).toBe(409);
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: first }]);
    expect(await app.documents(second, 'partner')).toEqual([]);
  });

  /**
   * An owner moves from a stale claim to another MPN ID while another partner takes the old ID
   * over, at `when` of the owner's release: after its host read the old entry to delete it, or
   * before it came to read it. The taker keeps the ID, and nobody else may take it.
   */
  async function takenOverDuringRelease(when: 'after-read' | 'before-read'): Promise<void> {
    const owner = newTenantId();
    const [old, moved] = [uniqueMpnId(), uniqueMpnId()];
    expect((await put(app, owner, masterRecord({ mpnId: old }))).status).toBe(201);
    app.clock.advance({ minutes: staleMpnClaimMinutes + 1 });
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const holds = armed && id === mpnIndexId(old);
          if (holds && when === 'before-read') {
            armed = false;
            await held.hold();
          }
          const found = await services.partners.getDocument(partition, id);
          if (holds && when === 'after-read' && found) {
            armed = false;
            await held.hold();
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    const taker = newTenantId();
    try {
      const moving = put(slow, owner, masterRecord({ mpnId: moved }));
      await held.reached;
      // ...while another partner takes the old ID over (its owner's record no longer holds it).
      expect((await put(app, taker, masterRecord({ mpnId: old }))).status).toBe(201);
      held.open();
      expect((await moving).status).toBe(200);
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
    expect(await entriesFor(old)).toMatchObject([{ ownerId: taker }]);
    // So nobody else can take it while the taker's record holds it.
    expect((await put(app, newTenantId(), masterRecord({ mpnId: old }))).status).toBe(409);
  }

  it('does not let go of an MPN ID another partner took over after the old owner read it to let it go', async () => {
    await takenOverDuringRelease('after-read');
  });

  it("never lets another partner take an MPN ID its owner's record holds, however old the claim", async () => {
    const { record } = await createPartner(app);
    app.clock.advance({ days: 30 });
    const refused = await put(app, newTenantId(), masterRecord({ mpnId: record.mpnId }));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('conflict');
  });

  it('takes up its own claim again on a rerun after a crash without writing it again', async () => {
    const [partnerId, mpnId] = [newTenantId(), uniqueMpnId()];
    const record = masterRecord({ mpnId });
    const dying = await startSecondHost(app, dyingAtWrite(2)); // the claim written, not the record
    try {
      expect((await put(dying, partnerId, record)).status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const written: string[] = [];
    const counting = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partition, operations) => {
          const etag = await services.partners.commit(partition, operations);
          written.push(partition);
          return etag;
        },
      }),
    }));
    try {
      expect((await put(counting, partnerId, record)).status).toBe(201);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    expect(written).toContain(partnerId);
    expect(written).not.toContain(mpnPartition(mpnId));
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: partnerId }]);
  });

  /**
   * A takeover of a stale claim whose entry is written by another `races` times between the
   * takeover's read and its write (each such write makes the takeover start over).
   */
  async function takeOverRacing(races: number): Promise<{ response: ApiResponse; mpnId: string }> {
    const mpnId = await abandonedClaim();
    app.clock.advance({ minutes: staleMpnClaimMinutes + 1 });
    let left = races;
    const racing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partition: string, id: string) => {
          const found = await services.partners.getDocument(partition, id);
          if (left > 0 && id === mpnIndexId(mpnId) && found) {
            left -= 1;
            await services.partners.commit(partition, [
              { op: 'replace', document: found.value as never, etag: found.etag },
            ]);
          }
          return found;
        }) as typeof services.partners.getDocument,
      }),
    }));
    try {
      return { response: await put(racing, newTenantId(), masterRecord({ mpnId })), mpnId };
    } finally {
      await racing.close({ keepDatabase: true });
    }
  }

  it(`starts a takeover over when the entry changed under it, up to ${claimAttempts} times`, async () => {
    const { response, mpnId } = await takeOverRacing(claimAttempts - 1);
    expect(response.status).toBe(201);
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: response.body.partnerId }]);
  });

  it(`gives up a takeover whose entry changed under it ${claimAttempts} times with 409, taking nothing`, async () => {
    const { response, mpnId } = await takeOverRacing(claimAttempts);
    expect(response.status).toBe(409);
    expect(response.body.detail).toBe(`MPN ID ${mpnId} is already recorded for another partner.`);
    const [entry] = await entriesFor(mpnId);
    expect(await app.documents(entry.ownerId, 'partner')).toEqual([]); // still the abandoned claim
  });

  it('answers 503 when Cosmos fails at the takeover of a stale claim, and a rerun takes it over', async () => {
    const mpnId = await abandonedClaim();
    app.clock.advance({ minutes: staleMpnClaimMinutes + 1 });
    const taker = newTenantId();
    const failing = await startSecondHost(
      app,
      failingPartnerWrites((partition, operations) =>
        partition === mpnPartition(mpnId) && operations[0]?.op === 'replace'
          ? new DependencyUnavailable('cosmos')
          : null,
      ),
    );
    try {
      const down = await put(failing, taker, masterRecord({ mpnId }));
      expect(down.status).toBe(503);
      expect(down.body.code).toBe('unavailable');
    } finally {
      await failing.close({ keepDatabase: true });
    }
    expect((await put(app, taker, masterRecord({ mpnId }))).status).toBe(201);
    expect(await entriesFor(mpnId)).toMatchObject([{ ownerId: taker }]);
  });

  /**
   * A PUT of `record` with the If-Match of the master record as `stored`, which another PUT
   * renames after this one claimed its MPN ID and before it writes the record: 412.
   */
  async function refusedAfterClaim(
    partnerId: string,
    stored: ReturnType<typeof masterRecord>,
    record: ReturnType<typeof masterRecord>,
  ): Promise<void> {
    const read = await app.api('GET', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
    });
    const held = gate();
    let armed = true;
    const slow = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partition, operations) => {
          if (armed && partition === partnerId) {
            armed = false;
            await held.hold();
          }
          return services.partners.commit(partition, operations);
        },
      }),
    }));
    try {
      const late = slow.api('PUT', `/api/operator/partners/${partnerId}`, {
        token: await slow.operatorToken(),
        body: record,
        headers: { 'if-match': read.headers.get('etag')! },
      });
      await held.reached;
      const renamed = { ...stored, companyName: `${stored.companyName} Renamed` };
      expect((await put(app, partnerId, renamed)).status).toBe(200);
      held.open();
      const refused = await late;
      expect(refused.status).toBe(412);
      expect(refused.body.code).toBe('precondition-failed');
    } finally {
      held.open();
      await slow.close({ keepDatabase: true });
    }
  }

  it('lets go of the MPN ID a PUT claimed when its write is refused with 412: another partner may take it at once', async () => {
    const { partnerId, record } = await createPartner(app);
    const mpnId = uniqueMpnId();
    await refusedAfterClaim(partnerId, record, { ...record, mpnId });
    expect(await entriesFor(mpnId)).toEqual([]);
    expect((await put(app, newTenantId(), masterRecord({ mpnId }))).status).toBe(201);
  });

  it('keeps the MPN ID its record holds when a change of country is refused with 412', async () => {
    const { partnerId, record } = await createPartner(app, { country: 'US' });
    await refusedAfterClaim(partnerId, record, { ...record, country: 'CA' });
    expect(await entriesFor(record.mpnId!)).toMatchObject([{ ownerId: partnerId }]);
    expect((await put(app, newTenantId(), masterRecord({ mpnId: record.mpnId }))).status).toBe(409);
  });

  it('keeps the MPN ID claimed by a crashed PUT when its rerun is refused with 412: another partner gets it only once stale', async () => {
    const { partnerId, record } = await createPartner(app);
    const moved = { ...record, mpnId: uniqueMpnId() };
    const dying = await startSecondHost(app, dyingAtWrite(2)); // the claim written, not the record
    try {
      expect((await put(dying, partnerId, moved)).status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    await refusedAfterClaim(partnerId, record, moved);
    expect(await entriesFor(moved.mpnId)).toMatchObject([{ ownerId: partnerId }]);
    expect((await put(app, newTenantId(), masterRecord({ mpnId: moved.mpnId }))).status).toBe(409);
  });

  it('does not let go of an MPN ID another partner took over before the old owner came to read it', async () => {
    await takenOverDuringRelease('before-read');
  });
});

describe('a provider moved to another MPN ID and renamed, crashed at each write', () => {
  /** A provider holding `old`, listed in the directory, about to move to `moved`. */
  async function providerMoving() {
    const partnerId = newTenantId();
    const [old, moved] = [uniqueMpnId(), uniqueMpnId()];
    const programs = {
      directBill: false,
      indirectProvider: { regions: ['US'], services: ['training-support'] },
    };
    const before = masterRecord({ mpnId: old, companyName: 'Adatum Moving', programs });
    expect((await put(app, partnerId, before)).status).toBe(201);
    const after = { ...before, mpnId: moved, companyName: 'Adatum Moved' };
    return { partnerId, old, moved, after };
  }
  const listed = async (partnerId: string) =>
    (await app.documents('directory', 'provider-listing')).filter(
      (listing: { providerId: string }) => listing.providerId === partnerId,
    );

  it('writes four times: the new ID claimed, the record, the directory listing, the old ID let go', async () => {
    const { partnerId, after } = await providerMoving();
    let writes = 0;
    const counting = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        commit: async (partition, operations) => {
          writes += 1;
          return services.partners.commit(partition, operations);
        },
      }),
    }));
    try {
      expect((await put(counting, partnerId, after)).status).toBe(200);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    expect(writes).toBe(4);
  });

  for (const write of [1, 2, 3, 4]) {
    it(`is completed by the same write again when the process dies at write ${write} of 4; an old ID it kept is free once stale`, async () => {
      const { partnerId, old, moved, after } = await providerMoving();
      const dying = await startSecondHost(app, dyingAtWrite(write));
      try {
        expect((await put(dying, partnerId, after)).status).toBe(500);
      } finally {
        await dying.close({ keepDatabase: true });
      }
      expect((await put(app, partnerId, after)).status).toBe(200);
      const [record] = await app.documents(partnerId, 'partner');
      expect(record).toMatchObject({ mpnId: moved, companyName: 'Adatum Moved' });
      expect(await entriesFor(moved)).toMatchObject([{ ownerId: partnerId }]);
      expect((await listed(partnerId)).map((listing) => listing.companyName)).toEqual([
        'Adatum Moved',
      ]);
      // The old ID is another partner's to take: at once when it was let go, else once its
      // claim is stale (the record no longer holds it).
      const other = newTenantId();
      const atOnce = await put(app, other, masterRecord({ mpnId: old }));
      if (write < 3) expect(atOnce.status).toBe(201);
      else {
        expect(atOnce.status).toBe(409);
        app.clock.advance({ minutes: staleMpnClaimMinutes });
        expect((await put(app, other, masterRecord({ mpnId: old }))).status).toBe(201);
      }
      expect(await entriesFor(old)).toMatchObject([{ ownerId: other }]);
    });
  }
});
