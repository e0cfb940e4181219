// The pure journey interpreter: (journey, state, input) → (state, commands, trace). No I/O, no
// clock, no randomness: time arrives inside inputs, effects leave as commands, and their results
// come back as inputs. The Temporal workflow is a thin loop around it; the simulator and tests
// drive it directly. A patient's whole journey state is the plain JSON value below, so one
// workflow could advance many of them (cohorts).
import { durationToMs } from './duration.ts';
import { nodePorts } from './ports.ts';
import type { EngagementType, JourneyDefinition, JourneyNode, NodeOf } from './schema.ts';

export type Outcome = 'completed' | 'exited' | 'converted' | 'stopped';

export type SendResult =
  | { status: 'accepted' | 'uncertain' | 'failed' }
  /** Not now (outside the send window, or over the frequency cap): try again at `until`. */
  | { status: 'deferred'; until: number; reason: string }
  /** Not at all (over the frequency cap with `onCapped: skip`); the journey moves on. */
  | { status: 'skipped'; reason: string }
  /** Refused by the consent gate (authorization, suppression, directive…); the journey moves on. */
  | { status: 'denied'; reason: string };

export type EvaluationResult = { ok: true; value: boolean | number } | { ok: false; error: string };

/** Effects whose result the journey waits for, one at a time. */
type EffectKind = 'send' | 'evaluate' | 'update_patient' | 'webhook';

export type Awaiting =
  | { kind: Exclude<EffectKind, 'send'>; nodeId: string; visit: number }
  /** `reconsider`: a deferred send whose consent changed, decided again before its time. */
  | { kind: 'send'; nodeId: string; visit: number; reconsider?: boolean }
  /** A timer: at `until`, follow `port` (or, for a deferred send, try the send again). */
  | { kind: 'timer'; nodeId: string; until: number; port: string }
  | { kind: 'deferred_send'; nodeId: string; visit: number; until: number };

export interface JourneyState {
  /** Opaque per-patient seed: random splits are deterministic per patient. */
  seed: string;
  outcome: Outcome | null;
  /** The node the patient is at (null before the start). */
  cursor: string | null;
  /** How many times each node has been entered; a send's visit number is part of its idempotency key. */
  visits: Record<string, number>;
  /** Send node → visit number of its latest message. Engagement is matched to that message only. */
  sent: Record<string, number>;
  /** Engagements seen, as `node#visit:type`, bounded to the most recent. */
  engagements: string[];
  /** Nodes entered, in order (the most recent 200): the path a conversion is credited to. */
  path: string[];
  goalReached: boolean;
  /** Ids of patient events already handled (the most recent 100): a re-delivered event counts once. */
  seenEvents?: string[];
  awaiting: Awaiting | null;
}

export type JourneyInput =
  | { type: 'start'; at: number }
  | { type: 'sent'; nodeId: string; visit: number; result: SendResult; at: number }
  | { type: 'evaluated'; nodeId: string; visit: number; result: EvaluationResult; at: number }
  | { type: 'done'; nodeId: string; visit: number; ok: boolean; at: number }
  | { type: 'engagement'; nodeId: string; visit: number; event: EngagementType; at: number }
  /** A patient event, already matched against the journey's criteria by `matchPatientEvent`. */
  | { type: 'patient_event'; eventId: string; name: string; exit: boolean; goal: boolean; waits: string[]; at: number }
  | { type: 'tick'; at: number }
  /** The patient's consent changed (revocation, unsubscribe…): a deferred send is decided again now. */
  | { type: 'consent_changed'; at: number }
  | { type: 'stop'; at: number };

export type Command =
  /**
   * `reconsider`: the send was waiting (deferred) when the patient's consent changed; the gate and
   * the send window can answer at once, so the full send need not run unless they let it through.
   */
  | { type: 'send_email'; nodeId: string; visit: number; template: string; reconsider?: boolean }
  | { type: 'evaluate'; nodeId: string; visit: number }
  | { type: 'update_patient'; nodeId: string; visit: number }
  | { type: 'webhook'; nodeId: string; visit: number }
  /** Fire and forget: count a conversion for this path. */
  | { type: 'record_goal'; path: string[] }
  | { type: 'wait'; nodeId: string; until: number }
  | { type: 'complete'; outcome: Outcome };

export interface TraceEntry {
  at: number;
  nodeId: string;
  /** What happened at the node, in words a designer understands. */
  decision: string;
}

export interface Step {
  state: JourneyState;
  commands: Command[];
  trace: TraceEntry[];
}

