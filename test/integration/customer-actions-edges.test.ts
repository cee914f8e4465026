import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../shared/app/services';
import {
  subscriptionDocumentId,
  userDocumentId,
  userNameClaimId,
} from '../../shared/domain/customers';
import { override, startSecondHost, startTestApp, type TestApp } from '../support/app';
import { createPartnerWithProfile } from '../support/builders';
import { ManualClock } from '../support/clock';
import { directCustomer, indirectCustomer } from '../support/customers';

/**
 * The edges of the customer actions (docs/rules.md sections 8b, 9 and 11, docs/api.md): what an
 * order and its subscriptions record, add-ons and their bases, quantity and seats, users and
 * licenses, and the answers to a change that lost a race.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ clock: new ManualClock('2026-04-06T10:00:00.000Z') });
});
afterAll(() => app.close());

const ordersOf = (customerId: string) => `/api/me/customers/${customerId}/orders`;
const subscriptionsOf = (customerId: string) => `/api/me/customers/${customerId}/subscriptions`;
const usersOf = (customerId: string) => `/api/me/customers/${customerId}/users`;

async function placeLicenses(customerId: string, token: string, quantities: number[]) {
  const placed = await app.api('POST', ordersOf(customerId), {
    token,
    body: {
      lineItems: quantities.map((quantity, index) => ({
        offerId: `m365-${index}`,
        productType: 'license',
        quantity,
      })),
    },
  });
  expect(placed.status, placed.text).toBe(201);
  return placed.body.lineItems.map(
    (item: { subscriptionId: string }) => item.subscriptionId,
  ) as string[];
}

async function subscriptionView(customerId: string, token: string, subscriptionId: string) {
  const listed = await app.api('GET', `${subscriptionsOf(customerId)}?pageSize=100`, { token });
  return listed.body.items.find(
    (item: { subscriptionId: string }) => item.subscriptionId === subscriptionId,
  );
}

/** A stored customer document rewritten as another writer would (a transfer, another host). */
async function rewrite(
  customerId: string,
  id: string,
  change: (document: Record<string, unknown>) => Record<string, unknown>,
) {
  const found = await app.services.customers.getDocument(customerId, id);
  expect(found, id).not.toBeNull();
  await app.services.customers.commit(customerId, [
    { op: 'replace', document: change(found!.value as never) as never, etag: found!.etag },
  ]);
}

/**
 * A second host on which another writer rewrites `documentId` (unchanged, a new etag) right
 * after the host's first read of it: the request then writes over a version no longer there.
 */
async function racedOn(documentId: string) {
  let armed = true;
  return startSecondHost(app, (services: Services) => ({
    ...services,
    customers: override(services.customers, {
      getDocument: (async (customerId: string, id: string) => {
        const found = await services.customers.getDocument(customerId, id);
        if (armed && found && id === documentId) {
          armed = false;
          await services.customers.commit(customerId, [
            { op: 'replace', document: found.value, etag: found.etag },
          ]);
        }
        return found;
      }) as typeof services.customers.getDocument,
    }),
  }));
}

async function newUser(customerId: string, token: string, name: string) {
  const created = await app.api('POST', usersOf(customerId), {
    token,
    body: { displayName: name, userPrincipalName: `${name}@edges.example` },
  });
  expect(created.status, created.text).toBe(201);
  return created.body.userId as string;
}

