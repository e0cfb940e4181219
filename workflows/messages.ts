// Signal and query definitions shared by the Temporal client (engine/temporal) and the workflow.
// Payloads carry ids, names and booleans only, never PHI or event data.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { EngagementType } from './schema.ts';
import type { JourneyState } from './interpreter.ts';
import type { EventMatch } from './events.ts';

export interface EngagementSignal {
  nodeId: string;
  visit: number;
  event: EngagementType;
}

/** A patient event, already matched against the run's criteria by the API. */
export interface PatientEventSignal extends EventMatch {
  /** Id of the stored event; its data stays in Postgres. */
  eventId: string;
  name: string;
}

export const engagementSignal = defineSignal<[EngagementSignal]>('engagement');
export const patientEventSignal = defineSignal<[PatientEventSignal]>('patientEvent');
/** The patient's consent changed: pending sends are decided again (the send gate is the backstop). */
export const consentChangedSignal = defineSignal('consentChanged');
/** Ends the run cleanly (outcome "stopped"): the journey was stopped by an operator. */
export const stopSignal = defineSignal('stop');
export const stateQuery = defineQuery<JourneyState>('journeyState');
