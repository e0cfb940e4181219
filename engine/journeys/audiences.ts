// Saved audiences (a typed CEL filter over patient attributes) and the scheduled runs that enroll
// their members, a page at a time.
import { z } from 'zod';
import { checkExpression, DataShape, evaluateBool, type JourneyDefinition } from '../../workflows/index.ts';
import { patientFacts } from '../runs/index.ts';
import type { JourneyDeps } from './deps.ts';
import { TemporalUnreachableError } from '../temporal/index.ts';
import { enroll } from './enroll.ts';
import { JourneyInvalidError, NotFoundError } from './errors.ts';

export const NewAudience = z
  .object({
    name: z.string().min(1).max(200),
    /** Types of the patient attributes the filter reads. */
    attributes: DataShape.default({}),
    filter: z.string().min(1).max(2_000),
  })
  .strict();

const PAGE = 200;

export async function createAudience({ db }: JourneyDeps, input: unknown): Promise<{ id: string }> {
  const audience = NewAudience.parse(input);
  const problem = checkExpression({ trigger: {}, patient: audience.attributes, events: {} }, { kind: 'audience', patient: audience.attributes }, audience.filter, 'bool');
  if (problem) throw new JourneyInvalidError([{ path: 'filter', message: `filter: ${problem}` }]);
  return db.audience.create({ data: { name: audience.name, attributes: audience.attributes, filter: audience.filter }, select: { id: true } });
}

export async function listAudiences({ db }: JourneyDeps) {
  return db.audience.findMany({ orderBy: { createdAt: 'asc' }, select: { id: true, name: true, filter: true, attributes: true } });
}

type AudienceRow = { filter: string; attributes: unknown };

function isMember(audience: AudienceRow, patient: Parameters<typeof patientFacts>[0], now: number): boolean {
  const shape = audience.attributes as DataShape;
  const data = { trigger: {}, patient: shape, events: {} };
  const result = evaluateBool(data, { kind: 'audience', patient: shape }, audience.filter, { patient: patientFacts(patient, shape), now });
  return result.ok && result.value;
}

/** How many patients the audience holds now. */
export async function countAudience({ db }: JourneyDeps, id: string): Promise<{ members: number }> {
  const audience = await db.audience.findUnique({ where: { id } });
  if (!audience) throw new NotFoundError('audience');
  let members = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await db.patient.findMany({ take: PAGE, ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}), orderBy: { id: 'asc' } });
    members += page.filter((p) => isMember(audience, p, Date.now())).length;
    if (page.length < PAGE) return { members };
    cursor = page[page.length - 1]!.id;
  }
}

/** One page of an audience run: enrolls the members among the next patients after `cursor`. */
export async function enrollAudiencePage(
  deps: JourneyDeps,
  request: { journeyId: string; cursor: string | null },
  heartbeat: (cursor: string) => void = () => {},
): Promise<{ enrolled: number; skipped: number; next: string | null }> {
  const { db } = deps;
  const journey = await db.journey.findUnique({
    where: { id: request.journeyId },
    include: { versions: { orderBy: { version: 'desc' }, take: 1 } },
  });
  const version = journey?.versions[0];
  if (!journey || journey.status !== 'active' || !version) return { enrolled: 0, skipped: 0, next: null };
  const definition = version.definition as unknown as JourneyDefinition;
  const entry = definition.nodes.find((n) => n.type === 'audience_entry');
  if (entry?.type !== 'audience_entry') return { enrolled: 0, skipped: 0, next: null };
  const audience = await db.audience.findUnique({ where: { id: entry.audience } });
  if (!audience) return { enrolled: 0, skipped: 0, next: null };

  const patients = await db.patient.findMany({
    take: PAGE,
    ...(request.cursor ? { skip: 1, cursor: { id: request.cursor } } : {}),
    orderBy: { id: 'asc' },
  });
  let enrolled = 0;
  let skipped = 0;
  const now = Date.now();
  for (const patient of patients) {
    if (!isMember(audience, patient, now)) continue;
    try {
      const report = await enroll(deps, version, patient, null, now);
      if (report.status === 'enrolled') enrolled++;
      else skipped++;
    } catch (e) {
      // Temporal being down fails the page (it is retried); one patient's problem does not.
      if (e instanceof TemporalUnreachableError) throw e;
      skipped++;
    }
    heartbeat(patient.id);
  }
  return { enrolled, skipped, next: patients.length === PAGE ? patients[patients.length - 1]!.id : null };
}
