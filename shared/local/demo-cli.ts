import { randomInt, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { mintDevToken } from './dev-token';

const usage = 'usage: npm run demo [-- --url http://localhost:7071]   (with `npm start` running)';
const operatorTenant = '00000000-0000-0000-0000-0000000000ff';

class StepFailed extends Error {}

/** One call to the running app; anything but the expected status stops the demo, saying why. */
async function call(
  base: string,
  step: string,
  method: string,
  path: string,
  token: string | null,
  expected: number[],
  body?: unknown,
): Promise<Record<string, string>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      // The admin API asks the master key when the local host has one, as on Azure.
      ...(path.startsWith('/admin/') && process.env.LOCAL_MASTER_KEY
        ? { 'x-functions-key': process.env.LOCAL_MASTER_KEY }
        : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  }).catch((error: unknown) => {
    throw new StepFailed(
      `${step}: the app does not answer at ${base} (${error instanceof Error ? error.message : error}). Start it first: npm start`,
    );
  });
  const text = await response.text();
  if (!expected.includes(response.status))
    throw new StepFailed(`${step}: ${method} ${path} answered ${response.status}: ${text}`);
  return text ? (JSON.parse(text) as Record<string, string>) : {};
}

const mpnId = (): string => String(randomInt(1_000_000, 10_000_000));

/**
 * `npm run demo`: against a running `npm start`, makes a small world (an operator's partner
 * records, an indirect provider, a direct-bill partner with customers and subscriptions that
 * enrolls as an indirect reseller and has a provider's invitation waiting) and prints the
 * tokens, curl lines and links to follow the journey. New tenants each run: run it again freely.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: `http://localhost:${process.env.PORT ?? 7071}` },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  const base = values.url.replace(/\/+$/, '');
  const api = `${base}/api`;
  const partnerId = randomUUID();
  const providerId = randomUUID();
  const partnerMpnId = mpnId();

  const operator = await mintDevToken({
    tenant: operatorTenant,
    roles: ['Operator'],
    name: 'Olga Operator',
  });
  const admin = await mintDevToken({
    tenant: partnerId,
    roles: ['GlobalAdmin'],
    name: 'Gina Admin',
    email: 'gina@contoso.example',
  });
  const providerAdmin = await mintDevToken({
    tenant: providerId,
    roles: ['GlobalAdmin'],
    name: 'Paul Provider',
    email: 'paul@adatum.example',
  });

  await call(base, 'the health check', 'GET', '/api/health', null, [200]);
  await call(
    base,
    'the provider record',
    'PUT',
    `/api/operator/partners/${providerId}`,
    operator,
    [201],
    {
      companyName: 'Adatum Distribution',
      mpnId: mpnId(),
      country: 'FR',
      programs: {
        directBill: false,
        indirectProvider: {
          regions: ['FR', 'BE'],
          services: ['training-support', 'marketing', 'credit-financing'],
        },
      },
    },
  );
  await call(
    base,
    'the partner record',
    'PUT',
    `/api/operator/partners/${partnerId}`,
    operator,
    [201],
    {
      companyName: 'Contoso',
      mpnId: partnerMpnId,
      mpnVerified: true,
      mpnAccountEmail: 'mpn@contoso.example',
      country: 'FR',
      programs: { directBill: true },
    },
  );

  // While still direct bill, the partner has customers of its own, with subscriptions.
  const customers: { name: string; customerId: string; seats: number }[] = [];
  for (const [name, seats] of [
    ['Wingtip Toys', 25],
    ['Fabrikam', 10],
  ] as const) {
    const domain = `${name.toLowerCase().replace(/\W/g, '')}-${partnerId.slice(0, 8)}.onmicrosoft.com`;
    const customer = await call(
      base,
      `the customer ${name}`,
      'POST',
      '/api/me/customers',
      admin,
      [201],
      {
        companyName: name,
        domain,
        country: 'FR',
        adminEmail: `admin@${domain}`,
      },
    );
    await call(
      base,
      `${name}'s order`,
      'POST',
      `/api/me/customers/${customer.customerId}/orders`,
      admin,
      [201],
      {
        lineItems: [
          { offerId: 'microsoft-365-business-standard', productType: 'license', quantity: seats },
          { offerId: 'azure-plan', productType: 'azure-plan', quantity: 1 },
        ],
      },
    );
    customers.push({ name, customerId: String(customer.customerId), seats });
  }

  const contact = {
    firstName: 'Gina',
    lastName: 'Admin',
    email: 'gina@contoso.example',
    phone: '+33 1 23 45 67 89',
  };
  await call(base, 'the profile', 'PUT', '/api/me/profile', admin, [200], {
    companyName: 'Contoso',
    mpnId: partnerMpnId,
    address: { line1: '1 rue de la Paix', city: 'Paris', postalCode: '75002', country: 'FR' },
    primaryContact: contact,
  });
  await call(base, 'the enrollment', 'POST', '/api/me/enrollment', admin, [201], {
    reviewedDetails: { companyName: 'Contoso', mpnId: partnerMpnId },
    primaryContact: contact,
    authorizationConfirmed: true,
    irreversibleAcknowledged: true,
  });
  const agreement = await call(base, 'the agreement', 'GET', '/api/me/agreement', admin, [200]);
  await call(
    base,
    'accepting the agreement',
    'POST',
    '/api/me/agreement/acceptance',
    admin,
    [201],
    {
      templateId: agreement.templateId,
      version: agreement.version,
    },
  );
  const invitation = await call(
    base,
    "the provider's invitation",
    'POST',
    '/api/me/reseller-invitations',
    providerAdmin,
    [201],
    { mpnId: partnerMpnId, email: 'gina@contoso.example' },
  );
  // The link's secret is after '#': it never reaches a server; API calls carry it in a body.
  const invitationToken = String(invitation.link).split('#').at(-1)!;
  // Send the emails now rather than within the minute: they land in .local/outbox/.
  await call(base, 'sending the emails', 'POST', '/admin/functions/deliverEmails', null, [202], {});

  const lines = [
    `The demo world is ready at ${base}`,
    '',
    'Tenants',
    `  operators                             ${operatorTenant}`,
    `  Contoso, direct bill, now also an indirect reseller (MPN ID ${partnerMpnId})`,
    `                                        ${partnerId}`,
    `  Adatum Distribution, indirect provider in FR and BE`,
    `                                        ${providerId}`,
    ...customers.flatMap((customer) => [
      `  ${customer.name}, Contoso's direct customer (${customer.seats} licenses, an Azure plan)`,
      `                                        ${customer.customerId}`,
    ]),
    '',
    'Tokens (valid 8 hours): paste these lines into a shell',
    `export API=${api}`,
    `export OPERATOR=${operator}`,
    `export ADMIN=${admin}`,
    `export PROVIDER_ADMIN=${providerAdmin}`,
    `export INVITATION=${invitationToken}`,
    '',
    'Then try',
    'curl -s $API/me -H "Authorization: Bearer $ADMIN"',
    'curl -s $API/me/enrollment -H "Authorization: Bearer $ADMIN"',
    'curl -s $API/me/customers -H "Authorization: Bearer $ADMIN"',
    `curl -s $API/me/customers/${customers[0]!.customerId}/subscriptions -H "Authorization: Bearer $ADMIN"`,
    'curl -s "$API/indirect-providers?region=FR" -H "Authorization: Bearer $ADMIN"',
    'curl -s $API/me/reseller-invitations -H "Authorization: Bearer $PROVIDER_ADMIN"',
    'curl -s -X POST $API/partner-invitations/lookup -H "Content-Type: application/json" -d "{\\"token\\":\\"$INVITATION\\"}"',
    '# accept the pending invitation: Contoso and Adatum become partners',
    'curl -s -X POST $API/partner-invitations/accept -H "Authorization: Bearer $ADMIN" -H "Content-Type: application/json" -d "{\\"token\\":\\"$INVITATION\\"}"',
    'curl -s $API/me/indirect-providers -H "Authorization: Bearer $ADMIN"',
    '',
    'Links to open in a browser',
    `  the invitation email's link    ${invitation.link}`,
    `  the approval email's link      ${base}/api/links/enrollment`,
    `  the API reference              ${base}/api/docs   (Authorize with $ADMIN's token)`,
    '',
    'The emails sent are in .local/outbox/: npm run outbox lists them.',
    '',
    'curl -s $API/me/transition -H "Authorization: Bearer $ADMIN"',
    ...transitionLines(await countedTransition(base, admin, customers.length * 2)),
  ];
  console.log(lines.join('\n'));
}

interface TransitionAnswer {
  steps: { step: string; status: string; waitingOn?: string; detail: string }[];
  next: string | null;
  counts: {
    providers: number;
    customers: { directBill: number; extendedToProvider: number; indirect: number };
    subscriptions: { directBillActive: number; inTransfer: number; transferred: number };
  };
}

/**
 * The partner's transition once its orders are counted: an order's subscriptions count when its
 * event is relayed to the partner, which the app does right after the order, or the
 * deliverEvents timer (run now) does.
 */
