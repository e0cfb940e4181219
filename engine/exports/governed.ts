// Releases that need a record first. A limited data set (164.514(e)) keeps dates, town, state and
// ZIP — it is still PHI, leaves only under a data use agreement with that recipient, and is never
// called de-identified (DEID-06). An expert-determined dataset (164.514(b)(1)) holds only the
// fields the expert's determination covers, for the recipients it names, until it expires (DEID-05).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { recordAudit } from '../audit/index.ts';
import type { PrismaClient } from '../db/index.ts';
import { zip3 } from '../phi/index.ts';
import { loadEngagementRows, subjectCodes, type EngagementRow } from './engagement-rows.ts';

export class GovernedExportRefusedError extends Error {
  constructor(
    readonly code: string,
    readonly requirement: 'DEID-05' | 'DEID-06',
    message: string,
  ) {
    super(message);
  }
}

const sameRecipient = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();
const day = (d: unknown) => {
  const date = d instanceof Date || typeof d === 'string' ? new Date(d) : null;
  return date && !Number.isNaN(date.getTime()) ? date.toISOString().slice(0, 10) : null;
};
const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);

export const NewDataUseAgreement = z
  .object({
    recipient: z.string().trim().min(2).max(200),
    purpose: z.enum(['research', 'public_health', 'health_care_operations']),
    permittedUses: z.string().trim().min(10).max(2_000),
    signedAt: z.coerce.date(),
    expiresAt: z.coerce.date().nullable().optional(),
    documentRef: z.string().trim().min(1).max(500),
  })
  .strict();

export async function createDataUseAgreement(db: PrismaClient, input: unknown, principal: string) {
  const dua = await db.dataUseAgreement.create({ data: { ...NewDataUseAgreement.parse(input), createdBy: principal } });
  await recordAudit(db, { principal, action: 'dua.create', objectType: 'data_use_agreement', objectId: dua.id, outcome: 'ok', details: { purpose: dua.purpose } });
  return dua;
}

export async function terminateDataUseAgreement(db: PrismaClient, id: string, principal: string): Promise<boolean> {
  const { count } = await db.dataUseAgreement.updateMany({ where: { id, terminatedAt: null }, data: { terminatedAt: new Date() } });
  if (count) await recordAudit(db, { principal, action: 'dua.terminate', objectType: 'data_use_agreement', objectId: id, outcome: 'ok' });
  return count > 0;
}

/** What an expert-determined dataset may hold: each field with the one form it takes. */
const EXPERT_FIELDS: Record<string, (r: EngagementRow) => unknown> = {
  zip3: (r) => zip3(r.zip),
  zip5: (r) => (typeof r.zip === 'string' && /^\d{5}/.test(r.zip.trim()) ? r.zip.trim().slice(0, 5) : null),
  state: (r) => text(r.state),
  birthYear: (r) => day(r.birthDate)?.slice(0, 4) ?? null,
  journeyId: (r) => r.journeyId,
  version: (r) => r.version,
  nodeId: (r) => r.nodeId,
  engagement: (r) => r.engagement,
  occurredMonth: (r) => day(r.occurredAt)?.slice(0, 7) ?? null,
  occurredDate: (r) => day(r.occurredAt),
  sentDate: (r) => day(r.sentAt),
};
export const EXPERT_FIELD_NAMES = Object.keys(EXPERT_FIELDS);

export const NewExpertDetermination = z
  .object({
    expert: z.string().trim().min(2).max(200),
    method: z.string().trim().min(10).max(2_000),
    documentRef: z.string().trim().min(1).max(500),
    fields: z.array(z.enum(EXPERT_FIELD_NAMES as [string, ...string[]])).min(1),
    recipients: z.array(z.string().trim().min(2).max(200)).min(1),
    determinedAt: z.coerce.date(),
    expiresAt: z.coerce.date(),
  })
  .strict()
  .refine((d) => d.expiresAt > d.determinedAt, { path: ['expiresAt'], message: 'must be after determinedAt' });

export async function createExpertDetermination(db: PrismaClient, input: unknown, principal: string) {
  const determination = await db.expertDetermination.create({ data: { ...NewExpertDetermination.parse(input), createdBy: principal } });
  await recordAudit(db, { principal, action: 'expert_determination.create', objectType: 'expert_determination', objectId: determination.id, outcome: 'ok', details: { fields: determination.fields } });
  return determination;
}

interface ExportRequest {
  recipient: string;
  journeyId?: string | undefined;
  principal: string;
  now?: Date;
}

async function refuse(db: PrismaClient, principal: string, action: string, objectId: string, error: GovernedExportRefusedError): Promise<never> {
  await recordAudit(db, { principal, action, objectType: 'export', objectId, outcome: 'denied', details: { code: error.code, requirement: error.requirement } });
  throw error;
}

