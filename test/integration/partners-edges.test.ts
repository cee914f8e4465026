import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WriteConflict, type PartnerDocument, type WriteOperation } from '../../shared/app/ports';
import { failingPartnerWrites, startTestApp, type TestApp } from '../support/app';
import { createPartner, globalAdminToken, masterRecord, profile } from '../support/builders';
import { newTenantId } from '../support/ids';

// The edges of master records and profiles a partner or an operator sees: the texts of a 404 and
// a 412, If-Match lists, the audit trail of an update, the recorded MPN ID, and what a write
// refused by a concurrent request answers (docs/api.md, If-Match).

/** What the next partner writes meet: each call may throw (or act as a concurrent request first). */
let fault:
  ((partnerId: string, operations: WriteOperation<PartnerDocument>[]) => Error | null) | null =
  null;

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    decorate: failingPartnerWrites((partnerId, operations) =>
      fault ? fault(partnerId, operations) : null,
    ),
  });
});
afterAll(() => app.close());

/** The next `times` writes of the partner are refused as changed by a concurrent request. */
function concurrentWrites(partnerId: string, times: number): void {
  let left = times;
  fault = (target) => {
    if (target !== partnerId || left === 0) return null;
    left -= 1;
    return new WriteConflict('changed', 0);
  };
}

const putProfile = (token: string, body: unknown, ifMatch?: string) =>
  app.api('PUT', '/api/me/profile', {
    token,
    body,
    ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }),
  });

async function partnerWithAdmin(overrides: Parameters<typeof createPartner>[1] = {}) {
  const { partnerId, record } = await createPartner(app, overrides);
  const token = await globalAdminToken(app, partnerId);
  const me = await app.api('GET', '/api/me', { token });
  return { partnerId, record, token, etag: me.headers.get('etag')! };
}

describe('the texts of a missing record and a stale If-Match', () => {
  it('answers 404 saying no partner record exists for the tenant', async () => {
    const tenant = newTenantId();
    const response = await app.api('GET', '/api/me', {
      token: await globalAdminToken(app, tenant),
    });
    expect(response.status).toBe(404);
    expect(response.body.detail).toContain('No partner record exists for this tenant');
  });

  it('answers a stale If-Match with 412 saying to read the record again', async () => {
    const { record, token, etag } = await partnerWithAdmin();
    expect((await putProfile(token, profile(record))).status).toBe(200);
    const stale = await putProfile(token, profile(record, { companyName: 'Changed' }), etag);
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('precondition-failed');
    expect(stale.body.detail).toContain('If-Match does not match its etag');
  });

  it('accepts an If-Match list whose items are spaced, with the current etag among them', async () => {
    const { record, token, etag } = await partnerWithAdmin();
    const listed = await putProfile(
      token,
      profile(record, { companyName: 'Listed' }),
      `"stale-etag", ${etag}`,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.profile.companyName).toBe('Listed');
  });

  it('refuses an If-Match naming an etag on a partner that does not exist yet with 412, creating nothing', async () => {
    const partnerId = newTenantId();
    const token = await app.operatorToken();
    const refused = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord(),
      headers: { 'if-match': '"some-etag"' },
    });
    expect(refused.status).toBe(412);
    expect(await app.documents(partnerId, 'partner')).toEqual([]);
    const starred = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord(),
      headers: { 'if-match': '*' },
    });
    expect(starred.status).toBe(201);
  });
});

