// Journeys: drafts and immutable published versions, enrollment (entry filters, occurrence keys,
// re-entry rules, consent at entry), events routed to running journeys (exit criteria, goals,
// waits), engagement and unsubscribes, consent changes told to running runs, saved audiences with
// their scheduled runs, stopping, and simulation.
import type { TrackingClaim } from '../delivery/index.ts';
import * as audiences from './audiences.ts';
import * as definitions from './definitions.ts';
import type { JourneyDeps } from './deps.ts';
import { recordEngagement } from './engagement.ts';
import { recordEvent } from './events.ts';
import * as consent from './consent.ts';
import { simulate } from './simulate.ts';

export { JourneyInvalidError, NotFoundError } from './errors.ts';
export { ExportRefusedError } from './audiences.ts';
export type { EnrollmentReport } from './enroll.ts';
export type { JourneyDeps } from './deps.ts';

export type JourneyService = ReturnType<typeof createJourneyService>;

export function createJourneyService(deps: JourneyDeps) {
  return {
    validate: (input: unknown) => definitions.checkDefinition(deps, input),
    createJourney: (input: unknown, principal?: string) => definitions.createJourney(deps, input, principal),
    updateDraft: (id: string, input: unknown, principal?: string) => definitions.updateDraft(deps, id, input, principal),
    publish: (id: string, principal?: string) => definitions.publish(deps, id, principal),
    stop: (id: string) => definitions.stopJourney(deps, id),
    getJourney: (id: string) => definitions.getJourney(deps, id),
    listJourneys: () => definitions.listJourneys(deps),
    listEnrollments: (id: string) => definitions.listEnrollments(deps, id),
    conversions: (id: string) => definitions.conversionsByPath(deps, id),
    simulate: (id: string, input: unknown) => simulate(deps, id, input),
    recordEvent: (input: { name: string; patientId: string; data?: Record<string, unknown> }) => recordEvent(deps, input),
    recordEngagement: (claim: TrackingClaim) => recordEngagement(deps, claim),
    recordAuthorization: (patientId: string, input: unknown) => consent.recordAuthorization(deps, patientId, input),
    recordFhirAuthorization: (patientId: string, resource: unknown) => consent.recordFhirAuthorization(deps, patientId, resource),
    endAuthorization: (patientId: string, authorizationId: string, input: unknown) => consent.endPatientAuthorization(deps, patientId, authorizationId, input),
    recordConsentEntry: (patientId: string, kind: consent.ConsentEntryKind, input: unknown) => consent.recordConsentEntry(deps, patientId, kind, input),
    consentOverview: (patientId: string) => consent.consentOverview(deps, patientId),
    /** A consent-relevant patient fact changed (a birth date: AUTH-09): running runs decide again. */
    consentFactsChanged: (patientId: string) => consent.notifyConsentChanged(deps, patientId),
    listAuthorizationCopies: (status: string) => consent.listAuthorizationCopies(deps, status),
    unsubscribe: (claim: TrackingClaim) => consent.unsubscribe(deps, claim),
    createAudience: (input: unknown) => audiences.createAudience(deps, input),
    listAudiences: () => audiences.listAudiences(deps),
    countAudience: (id: string) => audiences.countAudience(deps, id),
    exportAudience: (id: string, input: unknown, principal: string) => audiences.exportAudience(deps, id, input, principal),
    enrollAudiencePage: (request: { journeyId: string; cursor: string | null }, heartbeat?: (cursor: string) => void) =>
      audiences.enrollAudiencePage(deps, request, heartbeat),
  };
}
