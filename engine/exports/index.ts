// Exports: engagement data de-identified under the HIPAA Safe Harbor method (DEID-01..04) — for
// analytics outside the covered entity's PHI boundary. Every row is rebuilt from declared fields
// only; patients become random codes kept in their own table, new for every export; each export
// is audited. Two other releases need a record first: a limited data set (still PHI) only under a
// data use agreement (DEID-06), an expert-determined dataset only within the determination's
// fields, recipients and dates (DEID-05).
import { randomUUID } from 'node:crypto';
import { SYSTEM_PRINCIPAL, recordAudit } from '../audit/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { deidentifyRow, RESTRICTED_ZIP3, type FieldKind } from '../phi/index.ts';
import { loadEngagementRows, subjectCodes } from './engagement-rows.ts';

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
  const codes = subjectCodes();
  const rows = (await loadEngagementRows(db, options.journeyId)).map((r) =>
    deidentifyRow({ ...r, subject: r.patientId }, SCHEMA, { reference, codeFor: codes.codeFor }),
  );
  await codes.save(db, exportId);
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

export {
  createDataUseAgreement,
  createExpertDetermination,
  EXPERT_FIELD_NAMES,
  exportEngagementExpertDetermined,
  exportEngagementLimited,
  GovernedExportRefusedError,
  terminateDataUseAgreement,
} from './governed.ts';
