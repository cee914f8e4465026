import { portalPaths, type LandingPage } from '../shared/app/links';
import { defineHttp, type HttpFunctionDefinition } from '../shared/http/define';
import { renderPage, type PageContent } from '../shared/http/pages';
import { htmlPage, redirect } from '../shared/http/responses';

const pages: Record<LandingPage, PageContent> = {
  enrollment: {
    title: 'Your indirect reseller enrollment',
    paragraphs: [
      'This link comes from an email about your enrollment as an indirect reseller.',
      'Sign in to Partner Center as a global admin of your organisation to see where the enrollment stands and what to do next.',
    ],
    steps: [
      'Open Settings, then Partner settings, then Partner profile, and look at the program information.',
      'If the enrollment is approved, read and accept the indirect reseller agreement ("Accept and continue").',
      'If it was not approved, correct what the reason points out, confirm your profile and submit the enrollment again.',
    ],
  },
  'enrollment-review': {
    title: 'Enrollments waiting for review',
    paragraphs: [
      'This link comes from an escalation email: an indirect reseller enrollment has waited longer than the review window.',
      'Sign in to the operators’ console to approve or reject it from the review queue.',
    ],
  },
  transfers: {
    title: 'Subscription transfers',
    paragraphs: [
      'This link comes from an email about a subscription transfer between an indirect reseller and its indirect provider.',
      'Sign in to Partner Center to see the transfer: a provider accepts or rejects a pending request, a reseller may withdraw it while it is pending.',
    ],
  },
  partnerships: {
    title: 'Your indirect providers',
    paragraphs: [
      'This link comes from an email about a partnership with an indirect provider.',
      'Sign in to Partner Center and open Indirect providers to see your partnerships, active and ended.',
    ],
  },
  webhooks: {
    title: 'Your webhook endpoints',
    paragraphs: [
      'This link comes from an email saying that one of your webhook endpoints was disabled: it answered 410 Gone, or failed for three days.',
      'Fix the endpoint, then enable it again (PATCH /api/me/webhooks/{webhookId} with status "active"); events it missed can be sent again from its deliveries (POST .../deliveries/{eventId}/redeliver), and the pull feed GET /api/me/events still holds them all.',
    ],
  },
};

/** Landing pages for links in emails that carry no token (docs/api.md: every link works). */
function landing(name: string, page: LandingPage): HttpFunctionDefinition {
  return defineHttp({
    name,
    methods: ['GET'],
    route: `links/${page}`,
    summary: `Where the "${page}" link in an email lands: the portal when configured, else a page`,
    tags: ['links'],
    access: { kind: 'anonymous' },
    responses: {
      200: { description: 'A page explaining the next step', contentType: 'text/html' },
      302: {
        description: 'Redirect to the portal (PORTAL_BASE_URL)',
        headers: { Location: 'always' },
      },
    },
    errors: [],
    async handle({ services }) {
      const portal = services.config.links.portalBaseUrl;
      return portal
        ? redirect(`${portal}${portalPaths[page]}`)
        : htmlPage(200, renderPage(pages[page]));
    },
  });
}

export const enrollmentLanding = landing('enrollmentLanding', 'enrollment');
export const enrollmentReviewLanding = landing('enrollmentReviewLanding', 'enrollment-review');
export const transfersLanding = landing('transfersLanding', 'transfers');
export const partnershipsLanding = landing('partnershipsLanding', 'partnerships');
export const webhooksLanding = landing('webhooksLanding', 'webhooks');
