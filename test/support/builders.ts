import type { TestApp } from './app';
import { newTenantId } from './ids';

export interface MasterRecordInput {
  companyName?: string;
  mpnId?: string | null;
  mpnVerified?: boolean;
  mpnAccountEmail?: string | null;
  country?: string;
  programs?: {
    directBill: boolean;
    indirectProvider?: { regions: string[]; services: string[] };
  };
}

let nextMpnId = 1_000_000 + Math.floor(Math.random() * 8_000_000);

/** MPN IDs identify one partner each: the builders hand out distinct ones. */
export const uniqueMpnId = (): string => String((nextMpnId += 1));

export function masterRecord(overrides: MasterRecordInput = {}): Required<MasterRecordInput> {
  return {
    companyName: 'Contoso Ltd',
    mpnId: uniqueMpnId(),
    mpnVerified: true,
    mpnAccountEmail: 'mpn-account@contoso.example',
    country: 'US',
    programs: { directBill: true },
    ...overrides,
  };
}

/** An operator creates the partner's master record through the API. */
export async function createPartner(
  app: TestApp,
  overrides: MasterRecordInput = {},
  partnerId: string = newTenantId(),
): Promise<{ partnerId: string; record: Required<MasterRecordInput> }> {
  const record = masterRecord(overrides);
  const response = await app.api('PUT', `/api/operator/partners/${partnerId}`, {
    token: await app.operatorToken(),
    body: record,
  });
  if (response.status !== 201)
    throw new Error(`creating partner failed: ${response.status} ${response.text}`);
  return { partnerId, record };
}

export function profile(
  record: { companyName: string; mpnId: string | null; country?: string },
  overrides: Record<string, unknown> = {},
) {
  return {
    companyName: record.companyName,
    mpnId: record.mpnId ?? '1234567',
    address: {
      line1: '1 Main Street',
      city: 'Seattle',
      postalCode: '98052',
      country: record.country ?? 'US',
    },
    primaryContact: {
      firstName: 'Pat',
      lastName: 'Lee',
      email: 'pat.lee@contoso.example',
      phone: '+1 425 555 0100',
    },
    ...overrides,
  };
}

export async function globalAdminToken(
  app: TestApp,
  partnerId: string,
  extra: { name?: string; email?: string; oid?: string } = {},
): Promise<string> {
  return app.token({
    tenant: partnerId,
    roles: ['GlobalAdmin'],
    name: 'Gina Admin',
    email: 'gina@partner.example',
    ...extra,
  });
}

/** A partner whose global admin has confirmed a complete profile. */
export async function createPartnerWithProfile(
  app: TestApp,
  overrides: MasterRecordInput = {},
): Promise<{ partnerId: string; record: Required<MasterRecordInput>; adminToken: string }> {
  const { partnerId, record } = await createPartner(app, overrides);
  const adminToken = await globalAdminToken(app, partnerId);
  const response = await app.api('PUT', '/api/me/profile', {
    token: adminToken,
    body: profile(record),
  });
  if (response.status !== 200)
    throw new Error(`profile failed: ${response.status} ${response.text}`);
  return { partnerId, record, adminToken };
}
