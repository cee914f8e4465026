import type { HttpFunctionDefinition } from '../shared/http/define';
import type { FunctionDefinition } from '../shared/functions';
import {
  acceptAgreementFunction,
  decideEnrollmentFunction,
  deleteEnrollment,
  getActivity,
  getAgreement,
  getEnrollment,
  listEnrollmentQueue,
  submitEnrollmentFunction,
} from './enrollment';
import {
  assignLicense,
  createUserFunction,
  deleteUserFunction,
  listOrders,
  listSubscriptionsFunction,
  listUsersFunction,
  patchSubscription,
  placeOrderFunction,
  removeLicense,
} from './customer-actions';
import {
  acceptCustomerInvitationFunction,
  createCustomerInvitationFunction,
  customerInvitationDone,
  customerInvitationLanding,
  lookupCustomerInvitation,
  sendCustomerInvitationFunction,
} from './customer-invitations';
import { createCustomerFunction, getCustomer, listCustomersFunction } from './customers';
import { health } from './health';
import {
  enrollInIncentiveProgramFunction,
  getIncentives,
  incentiveInvitationLanding,
  lookupIncentiveInvitation,
} from './incentives';
import { linkPageScriptFunction } from '../shared/http/link-landing';
import { enrollmentLanding, enrollmentReviewLanding } from './landing';
import { getMe, putProfile } from './me';
import { openApiFunction } from './openapi';
import { getPartner, putPartner } from './partners';
import {
  listIndirectProviders,
  listMyIndirectProviders,
  listMyIndirectResellers,
} from './providers';
import {
  acceptPartnerInvitation,
  createResellerInvitation,
  lookupPartnerInvitation,
  listResellerInvitations,
  partnerInvitationLanding,
  revokeResellerInvitationFunction,
} from './reseller-invitations';
import {
  deliverEmailsTimer,
  escalatePendingEnrollmentsTimer,
  sendIncentiveInvitationsTimer,
} from './timers';

/**
 * The function table: every function of the app, declared once. functions/index.ts registers
 * it with the Azure Functions host; the local host (shared/local) serves the same rows.
 */
export const functionTable: readonly FunctionDefinition[] = [
  health,
  openApiFunction(httpFunctions),
  putPartner,
  getPartner,
  getMe,
  putProfile,
  getActivity,
  submitEnrollmentFunction,
  getEnrollment,
  deleteEnrollment,
  getAgreement,
  acceptAgreementFunction,
  listEnrollmentQueue,
  decideEnrollmentFunction,
  listIndirectProviders,
  listMyIndirectProviders,
  listMyIndirectResellers,
  createResellerInvitation,
  listResellerInvitations,
  revokeResellerInvitationFunction,
  lookupPartnerInvitation,
  acceptPartnerInvitation,
  partnerInvitationLanding,
  listCustomersFunction,
  getCustomer,
  createCustomerFunction,
  createCustomerInvitationFunction,
  sendCustomerInvitationFunction,
  customerInvitationDone,
  lookupCustomerInvitation,
  acceptCustomerInvitationFunction,
  customerInvitationLanding,
  placeOrderFunction,
  listOrders,
  listSubscriptionsFunction,
  patchSubscription,
  listUsersFunction,
  createUserFunction,
  deleteUserFunction,
  assignLicense,
  removeLicense,
  enrollmentLanding,
  enrollmentReviewLanding,
  getIncentives,
  enrollInIncentiveProgramFunction,
  incentiveInvitationLanding,
  lookupIncentiveInvitation,
  linkPageScriptFunction,
  deliverEmailsTimer,
  escalatePendingEnrollmentsTimer,
  sendIncentiveInvitationsTimer,
];

export function httpFunctions(): HttpFunctionDefinition[] {
  return functionTable.filter(
    (definition): definition is HttpFunctionDefinition => definition.kind === 'http',
  );
}