/** DEID-06: a limited data set for the recipient of a data use agreement in force. */
export async function exportEngagementLimited(db: PrismaClient, request: ExportRequest & { dataUseAgreementId: string }) {
  const now = request.now ?? new Date();
  const dua = await db.dataUseAgreement.findUnique({ where: { id: request.dataUseAgreementId } });
  const action = 'export.limited_data_set';
  if (!dua) return refuse(db, request.principal, action, request.dataUseAgreementId, new GovernedExportRefusedError('DUA_REQUIRED', 'DEID-06', 'a limited data set needs a data use agreement on record'));
  if (dua.terminatedAt || dua.signedAt > now || (dua.expiresAt && dua.expiresAt <= now)) {
    return refuse(db, request.principal, action, dua.id, new GovernedExportRefusedError('DUA_NOT_IN_FORCE', 'DEID-06', 'the data use agreement is not in force'));
  }
  if (!sameRecipient(dua.recipient, request.recipient)) {
    return refuse(db, request.principal, action, dua.id, new GovernedExportRefusedError('RECIPIENT_NOT_COVERED', 'DEID-06', 'the data use agreement is with another recipient'));
  }
  const exportId = randomUUID();
  const codes = subjectCodes();
  const rows = (await loadEngagementRows(db, request.journeyId)).map((r) => ({
    subject: codes.codeFor(r.patientId),
    zip: typeof r.zip === 'string' && /^\d{5}(-\d{4})?$/.test(r.zip.trim()) ? r.zip.trim() : null,
    city: text(r.city),
    state: text(r.state),
    birthDate: day(r.birthDate),
    journeyId: r.journeyId,
    version: r.version,
    nodeId: r.nodeId,
    engagement: r.engagement,
    occurredAt: r.occurredAt.toISOString(),
    sentAt: r.sentAt?.toISOString() ?? null,
  }));
  await codes.save(db, exportId);
  await recordAudit(db, { principal: request.principal, action, objectType: 'export', objectId: exportId, outcome: 'ok', details: { dataUseAgreementId: dua.id, purpose: dua.purpose, rows: rows.length, subjects: codes.size } });
  return {
    exportId,
    kind: 'limited_data_set',
    containsPhi: true,
    label: `LIMITED DATA SET: this is PHI (45 CFR 164.514(e)); use and disclose it only as data use agreement ${dua.id} permits (${dua.purpose})`,
    dataUseAgreementId: dua.id,
    recipient: dua.recipient,
    rows,
  };
}

/** DEID-05: the fields an expert determination covers, for a recipient it names, while it holds. */
export async function exportEngagementExpertDetermined(db: PrismaClient, request: ExportRequest & { determinationId: string; fields?: string[] | undefined }) {
  const now = request.now ?? new Date();
  const action = 'export.expert_determined';
  const determination = await db.expertDetermination.findUnique({ where: { id: request.determinationId } });
  if (!determination) {
    return refuse(db, request.principal, action, request.determinationId, new GovernedExportRefusedError('DETERMINATION_REQUIRED', 'DEID-05', 'no expert determination on record with that id'));
  }
  if (determination.expiresAt <= now || determination.determinedAt > now) {
    return refuse(db, request.principal, action, determination.id, new GovernedExportRefusedError('DETERMINATION_EXPIRED', 'DEID-05', 'the expert determination is not in force'));
  }
  if (!determination.recipients.some((r) => sameRecipient(r, request.recipient))) {
    return refuse(db, request.principal, action, determination.id, new GovernedExportRefusedError('RECIPIENT_NOT_COVERED', 'DEID-05', 'the expert determination does not cover this recipient'));
  }
  const fields = request.fields ?? determination.fields;
  const outside = fields.filter((f) => !determination.fields.includes(f));
  if (outside.length) {
    return refuse(db, request.principal, action, determination.id, new GovernedExportRefusedError('FIELD_OUTSIDE_SCOPE', 'DEID-05', `outside the determination's scope: ${outside.join(', ')}`));
  }
  const exportId = randomUUID();
  const codes = subjectCodes();
  const rows = (await loadEngagementRows(db, request.journeyId)).map((r) => ({
    subject: codes.codeFor(r.patientId),
    ...Object.fromEntries(fields.map((f) => [f, EXPERT_FIELDS[f]!(r)])),
  }));
  await codes.save(db, exportId);
  await recordAudit(db, { principal: request.principal, action, objectType: 'export', objectId: exportId, outcome: 'ok', details: { determinationId: determination.id, fields, rows: rows.length } });
  return {
    exportId,
    kind: 'expert_determined',
    label: `de-identified by expert determination (45 CFR 164.514(b)(1)) ${determination.id}, for ${request.recipient.trim()} only, until ${determination.expiresAt.toISOString().slice(0, 10)}`,
    determinationId: determination.id,
    rows,
  };
}
