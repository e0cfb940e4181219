// The one generic journey workflow: a thin loop that feeds signals, timers and activity results
// to the pure interpreter and carries out the commands it returns.
import {
  ActivityFailure,
  ApplicationFailure,
  ContinueAsNew,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { DeliveryActivities, JourneyActivities } from './activity-types.ts';
import {
  advance,
  compileJourney,
  initialState,
  pendingCommands,
  type CompiledJourney,
  type JourneyInput,
  type JourneyState,
  type Outcome,
  type SendResult,
  type Step,
} from './interpreter.ts';
import { consentChangedSignal, engagementSignal, patientEventSignal, stateQuery, stopSignal } from './messages.ts';
import type { JourneyDefinition } from './schema.ts';
import { EnrollmentStateKey, JourneyNodeKey } from './search-attributes.ts';

export interface JourneyWorkflowInput {
  journeyId: string;
  version: number;
  enrollmentId: string;
  /** Opaque per patient and journey: seeds splits so a patient always lands in the same arm. */
  seed: string;
  /** The published definition, by value: a run never changes version under a patient. */
  definition: JourneyDefinition;
  /** Task queue of the delivery worker (sends are rate-limited separately from journey logic). */
  deliveryTaskQueue: string;
  /** State carried across continue-as-new. */
  carried?: JourneyState;
}

export interface JourneyWorkflowResult {
  outcome: Outcome;
  visits: Record<string, number>;
}

const journeyActivities = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '1 minute' },
});
// Short database work on the journey worker itself: no trip through a task queue, so a run's
// reaction to a consent change (reconsider the send, end) fits in the workflow task that heard it.
// A local activity that keeps failing gives way to the ordinary path, which retries on its own.
const localActivities = proxyLocalActivities<Pick<JourneyActivities, 'reconsiderSend' | 'markEnrollmentEnded'>>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});
// Runs started before local activities existed replay their history on the old path. One patch
// for both uses: each patch a run meets costs a marker and a search-attribute write.
const LOCAL_ACTIVITIES = 'local-activities';
// A webhook that keeps failing must not stall the journey: give up after a few tries.
const webhookActivities = proxyActivities<Pick<JourneyActivities, 'callWebhook'>>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5, maximumInterval: '30 seconds' },
});

