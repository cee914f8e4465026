import * as z from 'zod';
import type { Services } from '../app/services';
import { invitationStatus, type InvitationStatus, type LinkState } from '../domain/link';
import type { Language } from '../domain/partner';
import { defineHttp, type HttpFunctionDefinition } from './define';
import type { PageContent } from './pages';
import { htmlPage, ok } from './responses';
import { linkToken } from './schemas/common';

/**
 * Invitation links carry their secret after `#` (docs/api.md): the part after `#` never reaches a
 * server, so no request log, telemetry, proxy or Referer keeps it. The emailed link opens a
 * static page whose same-origin script reads the fragment and POSTs it in a body to the
 * kind's `lookup` route, then shows what it answers (or forwards to the portal, the token
 * still after `#`).
 */
export const linkTokenBody = z.strictObject({ token: linkToken });

/** The page content for a lookup answer: the invitation, or why it cannot be used. */
export const pageContentView = z
  .object({
    title: z.string(),
    paragraphs: z.array(z.string()),
    facts: z.array(z.tuple([z.string(), z.string()])).optional(),
    steps: z.array(z.string()).optional(),
    tone: z.enum(['info', 'error']).optional(),
    language: z.enum(['en', 'fr']).optional(),
  })
  .meta({ id: 'LinkPage', description: 'What the page of an emailed link shows' });

const statusPages: Record<Language, Record<Exclude<InvitationStatus, 'pending'>, PageContent>> = {
  en: {
    expired: {
      title: 'This invitation has expired',
      tone: 'error',
      paragraphs: [
        'Invitation links are valid for a limited time, and this one has expired.',
        'Ask the person who invited you to send a new invitation.',
      ],
    },
    accepted: {
      title: 'This invitation has already been used',
      tone: 'error',
      paragraphs: [
        'An invitation link can be accepted only once, and this one has been accepted already.',
        'If your organisation accepted it, there is nothing more to do: sign in to see the result. Otherwise, ask for a new invitation.',
      ],
    },
    revoked: {
      title: 'This invitation was withdrawn',
      tone: 'error',
      paragraphs: [
        'The person who sent this invitation has withdrawn it.',
        'Contact them if you expected to receive one.',
      ],
    },
  },
  fr: {
    expired: {
      title: 'Cette invitation a expiré',
      tone: 'error',
      paragraphs: [
        "Les liens d'invitation sont valables pour une durée limitée, et celui-ci a expiré.",
        'Demandez à la personne qui vous a invité de vous envoyer une nouvelle invitation.',
      ],
    },
    accepted: {
      title: 'Cette invitation a déjà été utilisée',
      tone: 'error',
      paragraphs: [
        "Un lien d'invitation ne peut être accepté qu'une fois, et celui-ci l'a déjà été.",
        "Si votre organisation l'a accepté, il n'y a rien de plus à faire : connectez-vous pour voir le résultat. Sinon, demandez une nouvelle invitation.",
      ],
    },
    revoked: {
      title: 'Cette invitation a été retirée',
      tone: 'error',
      paragraphs: [
        "La personne qui a envoyé cette invitation l'a retirée.",
        'Contactez-la si vous attendiez une invitation.',
      ],
    },
  },
};

/** What the landing page shows when the lookup finds nothing (404): the same for any reason. */
export const unknownLinkPage: PageContent = {
  title: 'This link is not valid',
  tone: 'error',
  paragraphs: [
    'We could not find an invitation for this link. It may have been cut when it was copied from the email.',
    'Open the link again from the email, or ask the person who invited you to send a new invitation.',
  ],
};

/**
 * The lookup answer's `status`, `expiresAt`, `language` and `page`: the invitation's page
 * while it is pending, else the page saying why it cannot be used, in its language.
 */
export function lookupAnswer(
  services: Services,
  invitation: LinkState,
  language: Language,
  describe: () => PageContent,
): { status: InvitationStatus; expiresAt: string; language: Language; page: PageContent } {
  const status = invitationStatus(invitation, services.clock.now());
  const page = status === 'pending' ? describe() : statusPages[language][status];
  return { status, expiresAt: invitation.expiresAt, language, page: { ...page, language } };
}

export interface LinkLookupSpec<V extends z.ZodObject> {
  name: string;
  /** e.g. partner-invitations: the route is POST /api/{kind}/lookup. */
  kind: string;
  summary: string;
  tags: readonly string[];
  view: V;
  /** The answer's name in openapi.json (the view and the page it shows). */
  id: string;
  lookup(services: Services, token: string): Promise<z.input<V>>;
}

/** POST /api/{kind}/lookup `{ token }`: anyone with the link, limited per client address. */
export function defineLinkLookup<V extends z.ZodObject>(
  spec: LinkLookupSpec<V>,
): HttpFunctionDefinition {
  return defineHttp({
    name: spec.name,
    methods: ['POST'],
    route: `${spec.kind}/lookup`,
    summary: spec.summary,
    tags: spec.tags,
    access: { kind: 'anonymous' },
    rateLimit: 'link-lookup',
    body: linkTokenBody,
    responses: {
      200: {
        description: 'The invitation, with the page the link shows',
        schema: spec.view.extend({ page: pageContentView }).meta({ id: spec.id }),
      },
    },
    // An unknown token: the same 404 whatever the reason (a guessed one learns nothing).
    errors: ['not-found'],
    async handle({ body, services }) {
      return ok(await spec.lookup(services, body.token));
    },
  });
}

