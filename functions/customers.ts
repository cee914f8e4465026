import {
  createCustomer,
  customerView,
  listCustomers,
  loadRelationship,
} from '../shared/app/customers';
import { defineHttp } from '../shared/http/define';
import { created, ok } from '../shared/http/responses';
import { pageOf } from '../shared/http/schemas/common';
import {
  customerIdParams,
  customersQuery,
  customerView as customerSchema,
  newCustomerBody,
} from '../shared/http/schemas/customers';

/** docs/rules.md sections 4, 7, 9: a partner's customers, direct and indirect, each marked. */
export const listCustomersFunction = defineHttp({
  name: 'listCustomers',
  methods: ['GET'],
  route: 'me/customers',
  summary:
    "The partner's customers, direct and indirect, each with its relationship and allowed actions",
  tags: ['customers'],
  access: { kind: 'signed-in' },
  query: customersQuery,
  responses: {
    200: { description: 'A page of customers', schema: pageOf(customerSchema) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await listCustomers(services, principal.tenantId, query.relationship, query);
    return ok({ items: page.items.map(customerView), continuationToken: page.continuationToken });
  },
});

export const getCustomer = defineHttp({
  name: 'getCustomer',
  methods: ['GET'],
  route: 'me/customers/{customerId}',
  summary: 'One customer, as the partner sees it',
  tags: ['customers'],
  access: { kind: 'signed-in' },
  params: customerIdParams,
  responses: {
    200: { description: 'The customer', schema: customerSchema },
  },
  errors: ['not-found'],
  async handle({ principal, params, services }) {
    return ok(
      customerView((await loadRelationship(services, principal.tenantId, params.customerId)).value),
    );
  },
});

export const createCustomerFunction = defineHttp({
  name: 'createCustomer',
  methods: ['POST'],
  route: 'me/customers',
  summary:
    'Create a customer tenant (a provider names its reseller; a direct-bill partner not enrolled creates a direct customer)',
  tags: ['customers'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin', 'AdminAgent'] },
  body: newCustomerBody,
  responses: {
    201: { description: 'Created', schema: customerSchema, headers: { Location: 'always' } },
  },
  errors: ['not-found', 'no-new-direct-customers', 'provider-creates-tenants', 'partnership-ended'],
  async handle({ principal, body, services }) {
    const customer = customerView(await createCustomer(services, principal, body));
    return created(customer, { Location: `/api/me/customers/${customer.customerId}` });
  },
});
