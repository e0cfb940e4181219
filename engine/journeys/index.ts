// Journeys: drafts, immutable published versions, enrollment of patients by events, and routing
// of engagement (opens, clicks) back to the run that sent the message.
export { createJourneyService, type JourneyService, type EnrollmentReport } from './service.ts';
export { JourneyInvalidError, NotFoundError } from './errors.ts';
