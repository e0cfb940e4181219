// Simulation: runs a definition for one made-up patient against a script of events and clock
// advances, with the interpreter and the same pure rules the engine uses (expressions, event
// matching, send windows, frequency caps). Nothing is sent and nothing is stored; no Temporal.
import { durationToMs } from './duration.ts';
import { applyTags, evaluateBool, evaluateTime, patientUpdate, type ExpressionContext } from './expressions.ts';
import { matchPatientEvent, occurrenceKey } from './events.ts';
import {
  advance,
  compileJourney,
  initialState,
  type Command,
  type JourneyInput,
  type JourneyState,
  type Outcome,
  type SendResult,
  type TraceEntry,
} from './interpreter.ts';
import type { EngagementType, JourneyDefinition, NodeOf } from './schema.ts';
import { capDecision, sendWindowFor, timeZoneFor, windowDecision } from './send-window.ts';

export type SimulationStep =
  | { advance: string }
  | { event: string; data?: Record<string, unknown> }
  | { engagement: { message: string; event: EngagementType } }
  | { stop: true };

export interface SimulationRequest {
  /** Simulated start time (epoch ms). */
  start: number;
  /** The patient as the journey sees it: built-in fields (givenName, timezone, tags…) and attributes. */
  patient: Record<string, unknown>;
  /** Data of the entry event. */
  trigger?: Record<string, unknown>;
  /** Split seed; a stand-in for the patient's opaque ref. */
  seed?: string;
  /** Sends to this patient from other journeys (epoch ms), for frequency caps. */
  recentSends?: number[];
  defaultTimeZone: string;
  script: SimulationStep[];
  /** After the script, keep letting time pass until the journey ends (bounded). */
  runToEnd?: boolean;
}

export interface SimulatedMessage {
  nodeId: string;
  visit: number;
  template: string;
  purpose: string;
  at: string;
}

export interface SimulationResult {
  /** False when the entry's filter keeps this patient out. */
  enrolled: boolean;
  /** Null when the journey is still running at the end of the script (or never started). */
  outcome: Outcome | null;
  path: string[];
  decisions: (Omit<TraceEntry, 'at'> & { at: string })[];
  messages: SimulatedMessage[];
  webhooks: { nodeId: string; at: string }[];
  conversions: { path: string[]; at: string }[];
  patient: Record<string, unknown>;
  state: JourneyState;
  endedAt: string;
}

const MAX_STEPS = 10_000;

