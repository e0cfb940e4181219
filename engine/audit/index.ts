// Audit: the append-only, hash-chained record of who did what to journeys and consent (the
// database refuses updates and deletes; the chain and signed checkpoints reveal edits made around
// that). Details carry ids, counts and categories — never PHI values. Consent decisions form a
// second chain (engine/consent writes them through `appendRow`). Only the retention job ever
// removes anything, and only what is past the retention period and under no legal hold.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Prisma, PrismaClient } from '../db/index.ts';
import { appendRow, verifyChain, verifyCheckpoints, writeCheckpoints, type ChainProblem, type ChainReport, type CheckpointKey } from './chain.ts';

export { appendRow, canonicalJson, type Chain, type ChainProblem, type CheckpointKey } from './chain.ts';
export { writeCheckpoints } from './chain.ts';
export { MINIMUM_RETENTION_YEARS, runRetention, type RetentionReport } from './retention.ts';
export { LegalHoldNotFoundError, listLegalHolds, placeLegalHold, releaseLegalHold } from './holds.ts';
export { auditEventsCsv, MAX_EXPORT_PAGE, queryAuditEvents, type AuditQuery } from './export.ts';

export interface AuditEntry {
  principal: string;
  action: string;
  objectType: string;
  objectId?: string | null;
  outcome: 'ok' | 'refused' | 'denied' | 'error';
  details?: Record<string, unknown>;
}

/** LOG-01: an event names who acted, what they did and to what; the database enforces it too. */
export class AuditEntryInvalidError extends Error {}

export async function recordAudit(db: PrismaClient | Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  for (const field of ['principal', 'action', 'objectType'] as const) {
    if (typeof entry[field] !== 'string' || !entry[field].trim()) throw new AuditEntryInvalidError(`audit event without ${field}`);
  }
  const content = {
    at: new Date(),
    principal: entry.principal,
    action: entry.action,
    objectType: entry.objectType,
    objectId: entry.objectId ?? null,
    outcome: entry.outcome,
    details: JSON.parse(JSON.stringify(entry.details ?? {})) as Prisma.InputJsonValue,
  };
  await appendRow(db, 'audit', content);
  const scope = scopes.getStore();
  if (scope) scope.events++;
}

const scopes = new AsyncLocalStorage<{ events: number }>();

/** Runs `fn` in a scope that counts the audit events written within it (one API request). */
export function withAuditScope<T>(fn: () => T): T {
  return scopes.run({ events: 0 }, fn);
}

/** How many audit events the current scope has written (0 outside any scope). */
export function auditEventsInScope(): number {
  return scopes.getStore()?.events ?? 0;
}

export interface AuditVerification {
  ok: boolean;
  chains: { audit: ChainReport; decision: ChainReport };
  checkpoints: number;
  problems: ChainProblem[];
}

/** LOG-02: recomputes both chains and checks every signed checkpoint. */
export async function verifyAudit(db: PrismaClient, keys: CheckpointKey[]): Promise<AuditVerification> {
  const audit = await verifyChain(db, 'audit');
  const decision = await verifyChain(db, 'decision');
  const checkpoints = await verifyCheckpoints(db, keys);
  const problems = [...audit.problems, ...decision.problems, ...checkpoints.problems];
  return { ok: problems.length === 0, chains: { audit: audit.report, decision: decision.report }, checkpoints: checkpoints.checked, problems };
}

/** Haven itself (scripts, internal calls). API requests are always attributed to their principal. */
export const SYSTEM_PRINCIPAL = 'system:haven';