export async function journeyWorkflow(input: JourneyWorkflowInput): Promise<JourneyWorkflowResult> {
  let journey: CompiledJourney;
  try {
    journey = compileJourney(input.definition);
  } catch {
    throw ApplicationFailure.nonRetryable('journey definition cannot run', 'InvalidDefinition');
  }
  const delivery = proxyActivities<DeliveryActivities>({
    taskQueue: input.deliveryTaskQueue,
    startToCloseTimeout: '2 minutes',
    // A reminder that could not go out within the hour is stale: the send fails, the journey goes on.
    scheduleToCloseTimeout: '1 hour',
    retry: { maximumInterval: '1 minute', nonRetryableErrorTypes: ['EnrollmentNotFound'] },
  });
  const ids = { enrollmentId: input.enrollmentId, journeyId: input.journeyId, version: input.version };

  const inbox: JourneyInput[] = [];
  setHandler(engagementSignal, (e) => void inbox.push({ type: 'engagement', ...e, at: Date.now() }));
  setHandler(patientEventSignal, (e) =>
    void inbox.push({ type: 'patient_event', eventId: e.eventId, name: e.name, exit: e.exit, goal: e.goal, waits: e.waits, at: Date.now() }),
  );
  setHandler(stopSignal, () => void inbox.push({ type: 'stop', at: Date.now() }));
  setHandler(consentChangedSignal, () => void inbox.push({ type: 'consent_changed', at: Date.now() }));

  let step: Step = input.carried
    ? { state: input.carried, commands: pendingCommands(journey, input.carried), trace: [] }
    : advance(journey, initialState(input.seed), { type: 'start', at: Date.now() });
  setHandler(stateQuery, () => step.state);

  async function feed(next: JourneyInput) {
    step = advance(journey, step.state, next);
    for (const c of step.commands) {
      if (c.type === 'record_goal') await journeyActivities.recordGoal({ enrollmentId: input.enrollmentId, path: c.path });
    }
  }

  try {
    return await run();
  } catch (e) {
    // A run that fails still frees the patient's slot (re-entry) and says so; continue-as-new and
    // cancellation are not failures.
    if (!(e instanceof ContinueAsNew) && !isCancellation(e)) {
      await journeyActivities.markEnrollmentEnded({ enrollmentId: input.enrollmentId, outcome: 'failed' }).catch(() => {});
    }
    throw e;
  }

  async function run(): Promise<JourneyWorkflowResult> {
    let shown = '';
    const show = (cursor: string | null, enrollmentState: string) => {
      if (`${cursor}/${enrollmentState}` === shown) return;
      shown = `${cursor}/${enrollmentState}`;
      upsertSearchAttributes([
        { key: JourneyNodeKey, value: cursor ?? 'start' },
        { key: EnrollmentStateKey, value: enrollmentState },
      ]);
    };
    for (;;) {
      // Signals first: a stop or an exit event must act before the next effect runs.
      if (inbox.length) {
        await feed(inbox.shift()!);
        continue;
      }
      const { state } = step;
      const command = step.commands.find((c) => c.type !== 'record_goal');
      const enrollmentState = state.outcome ?? (command?.type === 'wait' ? 'waiting' : 'active');
      // A reconsidered send is mostly settled within this workflow task: it shows as active only
      // if it goes on to the full send (below), sparing the visibility store a write per run.
      // (Asked here, before anything else this task does, so old runs replay their old order.)
      const reconsider = command?.type === 'send_email' && !!command.reconsider && patched(LOCAL_ACTIVITIES);
      if (!reconsider) show(state.cursor, enrollmentState);
      if (!command) throw ApplicationFailure.nonRetryable('journey interpreter is stuck', 'InterpreterStuck');
      if (command.type !== 'complete' && workflowInfo().continueAsNewSuggested) {
        // Between commands the whole run is in `state`: a pending effect is issued again on resume.
        await condition(allHandlersFinished);
        return continueAsNew<typeof journeyWorkflow>({ ...input, carried: state });
      }
      const at = () => Date.now();

      switch (command.type) {
        case 'complete': {
          const end = { enrollmentId: input.enrollmentId, outcome: command.outcome };
          const ended = patched(LOCAL_ACTIVITIES) && (await localActivities.markEnrollmentEnded(end).then(() => true, localGaveUp));
          if (!ended) await journeyActivities.markEnrollmentEnded(end);
          await condition(allHandlersFinished);
          return { outcome: command.outcome, visits: state.visits };
        }

        case 'send_email': {
          const request = {
            ...ids,
            nodeId: command.nodeId,
            visit: command.visit,
            template: command.template,
            idempotencyKey: `${workflowInfo().workflowId}:${command.nodeId}:${command.visit}`,
          };
          // A deferred send whose consent changed: most often the answer is "denied" or "still
          // held", which the early look gives without the delivery queue; the full send decides the rest.
          let result: SendResult | undefined;
          if (reconsider) {
            const look = await localActivities.reconsiderSend(request).catch(localGaveUp);
            if (look && look.status !== 'proceed') result = look;
          }
          if (!result) show(state.cursor, 'active');
          try {
            result ??= await delivery.deliverEmail(request);
          } catch (e) {
            if (!(e instanceof ActivityFailure) || activityErrorType(e) === 'EnrollmentNotFound') throw e;
            result = { status: 'failed' };
          }
          await feed({ type: 'sent', nodeId: command.nodeId, visit: command.visit, result, at: at() });
          break;
        }

        case 'evaluate': {
          const result = await journeyActivities.evaluateNode({ ...ids, nodeId: command.nodeId, visit: command.visit, visits: state.visits });
          await feed({ type: 'evaluated', nodeId: command.nodeId, visit: command.visit, result, at: at() });
          break;
        }

        case 'update_patient':
          await journeyActivities.updatePatient({ ...ids, nodeId: command.nodeId, visit: command.visit, visits: state.visits });
          await feed({ type: 'done', nodeId: command.nodeId, visit: command.visit, ok: true, at: at() });
          break;

        case 'webhook': {
          let ok = true;
          try {
            await webhookActivities.callWebhook({
              ...ids,
              nodeId: command.nodeId,
              visit: command.visit,
              idempotencyKey: `${workflowInfo().workflowId}:${command.nodeId}:${command.visit}`,
            });
          } catch (e) {
            if (!(e instanceof ActivityFailure)) throw e;
            ok = false;
          }
          await feed({ type: 'done', nodeId: command.nodeId, visit: command.visit, ok, at: at() });
          break;
        }

        case 'wait': {
          const remaining = command.until - Date.now();
          if (remaining > 0) await condition(() => inbox.length > 0, remaining);
          if (inbox.length === 0) await feed({ type: 'tick', at: at() });
          break;
        }
      }
    }
  }
}

/** A local activity that failed for good: undefined (take the ordinary path), unless the run is gone or cancelled. */
function localGaveUp(e: unknown): undefined {
  if (!(e instanceof ActivityFailure) || isCancellation(e) || activityErrorType(e) === 'EnrollmentNotFound') throw e;
  return undefined;
}

function activityErrorType(e: ActivityFailure): string | undefined {
  return e.cause instanceof ApplicationFailure ? e.cause.type ?? undefined : undefined;
}