describe('an order', () => {
  it('answers and lists who placed it, who bills it and each line item with its subscription; each subscription starts active, renewing, no seat taken', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const placed = await app.api('POST', ordersOf(customerId), {
      token,
      body: {
        lineItems: [
          { offerId: 'm365-e3', productType: 'license', quantity: 3 },
          { offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 },
        ],
      },
    });
    expect(placed.status).toBe(201);
    const [license, plan] = placed.body.lineItems.map(
      (item: { subscriptionId: string }) => item.subscriptionId,
    );
    expect(license).not.toBe(plan);
    const at = app.clock.now().toISOString();
    const expected = {
      orderId: expect.any(String),
      customerId,
      placedBy: partner.partnerId,
      billedBy: partner.partnerId,
      lineItems: [
        { offerId: 'm365-e3', productType: 'license', quantity: 3, subscriptionId: license },
        { offerId: 'azure-plan', productType: 'azure-plan', quantity: 1, subscriptionId: plan },
      ],
      createdAt: at,
    };
    expect(placed.body).toEqual(expected);
    const history = await app.api('GET', ordersOf(customerId), { token });
    expect(history.body).toEqual({ items: [placed.body], continuationToken: null });

    const common = {
      orderId: placed.body.orderId,
      assignedLicenses: 0,
      autoRenew: true,
      billedBy: partner.partnerId,
      status: 'active',
      baseSubscriptionId: null,
      createdAt: at,
      updatedAt: at,
      etag: expect.any(String),
    };
    expect(await subscriptionView(customerId, token, license)).toEqual({
      ...common,
      subscriptionId: license,
      offerId: 'm365-e3',
      productType: 'license',
      quantity: 3,
    });
    expect(await subscriptionView(customerId, token, plan)).toEqual({
      ...common,
      subscriptionId: plan,
      offerId: 'azure-plan',
      productType: 'azure-plan',
      quantity: 1,
    });
  });

  it("placed by a provider is the provider's to bill, listed in the provider's history, its subscriptions seen by the reseller too", async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app);
    const [subscriptionId] = await placeLicenses(customerId, provider.adminToken, [4]);
    const history = await app.api('GET', ordersOf(customerId), { token: provider.adminToken });
    expect(history.body.items).toEqual([
      expect.objectContaining({ placedBy: provider.partnerId, billedBy: provider.partnerId }),
    ]);
    const stored = await app.query(
      'customers',
      `SELECT c.type, c.partners FROM c WHERE c.customerId = '${customerId}' AND (c.type = 'order' OR c.type = 'subscription')`,
    );
    expect(stored).toHaveLength(2);
    for (const document of stored)
      expect([...document.partners].sort(), document.type).toEqual(
        [provider.partnerId, reseller.partnerId].sort(),
      );
    expect(await subscriptionView(customerId, reseller.adminToken, subscriptionId!)).toMatchObject({
      billedBy: provider.partnerId,
      quantity: 4,
    });
  });
});

describe('an order in the transition counts (docs/rules.md section 14)', () => {
  it("counts a provider's order for its indirect customer as no direct-bill subscription of anyone's", async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app);
    await placeLicenses(customerId, provider.adminToken, [2, 2]);
    await app.runTimer('deliverEvents');
    for (const partnerId of [provider.partnerId, reseller.partnerId]) {
      const counts = await app.documents(partnerId, 'transition-counts');
      expect(
        counts.map((document) => document.subscriptions?.directBillActive ?? 0),
        partnerId,
      ).toEqual(counts.map(() => 0));
    }
  });
});

describe('an add-on and its base (docs/rules.md section 8b)', () => {
  it('records the license base of a license add-on', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [base] = await placeLicenses(customerId, token, [5]);
    const addOn = await app.api('POST', ordersOf(customerId), {
      token,
      body: {
        lineItems: [
          {
            offerId: 'audio-conferencing',
            productType: 'license',
            quantity: 5,
            baseSubscriptionId: base,
          },
        ],
      },
    });
    expect(addOn.status, addOn.text).toBe(201);
    expect(addOn.body.lineItems[0]).toMatchObject({ baseSubscriptionId: base });
    const subscription = await subscriptionView(
      customerId,
      token,
      addOn.body.lineItems[0].subscriptionId,
    );
    expect(subscription).toMatchObject({ offerId: 'audio-conferencing', baseSubscriptionId: base });
  });

  it('refuses, each at its own line item, an add-on that is no license and a base that is unknown, suspended, billed by another partner or no license; nothing is written', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [good, suspended, foreign] = await placeLicenses(customerId, token, [2, 2, 2]);
    await rewrite(customerId, subscriptionDocumentId(suspended!), (document) => ({
      ...document,
      status: 'suspended',
    }));
    const plan = await app.api('POST', ordersOf(customerId), {
      token,
      body: { lineItems: [{ offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 }] },
    });
    const azurePlan = plan.body.lineItems[0].subscriptionId as string;
    const other = await createPartnerWithProfile(app);
    await rewrite(customerId, subscriptionDocumentId(foreign!), (document) => ({
      ...document,
      billedBy: other.partnerId,
    }));
    const before = await app.query(
      'customers',
      `SELECT VALUE c.id FROM c WHERE c.customerId = '${customerId}'`,
    );
    const item = (baseSubscriptionId: string, productType = 'license') => ({
      offerId: 'add-on',
      productType,
      quantity: 1,
      baseSubscriptionId,
    });
    const refused = await app.api('POST', ordersOf(customerId), {
      token,
      body: {
        lineItems: [
          item(good!),
          item(good!, 'software'),
          item(crypto.randomUUID()),
          item(suspended!),
          item(foreign!),
          item(azurePlan),
        ],
      },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('validation-failed');
    const notActive = 'is not an active license subscription you bill';
    expect(
      [...refused.body.errors].sort((a: { path: string }, b: { path: string }) =>
        a.path.localeCompare(b.path),
      ),
    ).toEqual([
      {
        path: 'body.lineItems.1.baseSubscriptionId',
        message: 'only a license subscription can be an add-on',
      },
      { path: 'body.lineItems.2.baseSubscriptionId', message: notActive },
      { path: 'body.lineItems.3.baseSubscriptionId', message: notActive },
      { path: 'body.lineItems.4.baseSubscriptionId', message: notActive },
      { path: 'body.lineItems.5.baseSubscriptionId', message: notActive },
    ]);
    const after = await app.query(
      'customers',
      `SELECT VALUE c.id FROM c WHERE c.customerId = '${customerId}'`,
    );
    expect(after.sort()).toEqual(before.sort());
  });
});