/** The same-origin script of every link page (CSP `script-src 'self'`). */
export const linkPageScriptPath = 'links/link-page.js';

/**
 * GET /api/links/{kind}: the page an emailed link opens. It carries no secret and reads none:
 * its script does (see link-page.js). With PORTAL_BASE_URL the script forwards there.
 */
export function defineLinkLanding(spec: {
  name: string;
  kind: string;
  summary: string;
}): HttpFunctionDefinition {
  return defineHttp({
    name: spec.name,
    methods: ['GET'],
    route: `links/${spec.kind}`,
    summary: spec.summary,
    tags: ['links'],
    access: { kind: 'anonymous' },
    responses: {
      200: {
        description: 'A page whose script looks the invitation up (token after #) and shows it',
        contentType: 'text/html',
      },
    },
    errors: [],
    async handle({ services }) {
      return htmlPage(200, linkPageShell(services, spec.kind), linkPageHeaders);
    },
  });
}

/** The strict CSP of the HTML pages, plus the page's own script and its calls home. */
export const linkPageHeaders: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

function attribute(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

function linkPageShell(services: Services, kind: string): string {
  const portal = services.config.links.portalBaseUrl;
  const unknown = JSON.stringify(unknownLinkPage);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    '<title>Your invitation</title>',
    '<style>body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1b1b1b;background:#f5f5f5}main{max-width:40rem;margin:3rem auto;background:#fff;padding:2rem;border-top:4px solid #0f6cbd;border-radius:4px}main.error{border-top-color:#a4262c}h1{font-size:1.5rem;margin-top:0}dt{font-weight:600}dd{margin:0 0 .75rem 0}</style>',
    `<script src="/api/${linkPageScriptPath}" defer></script>`,
    '</head>',
    '<body>',
    `<main data-kind="${attribute(kind)}"${portal ? ` data-portal="${attribute(portal)}"` : ''} data-unknown="${attribute(unknown)}">`,
    '<h1>Your invitation</h1>',
    '<p>Looking the invitation up…</p>',
    '<noscript><p>This page needs JavaScript to read the invitation from its link.</p></noscript>',
    '</main>',
    '</body>',
    '</html>',
  ].join('\n');
}

/**
 * The link page's script: reads the token after `#` and, first of all and on every path (an
 * unknown token, a fragment that does not decode, a forward to the portal), drops it from the
 * address bar and the history entry. Then it either forwards to the portal with the token
 * still after `#`, or POSTs it to the lookup route and builds the page with textContent only (no
 * HTML from the answer is ever parsed). A link pasted into the same tab changes only the
 * fragment, which reloads nothing: `hashchange` reads it again, and only the latest lookup is
 * shown.
 */
export const linkPageScript = `(() => {
  'use strict';
  const main = document.querySelector('main');
  const kind = main.dataset.kind;
  const unknown = JSON.parse(main.dataset.unknown);
  const element = (name, text) => {
    const node = document.createElement(name);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const show = (page) => {
    document.documentElement.lang = page.language || 'en';
    document.title = page.title;
    main.className = page.tone === 'error' ? 'error' : '';
    main.replaceChildren(element('h1', page.title));
    for (const paragraph of page.paragraphs) main.append(element('p', paragraph));
    if (page.facts && page.facts.length > 0) {
      const list = element('dl');
      for (const [label, value] of page.facts) list.append(element('dt', label), element('dd', value));
      main.append(list);
    }
    if (page.steps && page.steps.length > 0) {
      const steps = element('ol');
      for (const step of page.steps) steps.append(element('li', step));
      main.append(steps);
    }
    main.dataset.ready = 'true';
  };
  const takeToken = () => {
    const fragment = location.hash.replace(/^#/, '');
    history.replaceState(null, '', location.pathname + location.search);
    try {
      return decodeURIComponent(fragment);
    } catch {
      return '';
    }
  };
  let latest = 0;
  const open = () => {
    const token = takeToken();
    if (main.dataset.portal) {
      location.replace(main.dataset.portal + '/' + kind + '#' + encodeURIComponent(token));
      return;
    }
    const lookup = (latest += 1);
    main.dataset.ready = 'false';
    if (!token) return show(unknown);
    fetch('/api/' + kind + '/lookup', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
      referrerPolicy: 'no-referrer',
      credentials: 'omit',
      cache: 'no-store',
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((answer) => lookup === latest && show(answer.page))
      .catch(() => lookup === latest && show(unknown));
  };
  window.addEventListener('hashchange', open);
  open();
})();
`;

export const linkPageScriptFunction = defineHttp({
  name: 'linkPageScript',
  methods: ['GET'],
  route: linkPageScriptPath,
  summary: 'The script of the invitation link pages (reads the token after #, looks it up)',
  tags: ['links'],
  access: { kind: 'anonymous' },
  responses: { 200: { description: 'JavaScript', contentType: 'text/javascript' } },
  errors: [],
  async handle() {
    return {
      status: 200,
      headers: {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=300',
      },
      text: linkPageScript,
    };
  },
});