describe('master record updates and profiles', () => {
  it('records an update of the master record in the audit trail, and a repeat not at all', async () => {
    const { partnerId, record } = await createPartner(app);
    const token = await app.operatorToken();
    const put = (body: unknown) =>
      app.api('PUT', `/api/operator/partners/${partnerId}`, { token, body });
    expect((await put({ ...record, companyName: 'Renamed Ltd' })).status).toBe(200);
    expect((await put({ ...record, companyName: 'Renamed Ltd' })).status).toBe(200);
    const audit = await app.documents(partnerId, 'audit');
    expect(audit.map((event) => event.action).sort()).toEqual([
      'master-record-updated',
      'partner-created',
    ]);
  });

  it('lets a partner without a recorded MPN ID confirm its profile with one', async () => {
    const { record, token } = await partnerWithAdmin({ mpnId: null });
    const response = await putProfile(token, profile(record, { mpnId: '7000001' }));
    expect(response.status).toBe(200);
    expect(response.body.profile.mpnId).toBe('7000001');
  });

  it('names the recorded MPN ID when refusing another', async () => {
    const { record, token } = await partnerWithAdmin({ mpnId: '7654320' });
    const response = await putProfile(token, profile(record, { mpnId: '1111112' }));
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([
      { path: 'body.mpnId', message: expect.stringContaining('(7654320)') },
    ]);
  });
});

describe('a write refused because another request changed the record meanwhile', () => {
  /** The operator's update of the master record (a new company name, so there is a write). */
  const rename = async (partnerId: string, record: object, ifMatch?: string) =>
    app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
      body: { ...record, companyName: 'Renamed Meanwhile Ltd' },
      ...(ifMatch === undefined ? {} : { headers: { 'if-match': ifMatch } }),
    });
  const companyName = async (partnerId: string) =>
    (await app.documents(partnerId, 'partner'))[0].companyName;

  it('answers 412 to a caller that pinned the version with If-Match', async () => {
    const { partnerId, record, etag } = await partnerWithAdmin();
    concurrentWrites(partnerId, 1);
    try {
      const response = await rename(partnerId, record, etag);
      expect(response.status).toBe(412);
      expect(response.body.detail).toBe('The record changed while saving; read it again.');
    } finally {
      fault = null;
    }
    expect(await companyName(partnerId)).toBe(record.companyName);
    // The refused update let go of nothing: the MPN ID the record holds stays this partner's.
    const other = await app.api('PUT', `/api/operator/partners/${newTenantId()}`, {
      token: await app.operatorToken(),
      body: masterRecord({ mpnId: record.mpnId }),
    });
    expect(other.status).toBe(409);
  });

  it('starts over for a caller whose If-Match is *', async () => {
    const { partnerId, record } = await partnerWithAdmin();
    concurrentWrites(partnerId, 1);
    try {
      expect((await rename(partnerId, record, '*')).status).toBe(200);
    } finally {
      fault = null;
    }
    expect(await companyName(partnerId)).toBe('Renamed Meanwhile Ltd');
  });

  it('starts over up to 5 attempts without If-Match, then answers 409 to try again', async () => {
    const fourTimes = await partnerWithAdmin();
    concurrentWrites(fourTimes.partnerId, 4);
    try {
      expect((await rename(fourTimes.partnerId, fourTimes.record)).status).toBe(200);
    } finally {
      fault = null;
    }

    const fiveTimes = await partnerWithAdmin();
    concurrentWrites(fiveTimes.partnerId, 5);
    try {
      const response = await rename(fiveTimes.partnerId, fiveTimes.record);
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('conflict');
      expect(response.body.detail).toBe(
        'The record was changed by several requests at once; try again.',
      );
    } finally {
      fault = null;
    }
    expect(await companyName(fiveTimes.partnerId)).toBe(fiveTimes.record.companyName);
  });

  it('does not start over when the write failed otherwise, or on another document of the batch', async () => {
    for (const failure of [new Error('disk on fire'), new WriteConflict('changed', 1)]) {
      const { partnerId, record } = await partnerWithAdmin();
      let failed = false;
      fault = (target) => {
        if (target !== partnerId || failed) return null;
        failed = true;
        return failure;
      };
      try {
        const response = await rename(partnerId, record);
        expect(response.status).toBe(failure instanceof WriteConflict ? 409 : 500);
      } finally {
        fault = null;
      }
      expect(await companyName(partnerId)).toBe(record.companyName);
    }
  });

  it('answers 409 to a create refused on another document of its batch, creating nothing', async () => {
    const partnerId = newTenantId();
    let refused = false;
    fault = (target, operations) => {
      if (target !== partnerId || refused || operations[0]?.op !== 'create') return null;
      refused = true;
      return new WriteConflict('exists', 1);
    };
    try {
      const response = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
        token: await app.operatorToken(),
        body: masterRecord({ mpnId: null }),
      });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('conflict');
    } finally {
      fault = null;
    }
    expect(await app.documents(partnerId, 'partner')).toEqual([]);
  });

  it('turns a create that lost to a concurrent create of the same partner into an update (200)', async () => {
    const partnerId = newTenantId();
    const record = masterRecord();
    const body = { ...record, companyName: 'Second Writer Ltd' };
    // The concurrent request creates the partner first; ours then meets its create refused.
    const first = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await app.operatorToken(),
      body: record,
    });
    expect(first.status).toBe(201);
    let refused = false;
    fault = (target, operations) => {
      if (target !== partnerId || refused || operations[0]?.op !== 'create') return null;
      refused = true;
      return new WriteConflict('exists', 0);
    };
    try {
      // Our request read no partner (a stand-in for reading before the other create landed).
      const response = await racingCreate(partnerId, body);
      expect(response.status).toBe(200);
      expect(response.body.companyName).toBe('Second Writer Ltd');
    } finally {
      fault = null;
    }
  });
});

