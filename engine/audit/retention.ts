// Retention (LOG-04, AUTH-10): the only thing that ever deletes from the ledgers. Audit events and
// consent decisions older than the retention period go as a prefix of their chain, leaving a
// signed anchor where the chain now starts; an authorization goes once it has been out of effect
// for the retention period (retention = max(createdAt, last day in effect) + N years; one still in
// effect is kept). A legal hold stops it — for everything, or for one patient. The database itself
// refuses to delete any of these rows younger than six years, whatever this code decides. Each run,
// dry or not, is audited. Suppressions, directives, restrictions and elections are standing
// instructions of the patient and are never removed by age.
import type { Prisma, PrismaClient } from '../db/index.ts';
import { latestAnchor, writeAnchor, type Chain, type CheckpointKey } from './chain.ts';
import { recordAudit } from './index.ts';

/** The legal minimum: documentation kept six years (164.316(b)(2), 164.530(j)). */
export const MINIMUM_RETENTION_YEARS = 6;

export interface RetentionRun {
  years: number;
  key: CheckpointKey;
  principal: string;
  dryRun?: boolean;
  now?: Date;
}

export interface RetentionReport {
  cutoff: string;
  dryRun: boolean;
  /** A deployment-wide legal hold stopped the run. */
  held: boolean;
  heldPatients: number;
  removed: { audit: number; decision: number; authorizations: number };
}

type Tx = Prisma.TransactionClient;

export function yearsBefore(now: Date, years: number): Date {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d;
}

export async function runRetention(db: PrismaClient, run: RetentionRun): Promise<RetentionReport> {
  if (!(run.years >= MINIMUM_RETENTION_YEARS)) throw new Error(`retention is at least ${MINIMUM_RETENTION_YEARS} years`);
  const now = run.now ?? new Date();
  const cutoff = yearsBefore(now, run.years);
  const dryRun = run.dryRun === true;
  const holds = await db.legalHold.findMany({ where: { releasedAt: null } });
  const held = holds.some((h) => h.patientId === null);
  const heldPatients = new Set(holds.flatMap((h) => (h.patientId ? [h.patientId] : [])));
  const removed = { audit: 0, decision: 0, authorizations: 0 };

  if (!held) {
    await db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT set_config('haven.retention_job', 'on', true)`;
        removed.audit = await removeChainPrefix(tx, 'audit', cutoff, heldPatients, run.key, dryRun);
        removed.decision = await removeChainPrefix(tx, 'decision', cutoff, heldPatients, run.key, dryRun);
        removed.authorizations = await removeAuthorizations(tx, now, run.years, heldPatients, dryRun);
      },
      { timeout: 600_000 },
    );
  }
  const report: RetentionReport = { cutoff: cutoff.toISOString(), dryRun, held, heldPatients: heldPatients.size, removed };
  await recordAudit(db, { principal: run.principal, action: 'retention.run', objectType: 'retention', outcome: 'ok', details: { ...report, years: run.years } });
  return report;
}

/**
 * Removes the oldest rows of a chain: all of them up to (not including) the first that is newer
 * than the cutoff or concerns a held patient, so what remains is still one unbroken chain.
 */
async function removeChainPrefix(tx: Tx, chain: Chain, cutoff: Date, heldPatients: Set<string>, key: CheckpointKey, dryRun: boolean): Promise<number> {
  // Appends wait while the prefix goes, so none links to a row being removed.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`haven-chain:${chain}`}))`;
  const anchor = await latestAnchor(tx, chain);
  const after = anchor?.seq ?? 0n;
  const rows: { seq: bigint | null; hash: string | null; at: Date; patient: string | null }[] =
    chain === 'audit'
      ? (await tx.auditEvent.findMany({ where: { seq: { gt: after }, at: { lt: cutoff } }, orderBy: { seq: 'asc' }, select: { seq: true, hash: true, at: true, objectId: true, details: true } })).map(
          (r) => ({ ...r, patient: patientOf(r.details) ?? r.objectId }),
        )
      : (await tx.decision.findMany({ where: { seq: { gt: after }, at: { lt: cutoff } }, orderBy: { seq: 'asc' }, select: { seq: true, hash: true, at: true, patientId: true } })).map((r) => ({
          ...r,
          patient: r.patientId,
        }));
  // The old rows must also be the first ones: stop at a gap (a newer row in between) or a hold.
  let last: { seq: bigint; hash: string } | null = null;
  for (const row of rows) {
    const expected: bigint = (last?.seq ?? after) + 1n;
    if (row.seq !== expected || (row.patient && heldPatients.has(row.patient))) break;
    last = { seq: expected, hash: row.hash! };
  }
  // Rows from before the chain existed (no position) go by age alone.
  const legacy = { seq: null, at: { lt: cutoff } };
  const legacyCount = chain === 'audit' ? await tx.auditEvent.count({ where: legacy }) : await tx.decision.count({ where: legacy });
  if (dryRun) return Number((last?.seq ?? after) - after) + legacyCount;
  if (last) {
    await writeAnchor(tx, key, chain, last.seq, last.hash);
    const range = { seq: { gt: after, lte: last.seq } };
    if (chain === 'audit') await tx.auditEvent.deleteMany({ where: range });
    else await tx.decision.deleteMany({ where: range });
  }
  if (legacyCount) {
    if (chain === 'audit') await tx.auditEvent.deleteMany({ where: legacy });
    else await tx.decision.deleteMany({ where: legacy });
  }
  return Number((last?.seq ?? after) - after) + legacyCount;
}

function patientOf(details: unknown): string | null {
  const id = (details as { patientId?: unknown } | null)?.patientId;
  return typeof id === 'string' ? id : null;
}

/**
 * AUTH-10: an authorization is kept for `years` after the later of when it was last in effect (its
 * expiry, or the receipt of its revocation or other end) and when any of its records was written.
 * One still in effect — or ending only on an event not yet recorded — is kept.
 */
export function authorizationRetainedUntil(
  a: { createdAt: Date; expiresAt: Date | null; ends: { receivedAt: Date; createdAt: Date }[] },
  years: number,
  now: Date,
): Date | null {
  const endings = [...(a.expiresAt && a.expiresAt.getTime() <= now.getTime() ? [a.expiresAt] : []), ...a.ends.map((e) => e.receivedAt)];
  if (!endings.length) return null;
  const lastInEffect = Math.min(...endings.map((d) => d.getTime()));
  const lastWritten = Math.max(a.createdAt.getTime(), ...a.ends.map((e) => e.createdAt.getTime()));
  const until = new Date(Math.max(lastInEffect, lastWritten));
  until.setUTCFullYear(until.getUTCFullYear() + years);
  return until;
}

async function removeAuthorizations(tx: Tx, now: Date, years: number, heldPatients: Set<string>, dryRun: boolean): Promise<number> {
  const candidates = await tx.authorization.findMany({
    where: { createdAt: { lt: yearsBefore(now, years) }, patientId: { notIn: [...heldPatients] } },
    select: { id: true, createdAt: true, expiresAt: true, ends: { select: { receivedAt: true, createdAt: true } } },
  });
  const due = candidates.filter((a) => {
    const until = authorizationRetainedUntil(a, years, now);
    return until !== null && until.getTime() <= now.getTime();
  });
  if (dryRun || !due.length) return due.length;
  const ids = due.map((a) => a.id);
  await tx.authorizationCopy.deleteMany({ where: { authorizationId: { in: ids } } });
  await tx.authorizationEnd.deleteMany({ where: { authorizationId: { in: ids } } });
  await tx.authorization.deleteMany({ where: { id: { in: ids } } });
  return ids.length;
}
