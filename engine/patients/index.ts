// Patients: the people journeys run for. Each gets an opaque random `ref`, the only patient
// reference that may leave Postgres (Temporal ids, logs).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isValidTimeZone } from '../../workflows/index.ts';
import type { PrismaClient } from '../db/index.ts';

const TimeZone = z.string().max(64).refine(isValidTimeZone, 'must be an IANA time zone such as "America/Chicago"');
const Tags = z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/)).max(100);

export const NewPatient = z
  .object({
    email: z.email().max(320),
    givenName: z.string().min(1).max(200).optional(),
    familyName: z.string().min(1).max(200).optional(),
    birthDate: z.iso.date().optional(),
    timezone: TimeZone.optional(),
    tags: Tags.optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type NewPatient = z.infer<typeof NewPatient>;

/** Attributes are merged; tags and time zone replaced when given. */
export const PatientChanges = z
  .object({ birthDate: z.iso.date().nullable().optional(), timezone: TimeZone.nullable().optional(), tags: Tags.optional(), attributes: z.record(z.string(), z.unknown()).optional() })
  .strict();
export type PatientChanges = z.infer<typeof PatientChanges>;

export function newPatientRef(): string {
  return `p_${randomBytes(16).toString('base64url')}`;
}

export async function createPatient(db: PrismaClient, input: NewPatient): Promise<{ id: string }> {
  const patient = await db.patient.create({
    data: {
      ref: newPatientRef(),
      email: input.email,
      givenName: input.givenName ?? null,
      familyName: input.familyName ?? null,
      birthDate: input.birthDate ?? null,
      timezone: input.timezone ?? null,
      tags: input.tags ?? [],
      attributes: (input.attributes ?? {}) as object,
    },
    select: { id: true },
  });
  return patient;
}

/** False when there is no such patient. */
export async function updatePatient(db: PrismaClient, id: string, changes: PatientChanges): Promise<boolean> {
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT 1 FROM "Patient" WHERE id = ${id} FOR UPDATE`; // no lost updates
    const patient = await tx.patient.findUnique({ where: { id } });
    if (!patient) return false;
    await tx.patient.update({
      where: { id },
      data: {
        ...(changes.timezone !== undefined ? { timezone: changes.timezone } : {}),
        ...(changes.birthDate !== undefined ? { birthDate: changes.birthDate } : {}),
        ...(changes.tags ? { tags: changes.tags } : {}),
        ...(changes.attributes ? { attributes: { ...(patient.attributes as object), ...changes.attributes } as object } : {}),
      },
    });
    return true;
  });
}
