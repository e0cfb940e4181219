// Starting, signalling and scheduling journey runs. Workflow ids are `jrny:<journeyId>:<run ref>`:
// the journey's database id and an opaque random reference — never an MRN, email or name.
import { Client, Connection, ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowNotFoundError, type DataConverter } from '@temporalio/common';
import {
  consentChangedSignal,
  engagementSignal,
  patientEventSignal,
  stopSignal,
  type EngagementSignal,
  type PatientEventSignal,
} from '../../workflows/messages.ts';
import { EnrollmentStateKey, JourneyIdKey, JourneyNodeKey, JourneyVersionKey } from '../../workflows/search-attributes.ts';
import type { JourneyWorkflowInput } from '../../workflows/journey.workflow.ts';
import type { Schedule } from '../../workflows/index.ts';

/** A request to Temporal that takes longer than this is reported as unavailable, not left hanging. */
const CALL_DEADLINE_MS = 10_000;

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

/**
 * Connects lazily, so the API starts (and reports itself degraded) while Temporal is down. The
 * data converter encrypts every payload the client sends and decrypts what it reads.
 */
export function connectClient(settings: TemporalSettings, dataConverter: DataConverter): Client {
  return new Client({ connection: Connection.lazy({ address: settings.address }), namespace: settings.namespace, dataConverter });
}

export function journeyWorkflowId(journeyId: string, runRef: string): string {
  return `jrny:${journeyId}:${runRef}`;
}

const withDeadline = <T>(client: Client, fn: () => Promise<T>) => client.withDeadline(Date.now() + CALL_DEADLINE_MS, fn);

/** Temporal could not be reached, so a request certainly did not take effect. */
export class TemporalUnreachableError extends Error {
  constructor() {
    super('the workflow service is unreachable');
    this.name = 'TemporalUnreachableError';
  }
}

/**
 * Starts the run; starting it again is harmless (conflict policy USE_EXISTING), so a retried
 * enrollment converges. A run id that already closed is never started again.
 */
export async function startJourneyRun(
  client: Client,
  settings: TemporalSettings,
  workflowId: string,
  input: JourneyWorkflowInput,
): Promise<'running' | 'already_closed'> {
  // Connect first: failing here proves the run was not started, so the caller may roll back.
  // (After this point a timeout leaves the outcome unknown.)
  try {
    await withDeadline(client, () => client.connection.ensureConnected());
  } catch {
    throw new TemporalUnreachableError();
  }
  try {
    await withDeadline(client, () =>
      client.workflow.start('journeyWorkflow', {
        workflowId,
        taskQueue: settings.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [
          { key: JourneyIdKey, value: input.journeyId },
          { key: JourneyVersionKey, value: input.version },
          { key: JourneyNodeKey, value: 'start' },
          { key: EnrollmentStateKey, value: 'active' },
        ],
      }),
    );
    return 'running';
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) return 'already_closed';
    throw e;
  }
}

/** AUTH-03: queues the delivery of a patient's authorization copy; throws when Temporal is unreachable. */
export async function startAuthorizationCopy(
  client: Client,
  settings: TemporalSettings & { deliveryTaskQueue: string },
  authorizationId: string,
  maximumAttempts: number,
): Promise<void> {
  try {
    await withDeadline(client, () => client.connection.ensureConnected());
  } catch {
    throw new TemporalUnreachableError();
  }
  await withDeadline(client, () =>
    client.workflow.start('authorizationCopyWorkflow', {
      workflowId: `authcopy:${authorizationId}`,
      taskQueue: settings.taskQueue,
      args: [{ authorizationId, deliveryTaskQueue: settings.deliveryTaskQueue, maximumAttempts }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  );
}

/** Signals a run; false when it is no longer running. */
async function signal(client: Client, workflowId: string, send: (h: ReturnType<Client['workflow']['getHandle']>) => Promise<void>): Promise<boolean> {
  try {
    await withDeadline(client, () => send(client.workflow.getHandle(workflowId)));
    return true;
  } catch (e) {
    if (e instanceof WorkflowNotFoundError) return false;
    throw e;
  }
}

export const signalEngagement = (client: Client, workflowId: string, s: EngagementSignal) =>
  signal(client, workflowId, (h) => h.signal(engagementSignal, s));
export const signalPatientEvent = (client: Client, workflowId: string, s: PatientEventSignal) =>
  signal(client, workflowId, (h) => h.signal(patientEventSignal, s));
export const signalStop = (client: Client, workflowId: string) => signal(client, workflowId, (h) => h.signal(stopSignal));
export const signalConsentChanged = (client: Client, workflowId: string) => signal(client, workflowId, (h) => h.signal(consentChangedSignal));

export function audienceScheduleId(journeyId: string): string {
  return `aud:${journeyId}`;
}

/** Creates the Temporal Schedule that runs a journey's audience entry, or updates it in place. */
export async function upsertAudienceSchedule(client: Client, settings: TemporalSettings, journeyId: string, schedule: Schedule): Promise<void> {
  const scheduleId = audienceScheduleId(journeyId);
  const options = {
    spec:
      'at' in schedule
        ? { calendars: [calendarAt(new Date(schedule.at))] }
        : { cronExpressions: [schedule.cron], timezone: schedule.timezone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'audienceRunWorkflow',
      workflowId: `aud:${journeyId}`,
      taskQueue: settings.taskQueue,
      args: [{ journeyId }],
    },
    policies: { overlap: 'SKIP' as const, catchupWindow: '1 hour' },
  };
  // Update in place rather than delete-then-create: a refused new spec leaves the old schedule.
  try {
    await withDeadline(client, () => client.schedule.getHandle(scheduleId).update(() => ({ ...options, state: { paused: false } })));
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
    await withDeadline(client, () => client.schedule.create({ scheduleId, ...options }));
  }
}

export async function deleteAudienceSchedule(client: Client, journeyId: string): Promise<void> {
  try {
    await withDeadline(client, () => client.schedule.getHandle(audienceScheduleId(journeyId)).delete());
  } catch (e) {
    if (!(e instanceof ScheduleNotFoundError)) throw e;
  }
}

function calendarAt(d: Date) {
  return {
    year: d.getUTCFullYear(),
    month: (['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'] as const)[d.getUTCMonth()]!,
    dayOfMonth: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

export async function temporalHealthy(client: Client): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + 3_000, () => client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
