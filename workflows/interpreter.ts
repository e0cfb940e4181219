// The pure journey interpreter: (journey, state, input) → (state, commands, trace). No I/O, no
// clock, no randomness: time arrives inside inputs. The Temporal workflow is a thin loop around
// it, and the same function drives unit tests and (later) simulation and cohort runs. A patient's
// whole journey state is the plain serializable value below.
import { durationToMs } from './duration.ts';
import { NODE_PORTS, type EngagementType, type JourneyDefinition, type JourneyNode } from './schema.ts';

export type Phase = 'new' | 'sending' | 'waiting' | 'completed';
export type SendStatus = 'accepted' | 'uncertain' | 'failed';

export interface JourneyState {
  phase: Phase;
  /** The node the patient is at (null before the start). */
  cursor: string | null;
  /** How many times each node has been entered; a send's visit number is part of its idempotency key. */
  visits: Record<string, number>;
  /** Send node → visit number of its latest message. Engagement is matched to that message only. */
  sent: Record<string, number>;
  /** Engagements seen, as `node#visit:type`, bounded to the most recent. */
  engagements: string[];
  /** Epoch ms when the current wait times out. */
  waitUntil: number | null;
}

export type JourneyInput =
  | { type: 'start'; at: number }
  | { type: 'sent'; nodeId: string; visit: number; status: SendStatus; at: number }
  | { type: 'engagement'; nodeId: string; visit: number; event: EngagementType; at: number }
  | { type: 'patient_event'; name: string; at: number }
  | { type: 'tick'; at: number };

export type Command =
  | { type: 'send_email'; nodeId: string; visit: number; template: string }
  | { type: 'wait'; nodeId: string; until: number }
  | { type: 'complete' };

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
  const entry = definition.nodes.find((n) => n.type === 'entry');
  if (!entry) throw new Error('journey has no entry node');
  return { definition, nodes, next, entryId: entry.id };
}

export function initialState(): JourneyState {
  return { phase: 'new', cursor: null, visits: {}, sent: {}, engagements: [], waitUntil: null };
}

/** What a state is blocked on, e.g. to resume after continue-as-new. */
export function pendingCommands(journey: CompiledJourney, state: JourneyState): Command[] {
  const node = state.cursor ? journey.nodes.get(state.cursor) : undefined;
  if (state.phase === 'completed') return [{ type: 'complete' }];
  if (state.phase === 'sending' && node?.type === 'send_email') {
    return [{ type: 'send_email', nodeId: node.id, visit: state.visits[node.id] ?? 1, template: node.template }];
  }
  if (state.phase === 'waiting' && node && state.waitUntil !== null) return [{ type: 'wait', nodeId: node.id, until: state.waitUntil }];
  return [];
}

export function advance(journey: CompiledJourney, previous: JourneyState, input: JourneyInput): Step {
  // JSON round trip: the state must stay plain JSON, and the workflow sandbox lacks structuredClone.
  const state: JourneyState = JSON.parse(JSON.stringify(previous));
  const trace: TraceEntry[] = [];
  const at = input.at;
  const note = (nodeId: string, decision: string) => trace.push({ at, nodeId, decision });

  switch (input.type) {
    case 'start':
      if (state.phase !== 'new') return { state, commands: pendingCommands(journey, state), trace };
      enter(journey.entryId);
      break;
    case 'sent': {
      const expected = state.phase === 'sending' && state.cursor === input.nodeId && state.visits[input.nodeId] === input.visit;
      if (!expected) return { state, commands: pendingCommands(journey, state), trace };
      state.sent[input.nodeId] = input.visit;
      note(input.nodeId, `message ${input.status}`);
      if (input.status === 'accepted') record(input.nodeId, input.visit, 'delivered');
      follow(input.nodeId, 'next');
      break;
    }
    case 'engagement': {
      const fresh = record(input.nodeId, input.visit, input.event);
      if (fresh) note(input.nodeId, `message ${input.event}`);
      const node = state.cursor ? journey.nodes.get(state.cursor) : undefined;
      if (state.phase === 'waiting' && node?.type === 'wait_for_engagement' && engaged(node)) {
        note(node.id, `${node.event} before the timeout`);
        follow(node.id, 'matched');
      }
      break;
    }
    case 'patient_event':
      // v0 journeys react to events only at entry; a repeated entry event does not re-enter.
      break;
    case 'tick': {
      const node = state.cursor ? journey.nodes.get(state.cursor) : undefined;
      if (state.phase === 'waiting' && node && state.waitUntil !== null && at >= state.waitUntil) {
        note(node.id, 'timed out');
        follow(node.id, 'timeout');
      }
      break;
    }
  }
  return { state, commands: pendingCommands(journey, state), trace };

  function record(nodeId: string, visit: number, event: EngagementType): boolean {
    const keys = [event, ...IMPLIES[event]].map((e) => `${nodeId}#${visit}:${e}`);
    const fresh = !state.engagements.includes(keys[0]!);
    for (const key of keys) if (!state.engagements.includes(key)) state.engagements.push(key);
    if (state.engagements.length > MAX_ENGAGEMENTS) state.engagements.splice(0, state.engagements.length - MAX_ENGAGEMENTS);
    return fresh;
  }

  function engaged(node: Extract<JourneyNode, { type: 'wait_for_engagement' }>): boolean {
    const visit = state.sent[node.message];
    return visit !== undefined && state.engagements.includes(`${node.message}#${visit}:${node.event}`);
  }

  function follow(from: string, port: string) {
    const to = journey.next.get(from)?.get(port);
    if (!to) {
      // Validation makes this unreachable; ending cleanly beats looping on a broken definition.
      note(from, `output "${port}" leads nowhere; journey ends`);
      finish();
      return;
    }
    enter(to);
  }

  function finish() {
    state.phase = 'completed';
    state.waitUntil = null;
  }

  // Runs instant nodes until the journey blocks on a send, a wait or the end. Validation forbids
  // loops without a wait; the step bound keeps a bad definition from hanging the worker anyway.
  function enter(first: string) {
    let id: string | undefined = first;
    for (let steps = 0; id !== undefined; steps++) {
      const node = journey.nodes.get(id);
      if (!node || steps > journey.nodes.size) {
        note(id, node ? 'loop without a wait; journey ends' : 'unknown node; journey ends');
        finish();
        return;
      }
      state.cursor = node.id;
      state.visits[node.id] = (state.visits[node.id] ?? 0) + 1;
      state.waitUntil = null;
      id = undefined;
      switch (node.type) {
        case 'entry':
          note(node.id, `entered on "${node.event}"`);
          id = journey.next.get(node.id)?.get(NODE_PORTS.entry[0]!);
          if (id === undefined) finish();
          break;
        case 'send_email':
          state.phase = 'sending';
          note(node.id, `send template "${node.template}"`);
          break;
        case 'wait_for_engagement':
          if (engaged(node)) {
            note(node.id, `${node.event} already`);
            id = journey.next.get(node.id)?.get('matched');
            if (id === undefined) finish();
          } else {
            state.phase = 'waiting';
            state.waitUntil = at + durationToMs(node.timeout)!;
            note(node.id, `wait for ${node.event} of "${node.message}" until ${new Date(state.waitUntil).toISOString()}`);
          }
          break;
        case 'exit':
          note(node.id, 'exit');
          finish();
          break;
      }
    }
  }
}
