// Patients: the people journeys run for. Each gets an opaque random `ref`, the only patient
// reference that may leave Postgres (Temporal ids, logs).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { PrismaClient } from '../db/index.ts';

export const NewPatient = z
  .object({
    email: z.email().max(320),
    givenName: z.string().min(1).max(200).optional(),
    familyName: z.string().min(1).max(200).optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type NewPatient = z.infer<typeof NewPatient>;

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
      attributes: (input.attributes ?? {}) as object,
    },
    select: { id: true },
  });
  return patient;
}
