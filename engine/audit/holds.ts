// Legal holds (LOG-04): while one is in force the retention job removes nothing it covers — the
// whole deployment, or everything about one patient. A hold is released, never deleted (the
// database enforces it); placing and releasing are audited.
import type { PrismaClient } from '../db/index.ts';
import { recordAudit } from './index.ts';

export class LegalHoldNotFoundError extends Error {}

export async function placeLegalHold(db: PrismaClient, hold: { patientId?: string | null; reason: string; principal: string }) {
  const created = await db.legalHold.create({ data: { patientId: hold.patientId ?? null, reason: hold.reason, placedBy: hold.principal } });
  await recordAudit(db, {
    principal: hold.principal,
    action: 'legal_hold.place',
    objectType: 'legal_hold',
    objectId: created.id,
    outcome: 'ok',
    details: { scope: created.patientId ? 'patient' : 'deployment', patientId: created.patientId },
  });
  return created;
}

export async function releaseLegalHold(db: PrismaClient, id: string, principal: string) {
  const hold = await db.legalHold.findUnique({ where: { id } });
  if (!hold || hold.releasedAt) throw new LegalHoldNotFoundError('no legal hold in force with that id');
  const released = await db.legalHold.update({ where: { id }, data: { releasedAt: new Date(), releasedBy: principal } });
  await recordAudit(db, { principal, action: 'legal_hold.release', objectType: 'legal_hold', objectId: id, outcome: 'ok', details: { patientId: hold.patientId } });
  return released;
}

export function listLegalHolds(db: PrismaClient, options: { includeReleased?: boolean } = {}) {
  return db.legalHold.findMany({ where: options.includeReleased ? {} : { releasedAt: null }, orderBy: { placedAt: 'asc' } });
}
