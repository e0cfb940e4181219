// Starting and signalling journey runs. Workflow ids are `jrny:<journeyId>:<patient ref>`: the
// journey's database id and the patient's opaque random surrogate — never an MRN, email or name.
import { Client, Connection, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { engagementSignal, patientEventSignal, type EngagementSignal, type PatientEventSignal } from '../../workflows/messages.ts';
import { EnrollmentStateKey, JourneyIdKey, JourneyNodeKey, JourneyVersionKey } from '../../workflows/search-attributes.ts';
import type { JourneyWorkflowInput } from '../../workflows/journey.workflow.ts';

const WORKFLOW_TYPE = 'journeyWorkflow';
/** A request to Temporal that takes longer than this is reported as unavailable, not left hanging. */
const CALL_DEADLINE_MS = 10_000;

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Connects lazily, so the API starts (and reports itself degraded) while Temporal is down. */
export function connectClient(settings: TemporalSettings): Client {
  return new Client({ connection: Connection.lazy({ address: settings.address }), namespace: settings.namespace });
}

export function journeyWorkflowId(journeyId: string, patientRef: string): string {
  return `jrny:${journeyId}:${patientRef}`;
}

export type StartOutcome = 'running' | 'already_closed';

/**
 * Starts the journey run, or signals it if it already runs (conflict policy USE_EXISTING), so a
 * duplicate event never enrolls twice. A run that already closed is not started again.
 */
export async function startOrSignalJourney(
  client: Client,
  settings: TemporalSettings,
  workflowId: string,
  input: JourneyWorkflowInput,
  event: PatientEventSignal,
): Promise<StartOutcome> {
  try {
    await client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
      client.workflow.signalWithStart(WORKFLOW_TYPE, {
        workflowId,
        taskQueue: settings.taskQueue,
        args: [input],
        signal: patientEventSignal,
        signalArgs: [event],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: JourneyIdKey, value: input.journeyId },
          { key: JourneyVersionKey, value: input.version },
          { key: JourneyNodeKey, value: 'start' },
          { key: EnrollmentStateKey, value: 'new' },
        ],
      }),
    );
    return 'running';
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return 'already_closed';
    throw e;
  }
}

/** Delivers an engagement to the run; false when it is no longer running (nothing to branch). */
export async function signalEngagement(client: Client, workflowId: string, signal: EngagementSignal): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + CALL_DEADLINE_MS, () =>
      client.workflow.getHandle(workflowId).signal(engagementSignal, signal),
    );
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

export async function temporalHealthy(client: Client): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + 3_000, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
