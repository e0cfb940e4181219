// Audit: an append-only record of who did what to journeys and consent (the database refuses
// updates and deletes). Details carry ids, counts and categories — never PHI values. Hash
// chaining, signed checkpoints and verification build on this table.
import type { Prisma, PrismaClient } from '../db/index.ts';

export interface AuditEntry {
  principal: string;
  action: string;
  objectType: string;
  objectId?: string | null;
  outcome: 'ok' | 'refused' | 'denied' | 'error';
  details?: Record<string, unknown>;
}

export async function recordAudit(db: PrismaClient | Prisma.TransactionClient, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({
    data: {
      principal: entry.principal,
      action: entry.action,
      objectType: entry.objectType,
      objectId: entry.objectId ?? null,
      outcome: entry.outcome,
      details: (entry.details ?? {}) as object,
    },
  });
}

/** Until people sign in (a later issue), API actions are attributed to this principal. */
export const API_PRINCIPAL = 'api:unauthenticated';
