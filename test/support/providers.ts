import type { ApiResponse, TestApp } from './app';
import { createPartner, globalAdminToken } from './builders';
import { activeReseller } from './enrollment';

export async function createProvider(
  app: TestApp,
  overrides: {
    companyName?: string;
    regions?: string[];
    services?: string[];
    country?: string;
  } = {},
) {
  const { partnerId, record } = await createPartner(app, {
    companyName: overrides.companyName ?? 'Adatum Distribution',
    country: overrides.country ?? 'US',
    programs: {
      directBill: false,
      indirectProvider: {
        regions: overrides.regions ?? ['US', 'CA'],
        services: overrides.services ?? ['training-support', 'marketing'],
      },
    },
  });
  return { partnerId, record, adminToken: await globalAdminToken(app, partnerId) };
}

export async function inviteReseller(
  app: TestApp,
  provider: { adminToken: string },
  reseller: { record: { mpnId: string | null } },
  email = 'admin@reseller.example',
): Promise<ApiResponse> {
  return app.api('POST', '/api/me/reseller-invitations', {
    token: provider.adminToken,
    body: { mpnId: reseller.record.mpnId, email },
  });
}

/** The secret of an invitation link: what follows `#` (it never reaches a server). */
export const tokenOf = (link: string): string => link.split('#').at(-1)!;

/** A provider and an active reseller in partnership through an accepted invitation. */
export async function partnership(app: TestApp, options: { country?: string } = {}) {
  const provider = await createProvider(app);
  const reseller = await activeReseller(app, { country: options.country ?? 'US' });
  const invited = await inviteReseller(app, provider, reseller);
  if (invited.status !== 201) throw new Error(`invite failed: ${invited.text}`);
  const accepted = await app.api('POST', '/api/partner-invitations/accept', {
    body: { token: tokenOf(invited.body.link) },
    token: reseller.adminToken,
  });
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.text}`);
  return { provider, reseller };
}
