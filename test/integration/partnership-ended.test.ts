import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpFunctions } from '../../functions/table';
import type { ProblemCode } from '../../shared/domain/errors';
import type { HttpFunctionDefinition } from '../../shared/http/define';
import { jsonSchemaOf, validSample } from '../support/arbitraries';
import {
  dyingAtWrite,
  override,
  startSecondHost,
  startTestApp,
  type TestApp,
} from '../support/app';
import { pathFor } from '../support/attack';
import { ManualClock } from '../support/clock';
import { newCustomer, uniqueDomain } from '../support/customers';
import { activeReseller } from '../support/enrollment';
import { createProvider, inviteReseller, tokenOf } from '../support/providers';
import { extend, pendingTransfer, requestTransfer } from '../support/transfers';

/**
 * docs/rules.md section 8b, "An ended partnership stays ended": until a new invitation is
 * accepted, nothing brings it back on either side, and nothing more is done for the pair.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-03-02T09:00:00.000Z') });
});
afterAll(() => app.close());

type World = Awaited<ReturnType<typeof pendingTransfer>>;

const end = (world: World) =>
  app.api('DELETE', `/api/me/indirect-resellers/${world.reseller.partnerId}`, {
    token: world.provider.adminToken,
  });

const acceptPartnerLink = (world: World, link: string) =>
  app.api('POST', '/api/partner-invitations/accept', {
    token: world.reseller.adminToken,
    body: { token: tokenOf(link) },
  });

async function draftCustomerInvitation(world: World) {
  const drafted = await app.api('POST', '/api/me/customer-invitations', {
    token: world.reseller.adminToken,
    body: { providerId: world.provider.partnerId },
  });
  expect(drafted.status).toBe(201);
  return drafted.body as {
    invitationId: string;
    link: string;
    draft: { subject: string; body: string };
  };
}

const customerAdmin = (customerId = randomUUID()) =>
  app.token({ tenant: customerId, roles: ['GlobalAdmin'], name: 'Casey Customer' });

const acceptCustomerLink = async (link: string, customerId = randomUUID()) =>
  app.api('POST', '/api/customer-invitations/accept', {
    token: await customerAdmin(customerId),
    body: {
      token: tokenOf(link),
      companyName: 'Tailspin Toys',
      domain: uniqueDomain('tailspin'),
      country: 'US',
    },
  });

/** Every document of both containers, as stored: equal before and after means nothing written. */
async function snapshot(): Promise<unknown[]> {
  const all = await app.allDocuments();
  return [...(all.partners ?? []), ...(all.customers ?? [])]
    .map((document) => JSON.stringify(document))
    .sort();
}

/**
 * The pair as it stood before the end: a pending transfer of an extended customer, a second
 * invitation the provider sent the reseller before it accepted the first, and a customer
 * invitation drafted with the provider. Then the provider ends the partnership.
 */
async function endedPartnership() {
  const world = await pendingTransfer(app, { moreInvitations: 1 });
  const customerInvitation = await draftCustomerInvitation(world);
  app.clock.advance({ days: 1 });
  expect((await end(world)).status).toBe(200);
  return { ...world, customerInvitation };
}

const sides = async (world: World) => ({
  reseller: (await app.documents(world.reseller.partnerId, 'partnership')).map(
    (side: { status: string }) => side.status,
  ),
  provider: (await app.documents(world.provider.partnerId, 'partnership')).map(
    (side: { status: string }) => side.status,
  ),
});

