// The approved sender identities (CS-02): created and retired by an admin, each change audited.
// Retiring keeps the row, so past messages still name a sender that existed.
import { z } from 'zod';
import { recordAudit } from '../audit/index.ts';
import { isUniqueViolation, type PrismaClient } from '../db/index.ts';
import { senderProblems, type SenderPolicy, type SenderProblem } from './senders.ts';

export class SenderInvalidError extends Error {
  constructor(readonly problems: SenderProblem[] | { field: string; message: string }[]) {
    super(`sender identity refused (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}

const NewSender = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, "-" or "_", starting with a letter'),
    name: z.string(),
    address: z.string(),
    replyTo: z.string().optional(),
  })
  .strict();

export async function createSender(db: PrismaClient, policy: SenderPolicy, input: unknown, principal: string): Promise<{ id: string }> {
  const parsed = NewSender.safeParse(input);
  if (!parsed.success) throw new SenderInvalidError(parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })));
  const problems = senderProblems(parsed.data, policy);
  if (problems.length) {
    await recordAudit(db, { principal, action: 'sender.create', objectType: 'sender', objectId: parsed.data.id, outcome: 'refused', details: { fields: problems.map((p) => p.field) } });
    throw new SenderInvalidError(problems);
  }
  try {
    await db.sender.create({ data: { ...parsed.data, createdBy: principal } });
  } catch (e) {
    if (isUniqueViolation(e)) throw new SenderInvalidError([{ field: 'id', message: `sender "${parsed.data.id}" exists` }]);
    throw e;
  }
  await recordAudit(db, { principal, action: 'sender.create', objectType: 'sender', objectId: parsed.data.id, outcome: 'ok' });
  return { id: parsed.data.id };
}

export async function retireSender(db: PrismaClient, id: string, principal: string): Promise<boolean> {
  const { count } = await db.sender.updateMany({ where: { id, retiredAt: null }, data: { retiredAt: new Date() } });
  if (count) await recordAudit(db, { principal, action: 'sender.retire', objectType: 'sender', objectId: id, outcome: 'ok' });
  return count === 1;
}

export function listSenders(db: PrismaClient) {
  return db.sender.findMany({ orderBy: { createdAt: 'asc' } });
}

/** Sender ids a definition names that are not approved (missing or retired). */
export async function unapprovedSenders(db: PrismaClient, ids: string[]): Promise<string[]> {
  const found = await db.sender.findMany({ where: { id: { in: ids }, retiredAt: null }, select: { id: true } });
  return ids.filter((id) => !found.some((f) => f.id === id));
}
