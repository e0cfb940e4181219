// Consent: HIPAA authorizations (from the API or FHIR R4 Consent) and their ends (revocation, expiry events), the one suppression
// ledger, confidential-communication directives and agreed restrictions — and `decide`, the pure
// deny-by-default policy every send goes through, at enrollment and again just before sending.
export { decide, isCommercial, isMarketing, authorizationProblems, representativeProblems, saleOfPhiProblems, calendarDaysBetween, FUNDRAISING_FIELDS, CHANNELS, REFILL_LAPSE_DAYS } from './decide.ts';
export type { ConsentFacts, ConsentSettings, Decision, Step, AuthorizationFacts } from './decide.ts';
export { NewAuthorization, authorizationDefects, expiryInstant, documentHash, REPRESENTATIVE_AUTHORITIES } from './authorizations.ts';
export { majorityInstant, DEFAULT_AGE_OF_MAJORITY } from './majority.ts';
export {
  addDirective,
  addRestriction,
  addSuppression,
  addUnencryptedEmailElection,
  ConsentInvalidError,
  createAuthorization,
  endAuthorization,
  gate,
  loadConsentFacts,
  lockPatient,
  recordUnsubscribe,
  stepOf,
} from './ledger.ts';
export type { GateRequest } from './ledger.ts';
export { minimumNecessaryProblems, type MinimumProblem } from './minimum.ts';
export { authorizationFromConsent, operationOutcome, EXT as FHIR_EXTENSIONS } from './fhir.ts';
