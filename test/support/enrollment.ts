import type { ApiResponse, TestApp } from './app';
import { createPartnerWithProfile, type MasterRecordInput } from './builders';

export const primaryContact = {
  firstName: 'Pat',
  lastName: 'Lee',
  email: 'pat.lee@contoso.example',
  phone: '+1 425 555 0100',
};

export function enrollmentForm(
  record: { companyName: string; mpnId: string | null },
  overrides: Record<string, unknown> = {},
) {
  return {
    reviewedDetails: { companyName: record.companyName, mpnId: record.mpnId ?? '1234567' },
    primaryContact,
    authorizationConfirmed: true,
    irreversibleAcknowledged: true,
    ...overrides,
  };
}

export async function submitEnrollment(
  app: TestApp,
  partner: { record: { companyName: string; mpnId: string | null }; adminToken: string },
  overrides: Record<string, unknown> = {},
): Promise<ApiResponse> {
  return app.api('POST', '/api/me/enrollment', {
    token: partner.adminToken,
    body: enrollmentForm(partner.record, overrides),
  });
}

/** A partner whose enrollment was approved at once (MPN ID verified). */
export async function approvedPartner(app: TestApp, overrides: MasterRecordInput = {}) {
  const partner = await createPartnerWithProfile(app, { mpnVerified: true, ...overrides });
  const response = await submitEnrollment(app, partner);
  if (response.status !== 201 || response.body.status !== 'approved') {
    throw new Error(`enrollment not approved: ${response.status} ${response.text}`);
  }
  return partner;
}

/** A partner that has accepted the agreement: an active indirect reseller ("both"). */
export async function activeReseller(app: TestApp, overrides: MasterRecordInput = {}) {
  const partner = await approvedPartner(app, overrides);
  const agreement = await app.api('GET', '/api/me/agreement', { token: partner.adminToken });
  const accepted = await app.api('POST', '/api/me/agreement/acceptance', {
    token: partner.adminToken,
    body: { templateId: agreement.body.templateId, version: agreement.body.version },
  });
  if (accepted.status !== 201)
    throw new Error(`agreement not accepted: ${accepted.status} ${accepted.text}`);
  return partner;
}
