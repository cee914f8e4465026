import { DomainError, validationFailed, type FieldError } from './errors';
import type { Partner } from './partner';

/** docs/rules.md section 1: the profile must have been confirmed within the last 12 months. */
export function profileStaleAfter(confirmedAt: Date): Date {
  const stale = new Date(confirmedAt);
  stale.setUTCMonth(stale.getUTCMonth() + 12);
  return stale;
}

/** Each missing or stale item of the profile, as a field error a portal can show. */
export function profileProblems(partner: Partner, now: Date): FieldError[] {
  const profile = partner.profile;
  if (profile === null) {
    return [
      {
        path: 'profile',
        message: 'the partner profile has never been confirmed; a global admin must confirm it',
      },
    ];
  }
  const problems: FieldError[] = [];
  const required: [string, string][] = [
    ['profile.companyName', profile.companyName],
    ['profile.address.line1', profile.address.line1],
    ['profile.address.city', profile.address.city],
    ['profile.address.postalCode', profile.address.postalCode],
    ['profile.address.country', profile.address.country],
    ['profile.primaryContact.firstName', profile.primaryContact.firstName],
    ['profile.primaryContact.lastName', profile.primaryContact.lastName],
    ['profile.primaryContact.email', profile.primaryContact.email],
    ['profile.primaryContact.phone', profile.primaryContact.phone],
  ];
  for (const [path, value] of required) {
    if (value.trim() === '') problems.push({ path, message: 'is missing' });
  }
  if (!(partner.mpnId ?? profile.mpnId))
    problems.push({ path: 'profile.mpnId', message: 'is missing' });
  const staleAt = profileStaleAfter(new Date(profile.confirmedAt));
  if (now.getTime() > staleAt.getTime()) {
    problems.push({
      path: 'profile.confirmedAt',
      message: `the profile was last confirmed on ${profile.confirmedAt.slice(0, 10)}, more than 12 months ago; confirm it again`,
    });
  }
  return problems;
}

/** Only a direct-bill partner with a current, complete profile may enroll (section 1). */
export function assertEligible(partner: Partner, now: Date): void {
  if (!partner.programs.directBill) {
    throw new DomainError(
      'not-eligible',
      'Only a partner in the direct-bill program can enroll as an indirect reseller with its existing tenant.',
    );
  }
  const problems = profileProblems(partner, now);
  if (problems.length > 0) {
    throw new DomainError(
      'profile-incomplete',
      'Update and confirm the partner profile before enrolling: ' +
        problems.map((problem) => problem.path).join(', '),
      problems,
    );
  }
}

const sameText = (a: string, b: string): boolean =>
  a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();

/** The details the admin reviewed on the form must be the profile's own (section 2). */
export function assertReviewedDetailsMatch(
  partner: Partner,
  reviewed: {
    companyName: string;
    mpnId: string;
    address?: { line1: string; city: string; postalCode: string; country: string };
  },
): void {
  const profile = partner.profile!;
  const mismatches: FieldError[] = [];
  if (!sameText(reviewed.companyName, profile.companyName)) {
    mismatches.push({
      path: 'body.reviewedDetails.companyName',
      message: `does not match the profile ("${profile.companyName}")`,
    });
  }
  const mpnId = partner.mpnId ?? profile.mpnId;
  if (reviewed.mpnId.trim() !== mpnId) {
    mismatches.push({
      path: 'body.reviewedDetails.mpnId',
      message: `does not match the partner's MPN ID (${mpnId})`,
    });
  }
  if (reviewed.address) {
    for (const field of ['line1', 'city', 'postalCode', 'country'] as const) {
      if (!sameText(reviewed.address[field], profile.address[field])) {
        mismatches.push({
          path: `body.reviewedDetails.address.${field}`,
          message: 'does not match the profile',
        });
      }
    }
  }
  if (mismatches.length > 0) {
    throw validationFailed(
      mismatches,
      'The reviewed details do not match the partner profile; review them again.',
    );
  }
}

/** Every automatic check passed and the MPN ID is verified: approve at once (section 2). */
export function qualifiesForAutoApproval(partner: Partner): boolean {
  return partner.mpnVerified;
}