describe('changing a subscription', () => {
  it('lowers the quantity to the seats assigned but not below: 409 names both numbers', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [subscriptionId] = await placeLicenses(customerId, token, [3]);
    for (const name of ['ada', 'grace']) {
      const userId = await newUser(customerId, token, `${name}-${subscriptionId!.slice(0, 6)}`);
      const assigned = await app.api(
        'POST',
        `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`,
        { token },
      );
      expect(assigned.status).toBe(200);
    }
    const path = `${subscriptionsOf(customerId)}/${subscriptionId}`;
    const below = await app.api('PATCH', path, { token, body: { quantity: 1 } });
    expect(below.status).toBe(409);
    expect(below.body.code).toBe('conflict');
    expect(below.body.detail).toBe(
      '2 licenses are assigned; remove some before lowering the quantity to 1.',
    );
    const at = await app.api('PATCH', path, { token, body: { quantity: 2 } });
    expect(at.status, at.text).toBe(200);
    expect(at.body).toMatchObject({ quantity: 2, assignedLicenses: 2 });
  });

  it('changes only what the request names, stamps the time and answers the new ETag, good for the next change', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [subscriptionId] = await placeLicenses(customerId, token, [3]);
    const path = `${subscriptionsOf(customerId)}/${subscriptionId}`;
    const createdAt = app.clock.now().toISOString();
    app.clock.advance({ minutes: 5 });
    const renewal = await app.api('PATCH', path, { token, body: { autoRenew: false } });
    expect(renewal.status).toBe(200);
    expect(renewal.body).toMatchObject({
      quantity: 3,
      autoRenew: false,
      createdAt,
      updatedAt: app.clock.now().toISOString(),
    });
    expect(renewal.headers.get('etag')).toBe(`"${renewal.body.etag}"`);
    const listed = await subscriptionView(customerId, token, subscriptionId!);
    expect(listed.etag).toBe(renewal.body.etag);

    app.clock.advance({ minutes: 5 });
    const quantity = await app.api('PATCH', path, {
      token,
      body: { quantity: 7 },
      headers: { 'if-match': renewal.headers.get('etag')! },
    });
    expect(quantity.status, quantity.text).toBe(200);
    expect(quantity.body).toMatchObject({
      quantity: 7,
      autoRenew: false,
      updatedAt: app.clock.now().toISOString(),
    });
  });

  it('answers 412 with what to do when the subscription changed between its read and its write', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [subscriptionId] = await placeLicenses(customerId, token, [3]);
    const raced = await racedOn(subscriptionDocumentId(subscriptionId!));
    try {
      const refused = await raced.api('PATCH', `${subscriptionsOf(customerId)}/${subscriptionId}`, {
        token,
        body: { quantity: 4 },
      });
      expect(refused.status).toBe(412);
      expect(refused.body).toMatchObject({
        code: 'precondition-failed',
        detail: 'The subscription changed meanwhile; read it again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect(await subscriptionView(customerId, token, subscriptionId!)).toMatchObject({
      quantity: 3,
    });
  });

  it("lets a provider change the quantity of its indirect customer's subscription (a purchase) but not its renewal, and the reseller the renewal only", async () => {
    const { provider, reseller, customerId } = await indirectCustomer(app);
    const [subscriptionId] = await placeLicenses(customerId, provider.adminToken, [3]);
    const path = `${subscriptionsOf(customerId)}/${subscriptionId}`;
    const bought = await app.api('PATCH', path, {
      token: provider.adminToken,
      body: { quantity: 6 },
    });
    expect(bought.status, bought.text).toBe(200);
    expect(bought.body).toMatchObject({ quantity: 6, autoRenew: true });
    const renewal = await app.api('PATCH', path, {
      token: provider.adminToken,
      body: { autoRenew: false },
    });
    expect(renewal.status).toBe(403);
    expect(renewal.body.code).toBe('action-not-allowed');
    const renewed = await app.api('PATCH', path, {
      token: reseller.adminToken,
      body: { autoRenew: false },
    });
    expect(renewed.status, renewed.text).toBe(200);
    expect(renewed.body).toMatchObject({ quantity: 6, autoRenew: false });
    const resold = await app.api('PATCH', path, {
      token: reseller.adminToken,
      body: { quantity: 8 },
    });
    expect(resold.status).toBe(403);
  });

  it('refuses to change a subscription a transfer suspended, naming its successor when it has one', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [withSuccessor, without] = await placeLicenses(customerId, token, [3, 3]);
    const successor = crypto.randomUUID();
    await rewrite(customerId, subscriptionDocumentId(withSuccessor!), (document) => ({
      ...document,
      status: 'suspended',
      successor: { transferId: crypto.randomUUID(), subscriptionId: successor },
    }));
    await rewrite(customerId, subscriptionDocumentId(without!), (document) => ({
      ...document,
      status: 'suspended',
    }));
    const named = await app.api('PATCH', `${subscriptionsOf(customerId)}/${withSuccessor}`, {
      token,
      body: { autoRenew: false },
    });
    expect(named.status).toBe(409);
    expect(named.body).toMatchObject({
      code: 'conflict',
      detail: `This subscription was transferred (now ${successor}) and is suspended: change its successor instead.`,
    });
    const unnamed = await app.api('PATCH', `${subscriptionsOf(customerId)}/${without}`, {
      token,
      body: { quantity: 5 },
    });
    expect(unnamed.status).toBe(409);
    expect(unnamed.body.detail).toBe(
      'This subscription was transferred and is suspended: change its successor instead.',
    );
  });
});