async function countedTransition(
  base: string,
  admin: string,
  subscriptions: number,
): Promise<TransitionAnswer> {
  await call(
    base,
    'publishing the events',
    'POST',
    '/admin/functions/deliverEvents',
    null,
    [202],
    {},
  );
  for (let attempt = 1; ; attempt += 1) {
    const view = (await call(
      base,
      'the transition',
      'GET',
      '/api/me/transition',
      admin,
      [200],
    )) as unknown as TransitionAnswer;
    if (view.counts.subscriptions.directBillActive >= subscriptions || attempt >= 40) return view;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The transition as a portal would draw it: one line per step, then what is next. */
function transitionLines(view: TransitionAnswer): string[] {
  const { customers, subscriptions } = view.counts;
  return [
    "Contoso's transition, step by step (details in the language of its emails)",
    ...view.steps.map(
      (state) =>
        `  ${state.step.padEnd(14)}${(state.waitingOn ? `${state.status} (${state.waitingOn})` : state.status).padEnd(21)}${state.detail}`,
    ),
    `  next: ${view.next ?? 'nothing for Contoso to do now'}`,
    `  counts: ${view.counts.providers} providers; customers ${customers.directBill} direct bill, ${customers.extendedToProvider} extended to a provider, ${customers.indirect} indirect; subscriptions ${subscriptions.directBillActive} direct bill active, ${subscriptions.inTransfer} in a transfer, ${subscriptions.transferred} transferred`,
  ];
}

main().catch((error: unknown) => {
  console.error(error instanceof StepFailed ? error.message : error);
  process.exit(1);
});
