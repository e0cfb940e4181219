// `npm run bench`: how fast the pure journey language runs, each figure next to a raw baseline
// measured in the same run (so the ratio, not the machine, is what to compare). JSON on stdout.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  advance,
  compileJourney,
  initialState,
  simulateJourney,
  validateJourney,
  type JourneyDefinition,
  type JourneyInput,
} from '../workflows/index.ts';

const load = (name: string) => JSON.parse(readFileSync(new URL(`../examples/${name}.json`, import.meta.url), 'utf8'));

/** Operations per second of `fn`, run for about `ms` milliseconds after a warm-up. */
function rate(fn: () => void, ms = 1_000): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
  }
  return n / ((performance.now() - start) / 1_000);
}

const welcome = validateJourney(load('welcome-follow-up'));
const appointment = validateJourney(load('appointment-reminder'));
if (!welcome.ok || !appointment.ok) throw new Error('examples must be valid');
const journey = compileJourney(welcome.definition);

// One patient's whole run: start → send → wait → open → send → complete (4 interpreter steps).
const T0 = Date.UTC(2026, 11, 3, 15);
const inputs: JourneyInput[] = [
  { type: 'start', at: T0 },
  { type: 'sent', nodeId: 'welcome', visit: 1, result: { status: 'accepted' }, at: T0 },
  { type: 'engagement', nodeId: 'welcome', visit: 1, event: 'opened', at: T0 + 1_000 },
  { type: 'sent', nodeId: 'thanks', visit: 1, result: { status: 'accepted' }, at: T0 + 2_000 },
];
const runOnce = () => {
  let state = initialState('p_bench');
  for (const input of inputs) state = advance(journey, state, input).state;
};
// Baseline: the unavoidable part of each step, one JSON round trip of the state.
const waitingState = advance(journey, initialState('p_bench'), inputs[0]!).state;
const baselineRun = () => {
  for (let i = 0; i < inputs.length; i++) JSON.parse(JSON.stringify(waitingState));
};

const appointmentText = readFileSync(new URL('../examples/appointment-reminder.json', import.meta.url), 'utf8');
const appointmentJson = JSON.parse(appointmentText);
// Baseline: just parsing the definition's JSON text.
const rawParse = () => JSON.parse(appointmentText);
const simulate = () =>
  simulateJourney(appointment.definition as JourneyDefinition, {
    start: Date.parse('2026-12-07T15:00:00Z'),
    patient: { givenName: 'Ana', timezone: 'America/Chicago' },
    trigger: { appointment: { id: 'a', start: '2026-12-11T14:00:00Z', clinic: 'North' } },
    defaultTimeZone: 'America/New_York',
    script: [{ advance: 'P5D' }],
  });

const interpreterRuns = rate(runOnce);
const baselineRuns = rate(baselineRun);
const validations = rate(() => validateJourney(appointmentJson), 1_000);
const parses = rate(rawParse, 500);
const simulations = rate(simulate, 1_000);

console.log(
  JSON.stringify(
    {
      node: process.version,
      interpreter: {
        patientRunsPerSecond: Math.round(interpreterRuns),
        stepsPerSecond: Math.round(interpreterRuns * inputs.length),
        baselineJsonRoundTripRunsPerSecond: Math.round(baselineRuns),
        ratioToBaseline: +(interpreterRuns / baselineRuns).toFixed(3),
      },
      validation: {
        appointmentExamplePerSecond: Math.round(validations),
        baselineJsonParsePerSecond: Math.round(parses),
        ratioToBaseline: +(validations / parses).toFixed(4),
      },
      simulation: { appointmentExamplePerSecond: Math.round(simulations), msEach: +(1_000 / simulations).toFixed(3) },
    },
    null,
    2,
  ),
);
