// Matches a patient event against a running journey's criteria: exit criteria, the goal, and any
// wait_for_event node. Pure; the API runs it with data from Postgres before signalling the run
// (so event data never enters Temporal), and the simulator runs it with scripted data.
import { evaluateBool, valueAt, type ExpressionContext } from './expressions.ts';
import type { JourneyDefinition } from './schema.ts';

export interface EnrollmentFacts {
  trigger: Record<string, unknown>;
  patient: Record<string, unknown>;
  /** Value of the entry's key field in the trigger data, for keyed journeys. */
  key: string | null;
}

export interface EventMatch {
  exit: boolean;
  goal: boolean;
  /** wait_for_event nodes this event satisfies. */
  waits: string[];
}

/** The occurrence an event is about (the entry's `key` field), for keyed journeys; else null. */
export function occurrenceKey(definition: JourneyDefinition, data: Record<string, unknown>): string | null {
  const entry = definition.nodes.find((n) => n.type === 'entry');
  if (entry?.type !== 'entry' || !entry.key) return null;
  const value = valueAt(data, entry.key);
  return value === undefined || value === null || value === '' ? null : String(value);
}

export function matchPatientEvent(
  definition: JourneyDefinition,
  enrollment: EnrollmentFacts,
  event: { name: string; data: Record<string, unknown> },
  now: number,
): EventMatch {
  const eventKey = occurrenceKey(definition, event.data);
  const context: ExpressionContext = { trigger: enrollment.trigger, patient: enrollment.patient, event: event.data, now };
  const matches = (criterion: { event: string; when?: string; sameKey?: boolean }) => {
    if (criterion.event !== event.name) return false;
    if (criterion.sameKey && (enrollment.key === null || eventKey !== enrollment.key)) return false;
    if (!criterion.when) return true;
    const result = evaluateBool(definition.data, { kind: 'event', event: event.name }, criterion.when, context);
    return result.ok && result.value; // an expression that cannot be evaluated does not match
  };
  return {
    exit: definition.rules.exitOn.some(matches),
    goal: definition.rules.goal ? matches(definition.rules.goal) : false,
    waits: definition.nodes.filter((n) => n.type === 'wait_for_event' && matches(n)).map((n) => n.id),
  };
}

/** Event names a running journey listens to (exit criteria, goal, waits). */
export function listenedEvents(definition: JourneyDefinition): Set<string> {
  const names = new Set(definition.rules.exitOn.map((c) => c.event));
  if (definition.rules.goal) names.add(definition.rules.goal.event);
  for (const n of definition.nodes) if (n.type === 'wait_for_event') names.add(n.event);
  return names;
}