describe('users and licenses', () => {
  it('answers the user created, with no license, and names the user already there on a duplicate', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const created = await app.api('POST', usersOf(customerId), {
      token,
      body: { displayName: 'Ada Lovelace', userPrincipalName: 'ada@duplicates.example' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      userId: expect.any(String),
      displayName: 'Ada Lovelace',
      userPrincipalName: 'ada@duplicates.example',
      licenses: [],
      createdAt: app.clock.now().toISOString(),
    });
    const again = await app.api('POST', usersOf(customerId), {
      token,
      body: { displayName: 'Ada again', userPrincipalName: 'ada@duplicates.example' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      code: 'conflict',
      detail: 'A user named ada@duplicates.example already exists in this customer.',
    });
  });

  it("pages through a customer's users", async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const created = [
      await newUser(customerId, token, 'page-one'),
      await newUser(customerId, token, 'page-two'),
    ];
    const first = await app.api('GET', `${usersOf(customerId)}?pageSize=1`, { token });
    expect(first.body.items).toHaveLength(1);
    expect(first.body.continuationToken).toEqual(expect.any(String));
    const rest = await app.api(
      'GET',
      `${usersOf(customerId)}?pageSize=1&continuationToken=${encodeURIComponent(first.body.continuationToken)}`,
      { token },
    );
    expect(rest.body.items).toHaveLength(1);
    expect(
      [...first.body.items, ...rest.body.items]
        .map((user: { userId: string }) => user.userId)
        .sort(),
    ).toEqual([...created].sort());
  });

  it('assigns a license once however often asked, removes one license keeping the others, each seat counted', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [first, second] = await placeLicenses(customerId, token, [3, 3]);
    const userId = await newUser(customerId, token, 'twice');
    const license = (method: string, subscriptionId: string) =>
      app.api(method, `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`, { token });
    expect((await license('POST', first!)).body.licenses).toEqual([first]);
    const repeated = await license('POST', first!);
    expect(repeated.status).toBe(200);
    expect(repeated.body.licenses).toEqual([first]);
    expect((await subscriptionView(customerId, token, first!)).assignedLicenses).toBe(1);
    expect((await license('POST', second!)).body.licenses).toEqual([first, second]);

    app.clock.advance({ minutes: 3 });
    const removed = await license('DELETE', first!);
    expect(removed.status).toBe(200);
    expect(removed.body.licenses).toEqual([second]);
    expect(await subscriptionView(customerId, token, first!)).toMatchObject({
      assignedLicenses: 0,
      updatedAt: app.clock.now().toISOString(),
    });
    expect((await subscriptionView(customerId, token, second!)).assignedLicenses).toBe(1);

    const notHeld = await license('DELETE', first!);
    expect(notHeld.status).toBe(404);
    expect(notHeld.body).toMatchObject({
      code: 'not-found',
      detail: 'That license assignment was not found.',
    });
  });

  it('names the product type that has no licenses, and the subscription or user not found', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const placed = await app.api('POST', ordersOf(customerId), {
      token,
      body: {
        lineItems: [{ offerId: 'reserved-vm', productType: 'azure-reservation', quantity: 1 }],
      },
    });
    const reservation = placed.body.lineItems[0].subscriptionId as string;
    const userId = await newUser(customerId, token, 'types');
    const assign = (user: string, subscriptionId: string) =>
      app.api('POST', `${usersOf(customerId)}/${user}/licenses/${subscriptionId}`, { token });
    const none = await assign(userId, reservation);
    expect(none.status).toBe(409);
    expect(none.body.detail).toBe('A azure-reservation subscription has no licenses to assign.');

    const [license] = await placeLicenses(customerId, token, [1]);
    const noUser = await assign(crypto.randomUUID(), license!);
    expect(noUser.status).toBe(404);
    expect(noUser.body.detail).toBe('The user was not found.');
    const noSubscription = await assign(userId, crypto.randomUUID());
    expect(noSubscription.status).toBe(404);
    expect(noSubscription.body.detail).toBe('The subscription was not found.');
  });

  it("hides a subscription of the customer that is not this partner's (404)", async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [subscriptionId] = await placeLicenses(customerId, token, [2]);
    const other = await createPartnerWithProfile(app);
    await rewrite(customerId, subscriptionDocumentId(subscriptionId!), (document) => ({
      ...document,
      partners: [other.partnerId],
    }));
    const userId = await newUser(customerId, token, 'hidden');
    const assign = await app.api(
      'POST',
      `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`,
      { token },
    );
    expect(assign.status).toBe(404);
    expect(assign.body.detail).toBe('The subscription was not found.');
    const patch = await app.api('PATCH', `${subscriptionsOf(customerId)}/${subscriptionId}`, {
      token,
      body: { autoRenew: false },
    });
    expect(patch.status).toBe(404);
  });

  it('refuses a license from a suspended subscription but lets one be given back', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [held, fresh] = await placeLicenses(customerId, token, [2, 2]);
    const userId = await newUser(customerId, token, 'suspended');
    const license = (method: string, subscriptionId: string) =>
      app.api(method, `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`, { token });
    expect((await license('POST', held!)).status).toBe(200);
    for (const subscriptionId of [held!, fresh!]) {
      await rewrite(customerId, subscriptionDocumentId(subscriptionId), (document) => ({
        ...document,
        status: 'suspended',
      }));
    }
    const refused = await license('POST', fresh!);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toBe(
      'This subscription was transferred and is suspended: change its successor instead.',
    );
    const givenBack = await license('DELETE', held!);
    expect(givenBack.status, givenBack.text).toBe(200);
    expect(givenBack.body.licenses).toEqual([]);
  });

  it('answers 409 with what to do when the user changed between the read and the write of a license', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [subscriptionId] = await placeLicenses(customerId, token, [2]);
    const userId = await newUser(customerId, token, 'raced');
    const raced = await racedOn(userDocumentId(userId));
    try {
      const refused = await raced.api(
        'POST',
        `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`,
        { token },
      );
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The subscription or user changed meanwhile; try again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    expect((await subscriptionView(customerId, token, subscriptionId!)).assignedLicenses).toBe(0);
  });
});

