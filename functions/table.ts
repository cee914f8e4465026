import type { HttpFunctionDefinition } from '../shared/http/define';
import type { FunctionDefinition } from '../shared/functions';
import { defineUnmatchedRoute } from '../shared/http/unmatched';
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
  revokeCustomerInvitationFunction,
  sendCustomerInvitationFunction,
} from './customer-invitations';
import { createCustomerFunction, getCustomer, listCustomersFunction } from './customers';
import { apiReference, apiReferenceAssetFunction } from './docs';
import { health } from './health';
import {
  enrollInIncentiveProgramFunction,
  getIncentives,
  incentiveInvitationLanding,
  lookupIncentiveInvitation,
} from './incentives';
import { linkPageScriptFunction } from '../shared/http/link-landing';
import {
  enrollmentLanding,
  enrollmentReviewLanding,
  partnershipsLanding,
  transfersLanding,
  webhooksLanding,
} from './landing';
import { getMe, putProfile } from './me';
import { openApiFunction } from './openapi';
import { getPartner, putPartner } from './partners';
import {
  endPartnershipFunction,
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
import { timerFunctions } from './timers';
import { getResellerPipeline, getTransition, getTransitionReport } from './transition';
import { getOperatorStatus, retryEmail } from './operator';
import { eventFeedFunction, operatorWebhookFunctions, partnerWebhookFunctions } from './webhooks';
import {
  acceptTransferFunction,
  createTransferFunction,
  extendRelationshipFunction,
  getTransferFunction,
  listTransfersFunction,
  rejectTransferFunction,
  transferEligibilityFunction,
  withdrawTransferFunction,
} from './transfers';

/**
 * The function table: every function of the app, declared once. functions/index.ts registers
 * it with the Azure Functions host; the local host (shared/local) serves the same rows.
 */
export const functionTable: readonly FunctionDefinition[] = [
  health,
  openApiFunction(httpFunctions),
  apiReference,
  apiReferenceAssetFunction,
  putPartner,
  getPartner,
  getMe,
  putProfile,
  getTransition,
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
  getResellerPipeline,
  endPartnershipFunction,
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
  revokeCustomerInvitationFunction,
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
  extendRelationshipFunction,
  transferEligibilityFunction,
  createTransferFunction,
  listTransfersFunction,
  getTransferFunction,
  acceptTransferFunction,
  rejectTransferFunction,
  withdrawTransferFunction,
  enrollmentLanding,
  enrollmentReviewLanding,
  transfersLanding,
  partnershipsLanding,
  webhooksLanding,
  getIncentives,
  enrollInIncentiveProgramFunction,
  incentiveInvitationLanding,
  lookupIncentiveInvitation,
  linkPageScriptFunction,
  ...partnerWebhookFunctions,
  ...operatorWebhookFunctions,
  eventFeedFunction,
  getOperatorStatus,
  retryEmail,
  getTransitionReport,
  defineUnmatchedRoute(httpFunctions),
  ...timerFunctions,
];

export function httpFunctions(): HttpFunctionDefinition[] {
  return functionTable.filter(
    (definition): definition is HttpFunctionDefinition => definition.kind === 'http',
  );
}
