// The one generic journey workflow: a thin loop that feeds signals and timers to the pure
// interpreter and carries out the commands it returns through activities.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { JourneyActivities, DeliveryActivities } from './activity-types.ts';
import { advance, compileJourney, initialState, pendingCommands, type JourneyInput, type JourneyState, type Step } from './interpreter.ts';
import { engagementSignal, patientEventSignal, stateQuery } from './messages.ts';
import type { JourneyDefinition } from './schema.ts';
import { EnrollmentStateKey, JourneyNodeKey } from './search-attributes.ts';

export interface JourneyWorkflowInput {
  journeyId: string;
  version: number;
  enrollmentId: string;
  /** The published definition, by value: a run never changes version under a patient. */
  definition: JourneyDefinition;
  /** Task queue of the delivery worker (sends are rate-limited separately from journey logic). */
  deliveryTaskQueue: string;
  /** State carried across continue-as-new. */
  carried?: JourneyState;
}

export interface JourneyWorkflowResult {
  outcome: 'completed';
  visits: Record<string, number>;
}

const journeyActivities = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumInterval: '1 minute' },
});

export async function journeyWorkflow(input: JourneyWorkflowInput): Promise<JourneyWorkflowResult> {
  let journey;
  try {
    journey = compileJourney(input.definition);
  } catch {
    throw ApplicationFailure.nonRetryable('journey definition cannot run', 'InvalidDefinition');
  }
  const delivery = proxyActivities<DeliveryActivities>({
    taskQueue: input.deliveryTaskQueue,
    startToCloseTimeout: '2 minutes',
    // A reminder that could not go out within the hour is stale; fail rather than send late.
    scheduleToCloseTimeout: '1 hour',
    retry: { maximumInterval: '1 minute' },
  });

  const inbox: JourneyInput[] = [];
  setHandler(engagementSignal, (e) => void inbox.push({ type: 'engagement', ...e, at: Date.now() }));
  setHandler(patientEventSignal, (e) => void inbox.push({ type: 'patient_event', name: e.name, at: Date.now() }));

  let step: Step = input.carried
    ? { state: input.carried, commands: pendingCommands(journey, input.carried), trace: [] }
    : advance(journey, initialState(), { type: 'start', at: Date.now() });
  setHandler(stateQuery, () => step.state);
  let shownNode: string | null = null;

  for (;;) {
    const { state, commands } = step;
    if (state.cursor !== shownNode || commands[0]?.type === 'complete') {
      shownNode = state.cursor;
      upsertSearchAttributes([
        { key: JourneyNodeKey, value: state.cursor ?? 'start' },
        { key: EnrollmentStateKey, value: commands[0]?.type === 'complete' ? 'completed' : state.phase },
      ]);
    }
    const command = commands[0];
    if (!command) throw ApplicationFailure.nonRetryable('journey interpreter is stuck', 'InterpreterStuck');

    if (command.type === 'complete') {
      await journeyActivities.markEnrollmentCompleted({ enrollmentId: input.enrollmentId });
      await condition(allHandlersFinished);
      return { outcome: 'completed', visits: state.visits };
    }

    if (command.type === 'send_email') {
      const result = await delivery.deliverEmail({
        enrollmentId: input.enrollmentId,
        journeyId: input.journeyId,
        version: input.version,
        nodeId: command.nodeId,
        visit: command.visit,
        template: command.template,
        // Stable across retries, worker restarts and continue-as-new (visits are carried).
        idempotencyKey: `${workflowInfo().workflowId}:${command.nodeId}:${command.visit}`,
      });
      step = advance(journey, state, { type: 'sent', nodeId: command.nodeId, visit: command.visit, status: result.status, at: Date.now() });
      continue;
    }

    // Waiting: for a signal or the deadline, whichever comes first.
    if (inbox.length === 0) {
      if (workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return continueAsNew<typeof journeyWorkflow>({ ...input, carried: state });
      }
      const remaining = command.until - Date.now();
      if (remaining > 0) await condition(() => inbox.length > 0, remaining);
    }
    step = advance(journey, state, inbox.shift() ?? { type: 'tick', at: Date.now() });
  }
}