/** A definition indexed for fast lookups; build once per run. */
export interface CompiledJourney {
  definition: JourneyDefinition;
  nodes: Map<string, JourneyNode>;
  next: Map<string, Map<string, string>>;
  entryId: string;
}

const MAX_ENGAGEMENTS = 200;
const MAX_PATH = 200;
const MAX_SEEN_EVENTS = 100;
/** Shortest deferral: a send deferred to "now" (clocks differ slightly) must not retry in a hot loop. */
const MIN_DEFERRAL_MS = 1_000;
/** Engagements that imply others: a click means the message was opened and delivered. */
const IMPLIES: Record<EngagementType, EngagementType[]> = {
  delivered: [],
  opened: ['delivered'],
  clicked: ['opened', 'delivered'],
  bounced: [],
  unsubscribed: ['delivered'],
};

export function compileJourney(definition: JourneyDefinition): CompiledJourney {
  const nodes = new Map(definition.nodes.map((n) => [n.id, n]));
  const next = new Map<string, Map<string, string>>();
  for (const edge of definition.edges) {
    const ports = next.get(edge.from) ?? new Map<string, string>();
    ports.set(edge.port ?? 'next', edge.to); // hand-written JSON may omit the default port
    next.set(edge.from, ports);
  }
  const entry = definition.nodes.find((n) => n.type === 'entry' || n.type === 'audience_entry');
  if (!entry) throw new Error('journey has no entry node');
  return { definition, nodes, next, entryId: entry.id };
}

export function initialState(seed: string): JourneyState {
  return { seed, outcome: null, cursor: null, visits: {}, sent: {}, engagements: [], path: [], goalReached: false, seenEvents: [], awaiting: null };
}

/** What a state is blocked on: the command to carry out (e.g. to resume after continue-as-new). */
export function pendingCommands(journey: CompiledJourney, state: JourneyState): Command[] {
  if (state.outcome) return [{ type: 'complete', outcome: state.outcome }];
  const a = state.awaiting;
  if (!a) return [];
  switch (a.kind) {
    case 'send': {
      const node = journey.nodes.get(a.nodeId) as NodeOf<'send_email'>;
      return [{ type: 'send_email', nodeId: a.nodeId, visit: a.visit, template: node.template, ...(a.reconsider ? { reconsider: true } : {}) }];
    }
    case 'evaluate':
    case 'update_patient':
    case 'webhook':
      return [{ type: a.kind, nodeId: a.nodeId, visit: a.visit }];
    case 'timer':
    case 'deferred_send':
      return [{ type: 'wait', nodeId: a.nodeId, until: a.until }];
  }
}