/** A PUT whose read of the partner finds none (as before a concurrent create landed). */
async function racingCreate(partnerId: string, body: unknown) {
  let first = true;
  const blind = await startTestApp({
    clock: app.clock,
    env: { COSMOS_DATABASE: app.config.cosmos.database },
    decorate: (services) =>
      failingPartnerWrites((target, operations) => (fault ? fault(target, operations) : null))({
        ...services,
        partners: new Proxy(services.partners, {
          get(object, property, receiver) {
            if (property === 'get') {
              return async (id: string) => {
                if (id === partnerId && first) {
                  first = false;
                  return null;
                }
                return object.get(id);
              };
            }
            const value = Reflect.get(object, property, receiver) as unknown;
            return typeof value === 'function' ? value.bind(object) : value;
          },
        }),
      }),
  });
  try {
    return await blind.api('PUT', `/api/operator/partners/${partnerId}`, {
      token: await blind.operatorToken(),
      body,
    });
  } finally {
    await blind.close({ keepDatabase: true });
  }
}

describe('an If-Match on a partner that does not exist yet', () => {
  it('is refused even when it names the empty etag "": no version of a record that does not exist matches it', async () => {
    const partnerId = newTenantId();
    const token = await app.operatorToken();
    const refused = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord(),
      headers: { 'if-match': '""' },
    });
    expect(refused.status).toBe(412);
    expect(refused.body.code).toBe('precondition-failed');
    expect(await app.documents(partnerId, 'partner')).toEqual([]);
    const listed = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
      token,
      body: masterRecord(),
      headers: { 'if-match': '"", W/""' },
    });
    expect(listed.status).toBe(412);
    expect(await app.documents(partnerId, 'partner')).toEqual([]);
  });
});

describe('a profile saved while other requests change the partner', () => {
  it('starts over up to 5 attempts without If-Match, then answers the declared 409 to try again', async () => {
    const fourTimes = await partnerWithAdmin();
    concurrentWrites(fourTimes.partnerId, 4);
    try {
      expect((await putProfile(fourTimes.token, profile(fourTimes.record))).status).toBe(200);
    } finally {
      fault = null;
    }
    const fiveTimes = await partnerWithAdmin();
    concurrentWrites(fiveTimes.partnerId, 5);
    try {
      const response = await putProfile(fiveTimes.token, profile(fiveTimes.record));
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('conflict');
      expect(response.body.detail).toBe(
        'The record was changed by several requests at once; try again.',
      );
    } finally {
      fault = null;
    }
    // Nothing was written: the partner is the version it was before.
    const me = await app.api('GET', '/api/me', { token: fiveTimes.token });
    expect(me.headers.get('etag')).toBe(fiveTimes.etag);
  });
});
