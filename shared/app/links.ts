import type { Config } from '../config';

/** Pages a person reaches from an email without a token in the link. */
export type LandingPage =
  'enrollment' | 'enrollment-review' | 'transfers' | 'partnerships' | 'webhooks';

/** Every link in an email starts with PUBLIC_BASE_URL and lands on one of our /api/links routes. */
export function landingLink(config: Config, page: LandingPage): string {
  return `${config.links.publicBaseUrl}/api/links/${page}`;
}

/** Where the portal shows the same thing, when PORTAL_BASE_URL is set. */
export const portalPaths: Record<LandingPage, string> = {
  enrollment: '/enrollment',
  'enrollment-review': '/operator/enrollments',
  transfers: '/transfers',
  partnerships: '/indirect-providers',
  webhooks: '/settings/webhooks',
};
