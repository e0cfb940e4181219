import { pickDeclared, type DataShape, type EnrollmentFacts, type JourneyDefinition } from '../../workflows/index.ts';
import { EnrollmentNotFoundError, type PrismaClient } from '../db/index.ts';

export interface RunFacts extends EnrollmentFacts {
  definition: JourneyDefinition;
  enrollment: { id: string; ref: string; journeyId: string; patientId: string; version: number };
  /** The patient's own time zone, for send windows (null: the deployment's default). */
  timeZone: string | null;
}

type PatientRow = { givenName: string | null; familyName: string | null; timezone: string | null; tags: string[]; attributes: unknown };

/** The patient as a journey or audience sees it: built-in fields plus the declared attributes. */
export function patientFacts(patient: PatientRow, declared: DataShape): Record<string, unknown> {
  const attributes = (patient.attributes ?? {}) as Record<string, unknown>;
  return {
    ...pickDeclared(declared, attributes),
    ...(patient.givenName ? { givenName: patient.givenName } : {}),
    ...(patient.familyName ? { familyName: patient.familyName } : {}),
    ...(patient.timezone ? { timezone: patient.timezone } : {}),
    tags: patient.tags,
  };
}

/** Everything a node may read about a run, limited to what its journey declares. */
export async function loadRunFacts(db: PrismaClient, enrollmentId: string): Promise<RunFacts> {
  const enrollment = await db.enrollment.findUnique({
    where: { id: enrollmentId },
    include: { patient: true, version: true },
  });
  if (!enrollment) throw new EnrollmentNotFoundError();
  const definition = enrollment.version.definition as unknown as JourneyDefinition;
  const event = enrollment.eventId ? await db.event.findUnique({ where: { id: enrollment.eventId } }) : null;
  const eventData = (event?.data ?? {}) as Record<string, unknown>;
  return {
    definition,
    enrollment: {
      id: enrollment.id,
      ref: enrollment.ref,
      journeyId: enrollment.journeyId,
      patientId: enrollment.patientId,
      version: enrollment.version.version,
    },
    timeZone: enrollment.patient.timezone,
    trigger: pickDeclared(definition.data.trigger, eventData),
    patient: patientFacts(enrollment.patient, definition.data.patient),
    key: enrollment.key,
  };
}
