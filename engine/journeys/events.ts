// An event about a patient: stored, routed to the patient's running journeys that listen to it
// (exit criteria, goals, wait_for_event — matched here, against Postgres data, so only the
// verdict enters Temporal), then used to enroll the patient in journeys that start on it.
import { listenedEvents, matchPatientEvent, type JourneyDefinition } from '../../workflows/index.ts';
import { loadRunFacts } from '../runs/index.ts';
import { signalPatientEvent } from '../temporal/index.ts';
import type { JourneyDeps } from './deps.ts';
import { enroll, type EnrollmentReport } from './enroll.ts';
import { NotFoundError } from './errors.ts';

export async function recordEvent(deps: JourneyDeps, input: { name: string; patientId: string; data?: Record<string, unknown> }) {
  const { db } = deps;
  const now = Date.now();
  const patient = await db.patient.findUnique({ where: { id: input.patientId } });
  if (!patient) throw new NotFoundError('patient');
  const data = input.data ?? {};
  const event = await db.event.create({ data: { name: input.name, patientId: patient.id, data: data as object } });

  let signalled = 0;
  const enrollments: EnrollmentReport[] = [];
  try {
    const running = await db.enrollment.findMany({
      where: { patientId: patient.id, status: { in: ['starting', 'active'] } },
      include: { version: true },
    });
    for (const run of running) {
      if (!listenedEvents(run.version.definition as unknown as JourneyDefinition).has(input.name)) continue;
      const facts = await loadRunFacts(db, run.id);
      const match = matchPatientEvent(facts.definition, facts, { name: input.name, data }, now);
      if (!match.exit && !match.goal && match.waits.length === 0) continue;
      if (await signalPatientEvent(deps.temporal, run.workflowId, { eventId: event.id, name: input.name, ...match })) signalled++;
    }

    // The newest version of each active journey decides its entry; older versions no longer count.
    const candidates = await db.journeyVersion.findMany({
      where: { entryEvent: input.name, journey: { status: 'active' } },
      distinct: ['journeyId'],
      select: { journeyId: true },
    });
    const versions = (
      await db.journeyVersion.findMany({
        where: { journeyId: { in: candidates.map((c) => c.journeyId) } },
        distinct: ['journeyId'],
        orderBy: [{ journeyId: 'asc' }, { version: 'desc' }],
      })
    ).filter((v) => v.entryEvent === input.name);
    for (const version of versions) enrollments.push(await enroll(deps, version, patient, { id: event.id, data }, now));
  } catch (e) {
    // Nothing half-written: with no run started or signalled for it, the event goes too.
    if (signalled === 0 && !enrollments.some((r) => r.status === 'enrolled')) await db.event.delete({ where: { id: event.id } });
    throw e;
  }
  return { eventId: event.id, enrollments, signalled };
}
