import {
  acceptAgreement,
  decideEnrollment,
  readAgreement,
  readEnrollment,
  submitEnrollment,
  withdrawEnrollment,
} from '../shared/app/enrollment';
import { defineHttp } from '../shared/http/define';
import { created, ok } from '../shared/http/responses';
import { pageOf, pageQuery } from '../shared/http/schemas/common';
import {
  activityItemView,
  agreementAcceptanceBody,
  agreementView,
  decisionBody,
  enrollmentBody,
  enrollmentView,
  queueItemView,
  queueQuery,
} from '../shared/http/schemas/enrollment';
import { partnerIdParams } from '../shared/http/schemas/partners';
import { toActivityView, toEnrollmentView, toQueueItemView } from '../shared/http/views';

/** docs/rules.md sections 1-3: enrollment, its review, the agreement; docs/api.md routes. */
export const submitEnrollmentFunction = defineHttp({
  name: 'submitEnrollment',
  methods: ['POST'],
  route: 'me/enrollment',
  summary: 'Enroll as an indirect reseller (global admin)',
  tags: ['enrollment'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  body: enrollmentBody,
  responses: {
    201: {
      description: 'Submitted: approved at once, or pending approval',
      schema: enrollmentView,
      headers: { Location: 'always' },
    },
  },
  errors: ['not-found', 'not-eligible', 'profile-incomplete'],
  async handle({ principal, body, services }) {
    const enrollment = await submitEnrollment(services, principal, body);
    return created(toEnrollmentView(enrollment), { Location: '/api/me/enrollment' });
  },
});

export const getEnrollment = defineHttp({
  name: 'getEnrollment',
  methods: ['GET'],
  route: 'me/enrollment',
  summary: "The partner's indirect reseller enrollment: status, timestamps, reason and history",
  tags: ['enrollment'],
  access: { kind: 'signed-in' },
  responses: {
    200: { description: 'The enrollment', schema: enrollmentView },
  },
  errors: ['not-found'],
  async handle({ principal, services }) {
    const partner = await readEnrollment(services, principal.tenantId);
    return ok(toEnrollmentView(partner.value.enrollment));
  },
});

export const deleteEnrollment = defineHttp({
  name: 'deleteEnrollment',
  methods: ['DELETE'],
  route: 'me/enrollment',
  summary: 'Always refused once enrolled: the step is irreversible',
  tags: ['enrollment'],
  access: { kind: 'signed-in' },
  responses: {},
  errors: ['not-found', 'irreversible'],
  async handle({ principal, services }) {
    return withdrawEnrollment(services, principal.tenantId);
  },
});

export const getAgreement = defineHttp({
  name: 'getAgreement',
  methods: ['GET'],
  route: 'me/agreement',
  summary: 'The indirect reseller agreement, once the enrollment is approved',
  tags: ['enrollment'],
  access: { kind: 'signed-in' },
  responses: {
    200: { description: 'The agreement', schema: agreementView },
  },
  errors: ['not-found', 'agreement-not-available'],
  async handle({ principal, services }) {
    return ok(await readAgreement(services, principal.tenantId));
  },
});

export const acceptAgreementFunction = defineHttp({
  name: 'acceptAgreement',
  methods: ['POST'],
  route: 'me/agreement/acceptance',
  summary: 'Accept the indirect reseller agreement (global admin): the enrollment becomes active',
  tags: ['enrollment'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  body: agreementAcceptanceBody,
  responses: {
    201: { description: 'Accepted', schema: agreementView, headers: { Location: 'always' } },
    200: { description: 'Already accepted: the first acceptance', schema: agreementView },
  },
  errors: ['not-found', 'agreement-not-available'],
  async handle({ principal, body, services }) {
    const { acceptance, created: first } = await acceptAgreement(services, principal, body);
    const { title, url } = services.config.enrollment.agreement;
    const answer = {
      templateId: acceptance.templateId,
      version: acceptance.version,
      title,
      url,
      accepted: true,
      acceptance,
    };
    return first ? created(answer, { Location: '/api/me/agreement' }) : ok(answer);
  },
});

export const getActivity = defineHttp({
  name: 'getActivity',
  methods: ['GET'],
  route: 'me/activity',
  summary: "The partner's audit events, newest first",
  tags: ['partner'],
  access: { kind: 'signed-in' },
  query: pageQuery,
  responses: {
    200: { description: 'A page of events', schema: pageOf(activityItemView) },
  },
  errors: [],
  async handle({ principal, query, services }) {
    const page = await services.partners.activity(principal.tenantId, query);
    return ok({ items: page.items.map(toActivityView), continuationToken: page.continuationToken });
  },
});

export const listEnrollmentQueue = defineHttp({
  name: 'listEnrollmentQueue',
  methods: ['GET'],
  route: 'operator/enrollments',
  summary: 'The review queue, oldest submission first',
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator', 'EnrollmentReviewer'] },
  query: queueQuery,
  responses: {
    200: { description: 'A page of enrollments', schema: pageOf(queueItemView) },
  },
  errors: [],
  async handle({ query, services }) {
    const page = await services.partners.enrollmentsWithStatus(query.status, query);
    return ok({
      items: page.items.map(toQueueItemView),
      continuationToken: page.continuationToken,
    });
  },
});

export const decideEnrollmentFunction = defineHttp({
  name: 'decideEnrollment',
  methods: ['POST'],
  route: 'operator/enrollments/{partnerId}/decision',
  summary: 'Approve or reject a pending enrollment (a reason is required to reject)',
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator', 'EnrollmentReviewer'] },
  params: partnerIdParams,
  body: decisionBody,
  responses: {
    200: { description: 'Decided', schema: enrollmentView },
  },
  errors: ['not-found'],
  async handle({ params, body, principal, services }) {
    return ok(
      toEnrollmentView(await decideEnrollment(services, principal, params.partnerId, body)),
    );
  },
});