export function simulateJourney(definition: JourneyDefinition, request: SimulationRequest): SimulationResult {
  const journey = compileJourney(definition);
  const patient: Record<string, unknown> = structuredClone(request.patient);
  const trigger = request.trigger ?? {};
  const entry = definition.nodes.find((n) => n.type === 'entry');
  const key = occurrenceKey(definition, trigger);
  const sends = [...(request.recentSends ?? [])];
  const result: SimulationResult = {
    enrolled: true,
    outcome: null,
    path: [],
    decisions: [],
    messages: [],
    webhooks: [],
    conversions: [],
    patient,
    state: initialState(request.seed ?? 'simulation'),
    endedAt: '',
  };
  let clock = request.start;
  let steps = 0;
  let events = 0;
  let state = result.state;
  let commands: Command[] = [];
  const iso = (t: number) => new Date(t).toISOString();
  const context = (): ExpressionContext => ({ trigger, patient, visits: state.visits, now: clock });

  const feed = (input: JourneyInput) => {
    if (++steps > MAX_STEPS) throw new Error(`simulation stopped after ${MAX_STEPS} steps`);
    const step = advance(journey, state, input);
    state = step.state;
    commands = step.commands;
    result.decisions.push(...step.trace.map((t) => ({ ...t, at: iso(t.at) })));
    for (const c of commands) if (c.type === 'record_goal') result.conversions.push({ path: c.path, at: iso(clock) });
    run();
  };

  // Carries out effects at once, as the engine's activities would, until the journey waits or ends.
  const run = () => {
    const command = commands.find((c) => c.type !== 'record_goal');
    if (!command || command.type === 'wait') return;
    switch (command.type) {
      case 'complete':
        result.outcome = command.outcome;
        return;
      case 'send_email':
        return feed({ type: 'sent', nodeId: command.nodeId, visit: command.visit, result: send(command), at: clock });
      case 'evaluate': {
        const node = journey.nodes.get(command.nodeId)!;
        const r =
          node.type === 'condition'
            ? evaluateBool(definition.data, { kind: 'node' }, node.when, context())
            : evaluateTime(definition.data, { kind: 'node' }, (node as NodeOf<'wait_until'>).at, context());
        return feed({ type: 'evaluated', nodeId: command.nodeId, visit: command.visit, result: r, at: clock });
      }
      case 'update_patient': {
        const update = patientUpdate(definition.data, journey.nodes.get(command.nodeId) as NodeOf<'update_patient'>, context());
        Object.assign(patient, update.set);
        patient.tags = applyTags((patient.tags as string[] | undefined) ?? [], update);
        return feed({ type: 'done', nodeId: command.nodeId, visit: command.visit, ok: true, at: clock });
      }
      case 'webhook':
        result.webhooks.push({ nodeId: command.nodeId, at: iso(clock) });
        return feed({ type: 'done', nodeId: command.nodeId, visit: command.visit, ok: true, at: clock });
    }
  };

  const send = (command: Extract<Command, { type: 'send_email' }>): SendResult => {
    const node = journey.nodes.get(command.nodeId) as NodeOf<'send_email'>;
    const held =
      windowDecision(sendWindowFor(definition, node), timeZoneFor(patient.timezone, request.defaultTimeZone), clock) ??
      capDecision(definition.rules.frequencyCap, sends, clock);
    if (held) return held;
    sends.push(clock);
    result.messages.push({ nodeId: node.id, visit: command.visit, template: node.template, purpose: node.purpose, at: iso(clock) });
    return { status: 'accepted' };
  };

  /** Lets simulated time pass to `target`, firing timers on the way. */
  const passTime = (target: number) => {
    for (;;) {
      const wait = commands.find((c) => c.type === 'wait');
      if (result.outcome || !wait || wait.type !== 'wait' || wait.until > target) break;
      clock = Math.max(clock, wait.until);
      feed({ type: 'tick', at: clock });
    }
    clock = Math.max(clock, target);
  };

  // The engine's enrollment rules that apply to one patient: the occurrence key and the entry filter.
  const refusal = ((): string | null => {
    if (entry?.type !== 'entry') return null;
    if (entry.key && key === null) return `the trigger has no "${entry.key}": not enrolled`;
    if (!entry.when) return null;
    const passes = evaluateBool(definition.data, { kind: 'entry' }, entry.when, { trigger, patient, now: clock });
    if (passes.ok && passes.value) return null;
    return passes.ok ? 'entry filter not met: not enrolled' : `entry filter could not be evaluated (${passes.error}): not enrolled`;
  })();
  if (entry && refusal) {
    result.enrolled = false;
    result.decisions.push({ at: iso(clock), nodeId: entry.id, decision: refusal });
    result.endedAt = iso(clock);
    return result;
  }
  feed({ type: 'start', at: clock });
  for (const s of request.script) {
    if (result.outcome) break;
    if ('advance' in s) {
      const ms = durationToMs(s.advance);
      if (ms === null) throw new Error(`"${s.advance}" is not an ISO 8601 duration`);
      passTime(clock + ms);
    } else if ('event' in s) {
      const match = matchPatientEvent(definition, { trigger, patient, key }, { name: s.event, data: s.data ?? {} }, clock);
      feed({ type: 'patient_event', eventId: `simulated-${++events}`, name: s.event, ...match, at: clock });
    } else if ('engagement' in s) {
      const visit = state.sent[s.engagement.message];
      if (visit !== undefined) feed({ type: 'engagement', nodeId: s.engagement.message, visit, event: s.engagement.event, at: clock });
    } else if ('stop' in s) {
      feed({ type: 'stop', at: clock });
    }
  }
  if (request.runToEnd) {
    for (let i = 0; i < MAX_STEPS && !result.outcome; i++) {
      const wait = commands.find((c) => c.type === 'wait');
      if (!wait || wait.type !== 'wait') break;
      passTime(wait.until);
    }
  }
  result.state = state;
  result.path = [...state.path];
  result.endedAt = iso(clock);
  return result;
}
