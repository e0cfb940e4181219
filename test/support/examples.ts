// The shipped example journeys, loaded and validated.
import { readFileSync } from 'node:fs';
import { validateJourney, type JourneyDefinition } from '../../workflows/index.ts';

export function example(name: string, replace: Record<string, string> = {}): JourneyDefinition {
  let text = readFileSync(new URL(`../../examples/${name}.json`, import.meta.url), 'utf8');
  for (const [from, to] of Object.entries(replace)) text = text.replaceAll(from, to);
  const result = validateJourney(JSON.parse(text));
  if (!result.ok) throw new Error(`examples/${name}.json is invalid: ${JSON.stringify(result.problems)}`);
  return result.definition;
}
