// Simulation for designers: the pure simulator from workflows/ on a draft or published version,
// with each would-be message rendered for the fixture patient. Nothing is sent or stored.
import { z } from 'zod';
import { Duration, ENGAGEMENT_TYPES, simulateJourney, type JourneyDefinition } from '../../workflows/index.ts';
import { renderTemplate } from '../delivery/index.ts';
import { checkDefinition } from './definitions.ts';
import type { JourneyDeps } from './deps.ts';
import { JourneyInvalidError, NotFoundError } from './errors.ts';

export const SimulationInput = z
  .object({
    /** A published version number; the draft when omitted. */
    version: z.number().int().positive().optional(),
    start: z.iso.datetime({ offset: true }).optional(),
    patient: z.record(z.string(), z.unknown()).default({}),
    trigger: z.record(z.string(), z.unknown()).optional(),
    seed: z.string().max(100).optional(),
    recentSends: z.array(z.iso.datetime({ offset: true })).max(1_000).optional(),
    script: z
      .array(
        z.union([
          z.object({ advance: Duration }).strict(),
          z.object({ event: z.string(), data: z.record(z.string(), z.unknown()).optional() }).strict(),
          z.object({ engagement: z.object({ message: z.string(), event: z.enum(ENGAGEMENT_TYPES) }).strict() }).strict(),
          z.object({ stop: z.literal(true) }).strict(),
        ]),
      )
      .max(1_000)
      .default([]),
    runToEnd: z.boolean().default(false),
  })
  .strict();

export async function simulate(deps: JourneyDeps, journeyId: string, input: unknown) {
  const request = SimulationInput.parse(input);
  const journey = await deps.db.journey.findUnique({ where: { id: journeyId } });
  if (!journey) throw new NotFoundError('journey');
  let definition: JourneyDefinition;
  if (request.version !== undefined) {
    const version = await deps.db.journeyVersion.findUnique({ where: { journeyId_version: { journeyId, version: request.version } } });
    if (!version) throw new NotFoundError('version');
    definition = version.definition as unknown as JourneyDefinition;
  } else definition = await checkDefinition(deps, journey.draft);

  const run = () => simulateJourney(definition, {
    start: request.start ? Date.parse(request.start) : Date.now(),
    patient: request.patient,
    trigger: request.trigger,
    seed: request.seed,
    recentSends: request.recentSends?.map((t) => Date.parse(t)),
    defaultTimeZone: deps.defaultTimeZone,
    script: request.script as Parameters<typeof simulateJourney>[1]['script'],
    runToEnd: request.runToEnd,
  });
  let result: ReturnType<typeof simulateJourney>;
  try {
    result = run();
  } catch (e) {
    throw new JourneyInvalidError([{ path: 'script', message: (e as Error).message }]);
  }
  const patient = { givenName: (result.patient.givenName as string) ?? null, familyName: (result.patient.familyName as string) ?? null };
  const messages = await Promise.all(
    result.messages.map(async (m) => {
      const rendered = await renderTemplate(definition.templates[m.template]!, { patient });
      return { ...m, subject: rendered.subject, text: rendered.text };
    }),
  );
  return { ...result, messages };
}
