import { readTransition, resellerPipeline } from '../shared/app/transition';
import { transitionReport } from '../shared/app/transition-report';
import { defineHttp } from '../shared/http/define';
import { ok, type HttpResult } from '../shared/http/responses';
import { prefersCsv, stuckCsv } from '../shared/http/csv';
import {
  pipelineQuery,
  pipelineView,
  transitionReportQuery,
  transitionReportView,
  transitionView,
} from '../shared/http/schemas/transition';
import { toPipelineView, toTransitionView } from '../shared/http/transition-views';

/** The partner's transition at a glance (docs/api.md, docs/rules.md section 14). */
export const getTransition = defineHttp({
  name: 'getTransition',
  methods: ['GET'],
  route: 'me/transition',
  summary: "Each step of the partner's transition, what it waits on, and what to do next",
  tags: ['partner'],
  access: { kind: 'signed-in' },
  responses: {
    200: {
      description: "The transition; its details are in the language of the partner's emails",
      schema: transitionView,
      headers: { 'Content-Language': 'always' },
    },
  },
  errors: ['not-found'],
  async handle({ principal, services }) {
    const read = await readTransition(services, principal.tenantId);
    return ok(toTransitionView(read), { 'Content-Language': read.language });
  },
});

/** A provider's resellers, invited and in partnership, with what each moved (docs/api.md). */
export const getResellerPipeline = defineHttp({
  name: 'getResellerPipeline',
  methods: ['GET'],
  route: 'me/reseller-pipeline',
  summary: "A provider's pipeline: open invitations, then a page of its resellers",
  tags: ['providers'],
  access: { kind: 'signed-in' },
  query: pipelineQuery,
  responses: {
    200: {
      description: 'Open invitations (first page only) and a page of resellers',
      schema: pipelineView,
    },
  },
  errors: ['not-found', 'forbidden'],
  async handle({ principal, query, services }) {
    return ok(toPipelineView(await resellerPipeline(services, principal.tenantId, query)));
  },
});

/** The operators' transition report over a period (docs/api.md, docs/capacity.md). */
export const getTransitionReport = defineHttp({
  name: 'getTransitionReport',
  methods: ['GET'],
  route: 'operator/reports/transitions',
  summary: 'The funnel, time to approval and stuck partners over a period, for operators',
  tags: ['operator'],
  access: { kind: 'operator', roles: ['Operator'] },
  query: transitionReportQuery,
  responses: {
    200: {
      description: 'The report; with Accept: text/csv, the stuck partners as CSV',
      schema: transitionReportView,
      csv: 'partnerId,companyName,step,since: one line per stuck partner, longest stuck first',
    },
  },
  errors: [],
  async handle({ query, request, services }): Promise<HttpResult> {
    const report = await transitionReport(services, query.from, query.to);
    if (prefersCsv(request.headers.get('accept'))) {
      return {
        status: 200,
        text: stuckCsv(report.stuck),
        headers: {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="stuck-transitions-${query.from}-${query.to}.csv"`,
        },
      };
    }
    return ok(report);
  },
});
