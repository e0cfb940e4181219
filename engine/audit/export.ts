// Reading the audit trail out (LOG-03, LOG-04): filtered pages — by time, principal, action or the
// patient concerned ("who looked at my record") — as JSON or CSV. Rows keep their chain columns, so
// an unfiltered export can be re-verified outside Haven. Details hold ids and counts, never PHI.
import { stringify } from 'csv-stringify/sync';
import type { Prisma, PrismaClient } from '../db/index.ts';
import { canonicalJson } from './chain.ts';

export interface AuditQuery {
  from?: Date;
  to?: Date;
  principal?: string;
  action?: string;
  patientId?: string;
  /** Position to continue after (the `next` of the previous page). */
  after?: bigint;
  limit?: number;
}

export const MAX_EXPORT_PAGE = 10_000;

export interface ExportedAuditEvent {
  seq: string | null;
  at: string;
  principal: string;
  action: string;
  objectType: string;
  objectId: string | null;
  outcome: string;
  details: unknown;
  prevHash: string | null;
  hash: string | null;
}

export async function queryAuditEvents(db: PrismaClient, q: AuditQuery): Promise<{ events: ExportedAuditEvent[]; next: string | null }> {
  const limit = Math.min(Math.max(q.limit ?? 1_000, 1), MAX_EXPORT_PAGE);
  const where: Prisma.AuditEventWhereInput = {
    seq: q.after !== undefined ? { gt: q.after } : { not: null },
    ...(q.from || q.to ? { at: { ...(q.from ? { gte: q.from } : {}), ...(q.to ? { lt: q.to } : {}) } } : {}),
    ...(q.principal ? { principal: q.principal } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.patientId ? { OR: [{ objectType: 'patient', objectId: q.patientId }, { details: { path: ['patientId'], equals: q.patientId } }] } : {}),
  };
  const rows = await db.auditEvent.findMany({ where, orderBy: { seq: 'asc' }, take: limit + 1 });
  const page = rows.slice(0, limit);
  return {
    events: page.map((r) => ({
      seq: r.seq?.toString() ?? null,
      at: r.at.toISOString(),
      principal: r.principal,
      action: r.action,
      objectType: r.objectType,
      objectId: r.objectId,
      outcome: r.outcome,
      details: r.details,
      prevHash: r.prevHash,
      hash: r.hash,
    })),
    next: rows.length > limit ? page.at(-1)!.seq!.toString() : null,
  };
}

const CSV_COLUMNS = ['seq', 'at', 'principal', 'action', 'objectType', 'objectId', 'outcome', 'details', 'prevHash', 'hash'] as const;

/** RFC 4180, with cells a spreadsheet would run as a formula neutralized. */
export function auditEventsCsv(events: ExportedAuditEvent[]): string {
  const rows = events.map((e) => CSV_COLUMNS.map((c) => (c === 'details' ? canonicalJson(e.details) : e[c])));
  return stringify(rows, { header: true, columns: [...CSV_COLUMNS], escape_formulas: true, record_delimiter: 'windows' });
}
