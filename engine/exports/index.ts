// Exports: engagement data de-identified under the HIPAA Safe Harbor method (DEID-01..04) — for
// analytics outside the covered entity's PHI boundary. Every row is rebuilt from declared fields
// only; patients become random codes kept in their own table, new for every export; each export
// is audited. (Limited data sets and expert-determined datasets are not offered: DEID-05/06.)
import { randomBytes, randomUUID } from 'node:crypto';
import { SYSTEM_PRINCIPAL, recordAudit } from '../audit/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { deidentifyRow, RESTRICTED_ZIP3, type FieldKind } from '../phi/index.ts';

const SCHEMA: Record<string, FieldKind> = {
  subject: 'subject',
  zip: 'zip',
  birthDate: 'birthDate',
  journeyId: 'category',
  version: 'category',
  nodeId: 'category',
  engagement: 'category',
  occurredAt: 'date',
  sentAt: 'date',
};

export async function exportEngagementDeidentified(db: PrismaClient, options: { journeyId?: string; reference?: Date; principal?: string } = {}) {
  const exportId = randomUUID();
  const reference = options.reference ?? new Date();
  const events = await db.engagementEvent.findMany({
    where: options.journeyId ? { message: { enrollment: { journeyId: options.journeyId } } } : {},
    include: { message: { include: { patient: true, enrollment: { include: { version: { select: { version: true } } } } } } },
    orderBy: { occurredAt: 'asc' },
  });
  const codes = new Map<string, string>();
  const codeFor = (patientId: string) => {
    let code = codes.get(patientId);
    if (!code) {
      code = `S-${randomBytes(9).toString('base64url')}`; // random: nothing about the patient in it
      codes.set(patientId, code);
    }
    return code;
  };
  const rows = events.map((e) => {
    const attributes = (e.message.patient.attributes ?? {}) as Record<string, unknown>;
    return deidentifyRow(
      {
        subject: e.message.patientId,
        zip: attributes.zip,
        birthDate: e.message.patient.birthDate ?? attributes.birthDate,
        journeyId: e.message.enrollment.journeyId,
        version: e.message.enrollment.version.version,
        nodeId: e.message.nodeId,
        engagement: e.type,
        occurredAt: e.occurredAt,
        sentAt: e.message.sentAt,
      },
      SCHEMA,
      { reference, codeFor },
    );
  });
  await db.reidentificationCode.createMany({ data: [...codes].map(([patientId, code]) => ({ code, exportId, patientId })) });
  await recordAudit(db, {
    principal: options.principal ?? SYSTEM_PRINCIPAL,
    action: 'export.deidentified',
    objectType: 'export',
    objectId: exportId,
    outcome: 'ok',
    details: { journeyId: options.journeyId ?? null, rows: rows.length, subjects: codes.size, method: 'safe-harbor' },
  });
  return {
    exportId,
    label: 'de-identified (HIPAA Safe Harbor, 45 CFR 164.514(b)(2))',
    zip3Source: RESTRICTED_ZIP3.source,
    referenceDate: reference.toISOString().slice(0, 10),
    rows,
  };
}