describe('an ended partnership stays ended', () => {
  it('answers the used link replayed after the end with 410, writing nothing on either side, even 40 days later', async () => {
    const world = await endedPartnership();
    const before = await snapshot();
    const replayed = await acceptPartnerLink(world, world.invitations.accepted.link);
    expect(replayed.status).toBe(410);
    expect(replayed.body.code).toBe('invitation-used');
    app.clock.advance({ days: 40 });
    expect((await acceptPartnerLink(world, world.invitations.accepted.link)).status).toBe(410);
    expect(await snapshot()).toEqual(before);
    expect(await sides(world)).toEqual({ reseller: ['ended'], provider: ['ended'] });
    // And the reseller can do nothing more with the provider.
    for (const refused of [
      await extend(app, world),
      await requestTransfer(app, world, [world.subscriptions.phone]),
      await app.api('POST', '/api/me/customer-invitations', {
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId },
      }),
    ]) {
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('partnership-ended');
      // It names the partnership that ended and what would start another.
      expect(refused.body.detail).toContain(
        `Your partnership with ${world.provider.record.companyName} has ended`,
      );
      expect(refused.body.detail).toMatch(/until a new partnership invitation is accepted/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("restarts no ended side even when the replay read the provider's side just before the end", async () => {
    const world = await pendingTransfer(app);
    const id = `partnership-${world.reseller.partnerId}`;
    const { _etag, _rid, _self, _ts, _attachments, ...asRead } = await app.pointRead(
      world.provider.partnerId,
      id,
    );
    expect((await end(world)).status).toBe(200);
    // A host whose read of the provider's side is the one made before the end.
    const late = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, {
        getDocument: (async (partnerId: string, documentId: string) =>
          partnerId === world.provider.partnerId && documentId === id
            ? { value: asRead, etag: _etag }
            : services.partners.getDocument(partnerId, documentId)) as never,
      }),
    }));
    try {
      const before = await snapshot();
      const replayed = await late.api('POST', '/api/partner-invitations/accept', {
        token: world.reseller.adminToken,
        body: { token: tokenOf(world.invitations.accepted.link) },
      });
      expect(replayed.status).toBe(410);
      expect(await snapshot()).toEqual(before);
    } finally {
      await late.close({ keepDatabase: true });
    }
  });

  it('writes no side for a reseller whose accept died before its side was written, once the provider ended the partnership', async () => {
    const provider = await createProvider(app);
    const reseller = await activeReseller(app);
    const invited = await inviteReseller(app, provider, reseller);
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const died = await dying.api('POST', '/api/partner-invitations/accept', {
        token: reseller.adminToken,
        body: { token: tokenOf(invited.body.link) },
      });
      expect(died.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    const ended = await app.api('DELETE', `/api/me/indirect-resellers/${reseller.partnerId}`, {
      token: provider.adminToken,
    });
    expect(ended.status).toBe(200);
    const before = await snapshot();
    const replayed = await app.api('POST', '/api/partner-invitations/accept', {
      token: reseller.adminToken,
      body: { token: tokenOf(invited.body.link) },
    });
    expect(replayed.status).toBe(410);
    expect(await snapshot()).toEqual(before);
    expect(await app.documents(reseller.partnerId, 'partnership')).toEqual([]);
  });

  it("revokes the provider's invitations still open to that reseller: accepting one answers 410 and restarts neither side", async () => {
    const world = await endedPartnership();
    const [older] = world.invitations.pending;
    const listed = await app.api('GET', '/api/me/reseller-invitations', {
      token: world.provider.adminToken,
    });
    expect(
      listed.body.items.map((item: { invitationId: string; status: string }) => [
        item.invitationId,
        item.status,
      ]),
    ).toEqual(
      expect.arrayContaining([
        [world.invitations.accepted.invitationId, 'accepted'],
        [older!.invitationId, 'revoked'],
      ]),
    );
    // The provider's audit trail says which invitation the end revoked, and why.
    const revocations = (await app.documents(world.provider.partnerId, 'audit'))
      .filter((event: { action: string }) => event.action === 'reseller-invitation-revoked')
      .map((event: { reason: string }) => event.reason);
    expect(revocations).toEqual([`invitation ${older!.invitationId}: the partnership ended`]);
    const before = await snapshot();
    const accepted = await acceptPartnerLink(world, older!.link);
    expect(accepted.status).toBe(410);
    expect(accepted.body.code).toBe('invitation-revoked');
    expect(await snapshot()).toEqual(before);
    expect(await sides(world)).toEqual({ reseller: ['ended'], provider: ['ended'] });
  });

  it('restarts only with an invitation sent after the end, even when the end has not revoked the older one yet', async () => {
    const world = await pendingTransfer(app, { moreInvitations: 1 });
    // A host whose end stops short of revoking the open invitations: an accept that read the
    // older invitation just before the end revoked it.
    const racing = await startSecondHost(app, (services) => ({
      ...services,
      partners: override(services.partners, { openInvitationsTo: async () => [] }),
    }));
    try {
      app.clock.advance({ days: 1 });
      const ended = await racing.api(
        'DELETE',
        `/api/me/indirect-resellers/${world.reseller.partnerId}`,
        { token: world.provider.adminToken },
      );
      expect(ended.status).toBe(200);
    } finally {
      await racing.close({ keepDatabase: true });
    }
    const before = await snapshot();
    const accepted = await acceptPartnerLink(world, world.invitations.pending[0]!.link);
    expect(accepted.status).toBe(410);
    expect(accepted.body.code).toBe('invitation-revoked');
    expect(await snapshot()).toEqual(before);
    expect(await sides(world)).toEqual({ reseller: ['ended'], provider: ['ended'] });
  });

  it('leaves an invitation sent after the end open when the end is repeated, and lets it start the partnership again', async () => {
    const world = await endedPartnership();
    app.clock.advance({ days: 2 });
    const fresh = await inviteReseller(app, world.provider, world.reseller);
    expect(fresh.status).toBe(201);
    expect((await end(world)).status).toBe(200);
    const accepted = await acceptPartnerLink(world, fresh.body.link);
    expect(accepted.status).toBe(200);
    expect(await sides(world)).toEqual({ reseller: ['active'], provider: ['active'] });
    // The old link replayed now writes nothing either: the new partnership is its own.
    const before = await snapshot();
    expect((await acceptPartnerLink(world, world.invitations.accepted.link)).status).toBe(410);
    expect(await snapshot()).toEqual(before);
  });

  it('counts an invitation sent in the very millisecond of the end as sent after it: a repeated end leaves it open', async () => {
    const world = await endedPartnership();
    const fresh = await inviteReseller(app, world.provider, world.reseller);
    expect(fresh.status).toBe(201);
    expect((await end(world)).status).toBe(200);
    const accepted = await acceptPartnerLink(world, fresh.body.link);
    expect(accepted.status).toBe(200);
    expect(await sides(world)).toEqual({ reseller: ['active'], provider: ['active'] });
  });

  it('refuses to send, hand over or accept a customer invitation drafted before the end, with 409 partnership-ended', async () => {
    const world = await endedPartnership();
    const invitation = world.customerInvitation;
    const before = await snapshot();
    const sent = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/send`,
      {
        token: world.reseller.adminToken,
        body: { to: 'dana@wingtiptoys.example', ...invitation.draft },
      },
    );
    const done = await app.api(
      'POST',
      `/api/me/customer-invitations/${invitation.invitationId}/done`,
      { token: world.reseller.adminToken },
    );
    const customerId = randomUUID();
    const accepted = await acceptCustomerLink(invitation.link, customerId);
    for (const refused of [sent, done, accepted]) {
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('partnership-ended');
    }
    expect(await snapshot()).toEqual(before);
    // The ex-provider has no new customer, and cannot order for one.
    const seen = await app.api('GET', `/api/me/customers/${customerId}`, {
      token: world.provider.adminToken,
    });
    expect(seen.status).toBe(404);
  });

  it('keeps a customer invitation of the ended partnership refused after a new partnership starts', async () => {
    const world = await endedPartnership();
    const fresh = await inviteReseller(app, world.provider, world.reseller);
    expect((await acceptPartnerLink(world, fresh.body.link)).status).toBe(200);
    const accepted = await acceptCustomerLink(world.customerInvitation.link);
    expect(accepted.status).toBe(409);
    expect(accepted.body.code).toBe('partnership-ended');
    // One drafted in the new partnership is accepted.
    const renewed = await draftCustomerInvitation(world);
    expect((await acceptCustomerLink(renewed.link)).status).toBe(200);
  });

  it("reads both sides: ended on the provider's side only (the end died before the reseller's), the reseller can do nothing more with it", async () => {
    const world = await pendingTransfer(app);
    const invitation = await draftCustomerInvitation(world);
    const dying = await startSecondHost(app, dyingAtWrite(2));
    try {
      const died = await dying.api(
        'DELETE',
        `/api/me/indirect-resellers/${world.reseller.partnerId}`,
        { token: world.provider.adminToken },
      );
      expect(died.status).toBe(500);
    } finally {
      await dying.close({ keepDatabase: true });
    }
    expect(await sides(world)).toEqual({ reseller: ['active'], provider: ['ended'] });
    const before = await snapshot();
    for (const refused of [
      await extend(app, world),
      await requestTransfer(app, world, [world.subscriptions.phone]),
      await app.api('POST', '/api/me/customer-invitations', {
        token: world.reseller.adminToken,
        body: { providerId: world.provider.partnerId },
      }),
      await acceptCustomerLink(invitation.link),
    ]) {
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('partnership-ended');
    }
    expect(await snapshot()).toEqual(before);
    // The pending transfer cannot be accepted either: it is cancelled on the spot.
    const accepted = await app.api('POST', `/api/me/transfers/${world.transferId}/accept`, {
      token: world.provider.adminToken,
    });
    expect(accepted.status).toBe(409);
    // Ending again completes the reseller's side.
    expect((await end(world)).status).toBe(200);
    expect(await sides(world)).toEqual({ reseller: ['ended'], provider: ['ended'] });
  });
});

/**
 * After the end, every route that acts for a provider and reseller pair, generated from the
 * function table like the authorization matrix: a route acts for the pair when it names a
 * transfer or a reseller ({transferId}, {resellerId}), an invitation of either, or a provider,
 * reseller, MPN ID or link in its body or query. Each is tried with the pair's ids and links by
 * the reseller, the provider and a customer tenant, and must be refused (or, for reads and
 * repeats, change nothing) with nothing written on either side.
 */
type AfterTheEnd = { refused: ProblemCode } | { unchanged: string } | { allowed: string };

const afterTheEnd: Record<string, AfterTheEnd> = {
  'POST partner-invitations/accept': { refused: 'invitation-used' },
  'POST partner-invitations/lookup': { unchanged: 'a lookup reads the link, used or revoked' },
  'POST customer-invitations/accept': { refused: 'partnership-ended' },
  'POST customer-invitations/lookup': { unchanged: 'a lookup reads the link' },
  'POST incentive-invitations/lookup': {
    unchanged: 'the pair’s link is no incentives link: unknown (404)',
  },
  'POST me/customer-invitations': { refused: 'partnership-ended' },
  'POST me/customer-invitations/{invitationId}/send': { refused: 'partnership-ended' },
  'POST me/customer-invitations/{invitationId}/done': { refused: 'partnership-ended' },
  'DELETE me/customer-invitations/{invitationId}': {
    allowed:
      'withdrawing an invitation changes nothing for the pair (customer-invitations.test.ts › "revokes it for the reseller")',
  },
  'POST me/customers/{customerId}/relationship-extension': { refused: 'partnership-ended' },
  'GET me/customers/{customerId}/transfers/eligibility': { refused: 'partnership-ended' },
  'POST me/customers/{customerId}/transfers': { refused: 'partnership-ended' },
  'POST me/customers': { refused: 'partnership-ended' },
  'GET me/transfers/{transferId}': { unchanged: 'reading the cancelled transfer' },
  'POST me/transfers/{transferId}/accept': { refused: 'conflict' },
  'POST me/transfers/{transferId}/reject': { refused: 'conflict' },
  'POST me/transfers/{transferId}/withdraw': { refused: 'conflict' },
  'DELETE me/indirect-resellers/{resellerId}': { unchanged: 'ending again answers as before' },
  'DELETE me/reseller-invitations/{invitationId}': {
    unchanged: 'the end revoked the open invitation already',
  },
  'POST me/reseller-invitations': {
    allowed:
      'a new invitation is how a partnership starts again (partnership-end.test.ts › "lets a later invitation start a new partnership")',
  },
  'PUT me/profile': { allowed: "a partner's own profile names its own MPN ID, no pair" },
  'PUT operator/partners/{partnerId}': {
    allowed: 'an operator keeping a master record acts for no pair (partners.test.ts)',
  },
};

const pairParams = new Set(['resellerId', 'transferId']);
const pairFields = new Set(['providerId', 'indirectResellerId', 'mpnId', 'token']);

const fieldsOf = (schema: HttpFunctionDefinition['spec']['body']): string[] =>
  schema ? Object.keys(jsonSchemaOf(schema).properties ?? {}) : [];

function actsForThePair(definition: HttpFunctionDefinition): boolean {
  const params = [...definition.route.matchAll(/\{([A-Za-z][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  if (params.some((name) => pairParams.has(name))) return true;
  if (/^me\/(customer|reseller)-invitations\/\{invitationId\}/.test(definition.route)) return true;
  return [...fieldsOf(definition.spec.body), ...fieldsOf(definition.spec.query)].some((field) =>
    pairFields.has(field),
  );
}

const pairRows = httpFunctions()
  .filter(actsForThePair)
  .flatMap((definition) =>
    definition.methods.map((method) => ({
      key: `${method} ${definition.route}`,
      definition,
      method,
    })),
  );

describe('after the end, every route acting for the pair (generated from the function table)', () => {
  let world: Awaited<ReturnType<typeof endedPartnership>>;
  beforeAll(async () => {
    world = await endedPartnership();
  });

  it('has decided each such route, and only those', () => {
    expect(pairRows.map((row) => row.key).sort()).toEqual(Object.keys(afterTheEnd).sort());
  });

  it.each(pairRows.filter((row) => !('allowed' in (afterTheEnd[row.key] ?? {}))))(
    '$key answers as decided, writing nothing on either side',
    async ({ key, definition, method }) => {
      const expected = afterTheEnd[key]!;
      const link = (route: string) =>
        route.startsWith('customer-invitations')
          ? world.customerInvitation.link
          : world.invitations.accepted.link;
      const values: Record<string, string> = {
        resellerId: world.reseller.partnerId,
        transferId: world.transferId,
        customerId: world.customerId,
        providerId: world.provider.partnerId,
        indirectResellerId: world.reseller.partnerId,
        invitationId: definition.route.startsWith('me/customer-invitations')
          ? world.customerInvitation.invitationId
          : world.invitations.pending[0]!.invitationId,
        token: tokenOf(link(definition.route)),
        mpnId: world.reseller.record.mpnId!,
      };
      const bodies: Record<string, unknown> = {
        'POST me/customer-invitations/{invitationId}/send': {
          to: 'dana@wingtiptoys.example',
          ...world.customerInvitation.draft,
        },
        'POST customer-invitations/accept': {
          token: values.token,
          companyName: 'Tailspin Toys',
          domain: uniqueDomain('tailspin'),
          country: 'US',
        },
        'POST me/customers': {
          ...newCustomer({ companyName: 'Tailspin Toys' }),
          indirectResellerId: world.reseller.partnerId,
        },
        'POST me/customers/{customerId}/transfers': {
          providerId: world.provider.partnerId,
          lineItems: [{ subscriptionId: world.subscriptions.phone }],
        },
        'POST me/customers/{customerId}/relationship-extension': {
          providerId: world.provider.partnerId,
          customerConsentAttested: true,
        },
      };
      const withPairValues = (sample: unknown): unknown =>
        sample && typeof sample === 'object'
          ? Object.fromEntries(
              Object.entries(sample).map(([name, value]) => [name, values[name] ?? value]),
            )
          : sample;
      const path = pathFor(definition, (name) => values[name]!);
      const query = definition.spec.query
        ? `?${new URLSearchParams(
            Object.entries(
              withPairValues(validSample(definition.spec.query, key)) as Record<string, unknown>,
            ).map(([name, value]): [string, string] => [name, String(value)]),
          ).toString()}`
        : '';
      const body =
        method === 'GET' || method === 'DELETE'
          ? undefined
          : (bodies[key] ??
            (definition.spec.body
              ? withPairValues(validSample(definition.spec.body, key))
              : undefined));
      const before = await snapshot();
      const answers = [];
      for (const token of [
        world.reseller.adminToken,
        world.provider.adminToken,
        await customerAdmin(),
      ]) {
        answers.push(
          await app.api(method, `${path}${query}`, {
            token,
            ...(body === undefined ? {} : { body }),
          }),
        );
      }
      for (const answer of answers) expect(answer.status, answer.text).toBeLessThan(500);
      if ('refused' in expected) {
        for (const answer of answers)
          expect(answer.status, answer.text).toBeGreaterThanOrEqual(400);
        expect(answers.map((answer) => answer.body?.code)).toContain(expected.refused);
      }
      expect(await snapshot()).toEqual(before);
    },
  );
});
