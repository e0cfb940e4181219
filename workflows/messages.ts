// Signal and query definitions shared by the Temporal client (engine/temporal) and the workflow.
// Payloads carry ids and enums only, never PHI.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { EngagementType } from './schema.ts';
import type { JourneyState } from './interpreter.ts';

export interface EngagementSignal {
  nodeId: string;
  visit: number;
  event: EngagementType;
}

export interface PatientEventSignal {
  /** Id of the stored event; its data stays in Postgres. */
  eventId: string;
  name: string;
}

export const engagementSignal = defineSignal<[EngagementSignal]>('engagement');
export const patientEventSignal = defineSignal<[PatientEventSignal]>('patientEvent');
export const stateQuery = defineQuery<JourneyState>('journeyState');
