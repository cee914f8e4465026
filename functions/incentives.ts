import {
  enrollInIncentiveProgram,
  incentiveInvitationLinkKind,
  readIncentiveInvitation,
  readIncentives,
} from '../shared/app/incentives';
import { defineHttp } from '../shared/http/define';
import { defineLinkLanding } from '../shared/http/link-landing';
import { created, ok } from '../shared/http/responses';
import {
  incentiveProgramParams,
  incentivesView,
  incentiveView,
} from '../shared/http/schemas/incentives';
import { toIncentiveView, toIncentiveViews } from '../shared/http/views';
import { errorResponses } from './responses';

/** docs/rules.md section 10: two incentive programs, managed separately; docs/api.md routes. */
export const getIncentives = defineHttp({
  name: 'getIncentives',
  methods: ['GET'],
  route: 'me/incentives',
  summary: 'The two incentive programs and where the partner stands in each',
  tags: ['incentives'],
  access: { kind: 'signed-in' },
  responses: {
    200: { description: 'Both programs', schema: incentivesView },
    ...errorResponses(401, 404),
  },
  async handle({ principal, services }) {
    return ok(toIncentiveViews(await readIncentives(services, principal.tenantId)));
  },
});

export const enrollInIncentiveProgramFunction = defineHttp({
  name: 'enrollInIncentiveProgram',
  methods: ['POST'],
  route: 'me/incentives/{program}/enrollment',
  summary:
    'Enroll in one incentive program (global admin): indirect-reseller needs the invitation, direct-bill the direct-bill program',
  tags: ['incentives'],
  access: { kind: 'signed-in', roles: ['GlobalAdmin'] },
  params: incentiveProgramParams,
  responses: {
    201: { description: 'Enrolled', schema: incentiveView },
    200: { description: 'Already enrolled: the first enrollment', schema: incentiveView },
    ...errorResponses(400, 401, 403, 404),
  },
  async handle({ principal, params, services }) {
    const { partner, created: first } = await enrollInIncentiveProgram(
      services,
      principal,
      params.program,
    );
    const answer = toIncentiveView(partner, params.program);
    return first ? created(answer) : ok(answer);
  },
});

export const incentiveInvitationLanding = defineLinkLanding({
  name: 'incentiveInvitationLanding',
  kind: incentiveInvitationLinkKind,
  summary: 'Where the link of the incentives invitation email lands',
  async describe(services, token) {
    const invitation = await readIncentiveInvitation(services, token);
    return {
      title: 'Your invitation to the indirect reseller incentives',
      paragraphs: [
        `${invitation.companyName} is enrolled as an indirect reseller and is invited to enroll in the indirect reseller incentives program.`,
        'This invitation was sent to the email address of the MPN account associated with your tenant. The direct-bill incentive programs are managed separately: enrolling in one changes nothing in the other.',
        `This link works until ${invitation.expiresAt}.`,
      ],
      facts: [
        ['Partner', invitation.companyName],
        ['MPN ID', invitation.mpnId ?? 'not recorded'],
        ['Invited on', invitation.invitedAt],
        ['Link valid until', invitation.expiresAt],
      ],
      steps: [
        'Sign in to Partner Center as a global admin of your organisation.',
        'Open Incentives, then Indirect reseller incentives, and select Enroll (the portal calls POST /api/me/incentives/indirect-reseller/enrollment).',
        'The program then shows as enrolled; your direct-bill incentive programs stay as they are.',
      ],
    };
  },
});
