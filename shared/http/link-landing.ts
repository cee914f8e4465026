import * as z from 'zod';
import type { Services } from '../app/services';
import { DomainError } from '../domain/errors';
import { defineHttp, type HttpFunctionDefinition } from './define';
import { renderPage, type PageContent } from './pages';
import { htmlPage, redirect } from './responses';

export interface LinkLandingSpec {
  name: string;
  /** The link kind as it appears in the URL: /api/links/{kind}/{token}. */
  kind: string;
  summary: string;
  /** The page for a usable link; throws the link's DomainError when it is not usable. */
  describe(services: Services, token: string): Promise<PageContent>;
}

const badLinkPages: Partial<Record<DomainError['code'], { status: number; page: PageContent }>> = {
  'not-found': {
    status: 404,
    page: {
      title: 'This link is not valid',
      tone: 'error',
      paragraphs: [
        'We could not find an invitation for this link. It may have been cut when it was copied from the email.',
        'Open the link again from the email, or ask the person who invited you to send a new invitation.',
      ],
    },
  },
  'invitation-expired': {
    status: 410,
    page: {
      title: 'This invitation has expired',
      tone: 'error',
      paragraphs: [
        'Invitation links are valid for a limited time, and this one has expired.',
        'Ask the person who invited you to send a new invitation.',
      ],
    },
  },
  'invitation-used': {
    status: 410,
    page: {
      title: 'This invitation has already been used',
      tone: 'error',
      paragraphs: [
        'An invitation link can be accepted only once, and this one has been accepted already.',
        'If your organisation accepted it, there is nothing more to do: sign in to see the result. Otherwise, ask for a new invitation.',
      ],
    },
  },
  'invitation-revoked': {
    status: 410,
    page: {
      title: 'This invitation was withdrawn',
      tone: 'error',
      paragraphs: [
        'The person who sent this invitation has withdrawn it.',
        'Contact them if you expected to receive one.',
      ],
    },
  },
};

/**
 * GET /api/links/{kind}/{token}: where a link in an email lands. With PORTAL_BASE_URL it
 * redirects to the portal's page for the same token; otherwise it shows a small page, or a
 * clear page saying why the link cannot be used (unknown 404; expired, used, revoked 410).
 */
export function defineLinkLanding(spec: LinkLandingSpec): HttpFunctionDefinition {
  return defineHttp({
    name: spec.name,
    methods: ['GET'],
    route: `links/${spec.kind}/{token}`,
    summary: spec.summary,
    tags: ['links'],
    access: { kind: 'anonymous' },
    rateLimit: 'link-lookup',
    params: z.object({ token: z.string() }),
    responses: {
      200: {
        description: 'A page about the invitation and how to accept it',
        contentType: 'text/html',
      },
      302: { description: 'Redirect to the portal (PORTAL_BASE_URL)' },
      404: { description: 'A page saying the link is unknown', contentType: 'text/html' },
      410: {
        description: 'A page saying the link expired, was used or was withdrawn',
        contentType: 'text/html',
      },
    },
    async handle({ params, services }) {
      const portal = services.config.links.portalBaseUrl;
      if (portal) return redirect(`${portal}/${spec.kind}/${encodeURIComponent(params.token)}`);
      try {
        return htmlPage(200, renderPage(await spec.describe(services, params.token)));
      } catch (error) {
        const bad = error instanceof DomainError ? badLinkPages[error.code] : undefined;
        if (!bad) throw error;
        return htmlPage(bad.status, renderPage(bad.page));
      }
    },
  });
}
