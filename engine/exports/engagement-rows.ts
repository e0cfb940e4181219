// The engagement facts every export starts from, one row per engagement event, and the random
// per-export subject codes (the mapping stays in Haven, in its own table).
import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '../db/index.ts';

export interface EngagementRow {
  patientId: string;
  zip: unknown;
  city: unknown;
  state: unknown;
  birthDate: unknown;
  journeyId: string;
  version: number;
  nodeId: string;
  engagement: string;
  occurredAt: Date;
  sentAt: Date | null;
}

export async function loadEngagementRows(db: PrismaClient, journeyId?: string): Promise<EngagementRow[]> {
  const events = await db.engagementEvent.findMany({
    where: journeyId ? { message: { enrollment: { journeyId } } } : {},
    include: { message: { include: { patient: true, enrollment: { include: { version: { select: { version: true } } } } } } },
    orderBy: { occurredAt: 'asc' },
  });
  return events.map((e) => {
    const attributes = (e.message.patient.attributes ?? {}) as Record<string, unknown>;
    return {
      patientId: e.message.patientId,
      zip: attributes.zip,
      city: attributes.city,
      state: attributes.state,
      birthDate: e.message.patient.birthDate ?? attributes.birthDate,
      journeyId: e.message.enrollment.journeyId,
      version: e.message.enrollment.version.version,
      nodeId: e.message.nodeId,
      engagement: e.type,
      occurredAt: e.occurredAt,
      sentAt: e.message.sentAt,
    };
  });
}

/** Random codes, one per patient and export: nothing about the patient is in them. */
export function subjectCodes() {
  const codes = new Map<string, string>();
  return {
    codeFor(patientId: string): string {
      let code = codes.get(patientId);
      if (!code) {
        code = `S-${randomBytes(9).toString('base64url')}`;
        codes.set(patientId, code);
      }
      return code;
    },
    get size() {
      return codes.size;
    },
    save(db: PrismaClient, exportId: string) {
      return db.reidentificationCode.createMany({ data: [...codes].map(([patientId, code]) => ({ code, exportId, patientId })) });
    },
  };
}