describe('deleting a user', () => {
  it('answers 409 with what to do when the user changed between its read and its delete', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const userId = await newUser(customerId, token, 'deleted-raced');
    const raced = await racedOn(userDocumentId(userId));
    try {
      const refused = await raced.api('DELETE', `${usersOf(customerId)}/${userId}`, { token });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        code: 'conflict',
        detail: 'The user changed meanwhile; try again.',
      });
    } finally {
      await raced.close({ keepDatabase: true });
    }
    const users = await app.api('GET', usersOf(customerId), { token });
    expect(users.body.items.map((user: { userId: string }) => user.userId)).toEqual([userId]);
  });

  it('deletes a user whose name claim or one of whose subscriptions is gone, the other seats given back', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const [kept, gone] = await placeLicenses(customerId, token, [2, 2]);
    const userId = await newUser(customerId, token, 'leftovers');
    for (const subscriptionId of [kept!, gone!]) {
      const assigned = await app.api(
        'POST',
        `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`,
        { token },
      );
      expect(assigned.status).toBe(200);
    }
    const claim = await app.services.customers.getDocument(
      customerId,
      userNameClaimId('leftovers@edges.example'),
    );
    const subscription = await app.services.customers.getDocument(
      customerId,
      subscriptionDocumentId(gone!),
    );
    await app.services.customers.commit(customerId, [
      { op: 'delete', id: claim!.value.id, etag: claim!.etag },
      { op: 'delete', id: subscription!.value.id, etag: subscription!.etag },
    ]);
    const deleted = await app.api('DELETE', `${usersOf(customerId)}/${userId}`, { token });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await app.api('GET', usersOf(customerId), { token })).body.items).toEqual([]);
    expect((await subscriptionView(customerId, token, kept!)).assignedLicenses).toBe(0);
  });

  it('gives back 98 licenses in the one batch of its delete, and 197 in two batches of at most 100 operations', async () => {
    const { partner, customerId } = await directCustomer(app);
    const token = partner.adminToken;
    const subscriptionIds: string[] = [];
    for (const size of [50, 50, 50, 47]) {
      subscriptionIds.push(
        ...(await placeLicenses(
          customerId,
          token,
          Array.from({ length: size }, () => 2),
        )),
      );
    }
    expect(subscriptionIds).toHaveLength(197);
    const holders: Record<number, string> = {
      98: await newUser(customerId, token, 'ninety-eight'),
      197: await newUser(customerId, token, 'one-ninety-seven'),
    };
    for (const [count, userId] of Object.entries(holders)) {
      for (const subscriptionId of subscriptionIds.slice(0, Number(count))) {
        const assigned = await app.api(
          'POST',
          `${usersOf(customerId)}/${userId}/licenses/${subscriptionId}`,
          { token },
        );
        expect(assigned.status).toBe(200);
      }
    }
    const batches: number[] = [];
    const counting = await startSecondHost(app, (services: Services) => ({
      ...services,
      customers: override(services.customers, {
        commit: (id, operations) => {
          batches.push(operations.length);
          return services.customers.commit(id, operations);
        },
      }),
    }));
    try {
      const deleted98 = await counting.api('DELETE', `${usersOf(customerId)}/${holders[98]}`, {
        token,
      });
      expect(deleted98.status, deleted98.text).toBe(204);
      expect(batches).toEqual([100]); // the user, its name claim, 98 seats
      batches.length = 0;
      const deleted197 = await counting.api('DELETE', `${usersOf(customerId)}/${holders[197]}`, {
        token,
      });
      expect(deleted197.status, deleted197.text).toBe(204);
      expect(batches).toEqual([100, 100]);
    } finally {
      await counting.close({ keepDatabase: true });
    }
    const seats = await app.query<number>(
      'customers',
      `SELECT VALUE c.assignedLicenses FROM c WHERE c.customerId = '${customerId}' AND c.type = 'subscription'`,
    );
    expect(seats).toEqual(subscriptionIds.map(() => 0));
  });
});