/** Deterministic position in [0, 1) for a patient at a split (FNV-1a over seed and node). */
export function splitPoint(seed: string, nodeId: string): number {
  let hash = 0x811c9dc5;
  for (const ch of `${seed}\u0000${nodeId}`) {
    hash ^= ch.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}

export function splitArm(node: NodeOf<'split'>, seed: string): string {
  const total = node.arms.reduce((s, a) => s + a.weight, 0);
  let point = splitPoint(seed, node.id) * total;
  for (const arm of node.arms) {
    if (point < arm.weight) return arm.name;
    point -= arm.weight;
  }
  return node.arms[node.arms.length - 1]!.name;
}

export function advance(journey: CompiledJourney, previous: JourneyState, input: JourneyInput): Step {
  // JSON round trip: the state must stay plain JSON, and the workflow sandbox lacks structuredClone.
  const state: JourneyState = JSON.parse(JSON.stringify(previous));
  const trace: TraceEntry[] = [];
  const side: Command[] = [];
  const at = input.at;
  const note = (nodeId: string, decision: string) => trace.push({ at, nodeId, decision });
  const awaiting = state.awaiting;
  const current = state.cursor ? journey.nodes.get(state.cursor) : undefined;
  const isAwaiting = (kind: Awaiting['kind'], nodeId: string, visit?: number) =>
    awaiting?.kind === kind && awaiting.nodeId === nodeId && (visit === undefined || ('visit' in awaiting && awaiting.visit === visit));

  if (!state.outcome) {
    switch (input.type) {
      case 'start':
        if (state.cursor === null) enter(journey.entryId);
        break;

      case 'sent': {
        if (!isAwaiting('send', input.nodeId, input.visit)) break;
        const r = input.result;
        if (r.status === 'deferred') {
          const until = Math.max(r.until, at + MIN_DEFERRAL_MS);
          note(input.nodeId, `send deferred until ${iso(until)} (${r.reason})`);
          state.awaiting = { kind: 'deferred_send', nodeId: input.nodeId, visit: input.visit, until };
          break;
        }
        if (r.status === 'skipped' || r.status === 'denied') {
          // No message this time: engagement with an earlier visit's message must not count.
          delete state.sent[input.nodeId];
          note(input.nodeId, `send ${r.status} (${r.reason})`);
        } else {
          state.sent[input.nodeId] = input.visit;
          note(input.nodeId, `message ${r.status}`);
          if (r.status === 'accepted') record(input.nodeId, input.visit, 'delivered');
        }
        follow(input.nodeId, 'next');
        break;
      }

      case 'evaluated': {
        if (!isAwaiting('evaluate', input.nodeId, input.visit) || !current) break;
        const r = input.result;
        if (current.type === 'condition') {
          const value = r.ok && r.value === true;
          note(current.id, r.ok ? `condition is ${value}` : `condition could not be evaluated (${r.error}); taking "false"`);
          follow(current.id, value ? 'true' : 'false');
        } else if (current.type === 'wait_until') {
          if (r.ok && typeof r.value === 'number' && r.value > at) {
            note(current.id, `wait until ${iso(r.value)}`);
            state.awaiting = { kind: 'timer', nodeId: current.id, until: r.value, port: 'next' };
          } else {
            note(current.id, r.ok ? `${iso(Number(r.value))} has already passed (late: ${current.late})` : `no time to wait for (${r.error}); late: ${current.late}`);
            if (current.late === 'exit') finish('exited');
            else follow(current.id, current.late === 'branch' ? 'late' : 'next');
          }
        }
        break;
      }

      case 'done':
        if (!awaiting || !('visit' in awaiting) || awaiting.nodeId !== input.nodeId || awaiting.visit !== input.visit) break;
        if (awaiting.kind !== 'update_patient' && awaiting.kind !== 'webhook') break;
        note(input.nodeId, input.ok ? `${awaiting.kind === 'webhook' ? 'webhook delivered' : 'patient updated'}` : `${awaiting.kind} failed; continuing`);
        follow(input.nodeId, 'next');
        break;

      case 'engagement': {
        const fresh = record(input.nodeId, input.visit, input.event);
        if (fresh) note(input.nodeId, `message ${input.event}`);
        if (current?.type === 'wait_for_engagement' && awaiting?.kind === 'timer' && engaged(current.message, current.event)) {
          note(current.id, `${current.event} before the timeout`);
          follow(current.id, 'matched');
        }
        break;
      }

      case 'patient_event':
        state.seenEvents ??= [];
        if (state.seenEvents.includes(input.eventId)) break;
        state.seenEvents.push(input.eventId);
        if (state.seenEvents.length > MAX_SEEN_EVENTS) state.seenEvents.splice(0, state.seenEvents.length - MAX_SEEN_EVENTS);
        if (input.goal && !state.goalReached) {
          state.goalReached = true;
          note(state.cursor ?? journey.entryId, `goal "${input.name}" reached`);
          side.push({ type: 'record_goal', path: [...state.path] });
          if (journey.definition.rules.goal?.exit) {
            finish('converted');
            break;
          }
        }
        if (input.exit) {
          note(state.cursor ?? journey.entryId, `exit criteria met ("${input.name}")`);
          finish('exited');
          break;
        }
        if (current?.type === 'wait_for_event' && awaiting?.kind === 'timer' && input.waits.includes(current.id)) {
          note(current.id, `"${input.name}" before the timeout`);
          follow(current.id, 'matched');
        }
        break;

      case 'tick':
        if ((awaiting?.kind === 'timer' || awaiting?.kind === 'deferred_send') && at >= awaiting.until) {
          if (awaiting.kind === 'deferred_send') {
            state.awaiting = { kind: 'send', nodeId: awaiting.nodeId, visit: awaiting.visit };
          } else {
            if (awaiting.port === 'timeout') note(awaiting.nodeId, 'timed out');
            follow(awaiting.nodeId, awaiting.port);
          }
        }
        break;

      case 'consent_changed':
        if (awaiting?.kind === 'deferred_send') {
          note(awaiting.nodeId, 'consent changed: deciding the deferred send again now');
          state.awaiting = { kind: 'send', nodeId: awaiting.nodeId, visit: awaiting.visit, reconsider: true };
        }
        break;

      case 'stop':
        note(state.cursor ?? journey.entryId, 'journey stopped');
        finish('stopped');
        break;
    }
  }
  return { state, commands: [...side, ...pendingCommands(journey, state)], trace };

  function record(nodeId: string, visit: number, event: EngagementType): boolean {
    const keys = [event, ...IMPLIES[event]].map((e) => `${nodeId}#${visit}:${e}`);
    const fresh = !state.engagements.includes(keys[0]!);
    for (const key of keys) if (!state.engagements.includes(key)) state.engagements.push(key);
    if (state.engagements.length > MAX_ENGAGEMENTS) state.engagements.splice(0, state.engagements.length - MAX_ENGAGEMENTS);
    return fresh;
  }

  function engaged(message: string, event: EngagementType): boolean {
    const visit = state.sent[message];
    return visit !== undefined && state.engagements.includes(`${message}#${visit}:${event}`);
  }

  function follow(from: string, port: string) {
    const to = journey.next.get(from)?.get(port);
    if (!to) {
      // Validation makes this unreachable; ending cleanly beats looping on a broken definition.
      note(from, `output "${port}" leads nowhere; journey ends`);
      finish('completed');
      return;
    }
    enter(to);
  }

  function finish(outcome: Outcome) {
    state.outcome = outcome;
    state.awaiting = null;
  }

  // Runs instant nodes until the journey blocks on an effect, a timer or the end. Validation
  // forbids loops without a wait; the step bound keeps a bad definition from hanging the worker.
  function enter(first: string) {
    let id: string | undefined = first;
    for (let steps = 0; id !== undefined; steps++) {
      const node = journey.nodes.get(id);
      if (!node || steps > journey.nodes.size) {
        note(id, node ? 'loop without a wait; journey ends' : 'unknown node; journey ends');
        finish('completed');
        return;
      }
      const visit = (state.visits[node.id] ?? 0) + 1;
      state.cursor = node.id;
      state.visits[node.id] = visit;
      state.awaiting = null;
      state.path.push(node.id);
      if (state.path.length > MAX_PATH) state.path.splice(0, state.path.length - MAX_PATH);
      id = undefined;
      const port = (p: string) => journey.next.get(node.id)?.get(p);
      switch (node.type) {
        case 'entry':
          note(node.id, `entered on "${node.event}"`);
          id = port('next');
          break;
        case 'audience_entry':
          note(node.id, 'entered as a member of the audience');
          id = port('next');
          break;
        case 'send_email':
          note(node.id, `send template "${node.template}" (${node.purpose})`);
          state.awaiting = { kind: 'send', nodeId: node.id, visit };
          break;
        case 'delay': {
          const until = at + durationToMs(node.duration)!;
          note(node.id, `wait ${node.duration}, until ${iso(until)}`);
          state.awaiting = { kind: 'timer', nodeId: node.id, until, port: 'next' };
          break;
        }
        case 'wait_until':
        case 'condition':
          state.awaiting = { kind: 'evaluate', nodeId: node.id, visit };
          break;
        case 'wait_for_engagement':
          if (engaged(node.message, node.event)) {
            note(node.id, `${node.event} already`);
            id = port('matched');
          } else {
            const until = at + durationToMs(node.timeout)!;
            note(node.id, `wait for ${node.event} of "${node.message}" until ${iso(until)}`);
            state.awaiting = { kind: 'timer', nodeId: node.id, until, port: 'timeout' };
          }
          break;
        case 'wait_for_event': {
          const until = at + durationToMs(node.timeout)!;
          note(node.id, `wait for "${node.event}" until ${iso(until)}`);
          state.awaiting = { kind: 'timer', nodeId: node.id, until, port: 'timeout' };
          break;
        }
        case 'engagement_branch': {
          const yes = engaged(node.message, node.event);
          note(node.id, `"${node.message}" ${yes ? 'was' : 'was not'} ${node.event}`);
          id = port(yes ? 'true' : 'false');
          break;
        }
        case 'split': {
          const arm = splitArm(node, state.seed);
          note(node.id, `split: arm "${arm}"`);
          id = port(arm);
          break;
        }
        case 'update_patient':
        case 'webhook':
          state.awaiting = { kind: node.type, nodeId: node.id, visit };
          break;
        case 'exit':
          note(node.id, 'exit');
          finish('completed');
          break;
      }
      if (id === undefined && !state.awaiting && !state.outcome) {
        // An instant node whose output is not connected (only in unvalidated definitions).
        note(node.id, `output "${nodePorts(node)[0] ?? 'next'}" leads nowhere; journey ends`);
        finish('completed');
      }
    }
  }
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
