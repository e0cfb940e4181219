// Journey definitions used across tests, built from the shipped example so the example stays valid.
import { readFileSync } from 'node:fs';
import type { JourneyDefinition } from '../../workflows/index.ts';

const example = JSON.parse(
  readFileSync(new URL('../../examples/welcome-follow-up.json', import.meta.url), 'utf8'),
) as JourneyDefinition;

/** The welcome/follow-up example with its own entry event and a short timeout, so tests run in seconds. */
export function followUpJourney(options: { event: string; timeout?: string }): JourneyDefinition {
  const definition = structuredClone(example);
  for (const node of definition.nodes) {
    if (node.type === 'entry') node.event = options.event;
    if (node.type === 'wait_for_engagement') node.timeout = options.timeout ?? 'PT4S';
  }
  return definition;
}

export function exampleJourney(): JourneyDefinition {
  return structuredClone(example);
}
