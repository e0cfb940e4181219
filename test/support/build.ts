// Compact journey definitions for tests: edges as [from, to, port?], a default template, and the
// result validated (so a test never runs on a definition the engine would refuse).
import { JOURNEY_FORMAT, validateJourney, type JourneyDefinition, type Template } from '../../workflows/index.ts';

export interface JourneyParts {
  nodes: Record<string, unknown>[];
  edges: [string, string, string?][];
  templates?: Record<string, Template>;
  rules?: Record<string, unknown>;
  data?: Record<string, unknown>;
  name?: string;
}

export function draft(parts: JourneyParts): Record<string, unknown> {
  return {
    format: JOURNEY_FORMAT,
    name: parts.name ?? 'test journey',
    ...(parts.data ? { data: parts.data } : {}),
    ...(parts.rules ? { rules: parts.rules } : {}),
    nodes: parts.nodes,
    edges: parts.edges.map(([from, to, port]) => ({ from, to, ...(port ? { port } : {}) })),
    templates: parts.templates ?? { t: { subject: 'Hello', text: 'Hello {{ patient.givenName }}' } },
  };
}

export function build(parts: JourneyParts): JourneyDefinition {
  const result = validateJourney(draft(parts));
  if (!result.ok) throw new Error(`invalid test journey: ${JSON.stringify(result.problems, null, 2)}`);
  return result.definition;
}

/** A send node with the default template. */
export const send = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'send_email', template: 't', purpose: 'TREATMENT', usesPhi: true, thirdPartyRemuneration: 'none', ...extra });
export const entry = (event = 'test.start', extra: Record<string, unknown> = {}) => ({ id: 'start', type: 'entry', event, ...extra });
export const exit = (id = 'done') => ({ id, type: 'exit' });
