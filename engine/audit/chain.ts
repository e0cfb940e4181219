// Hash chains over the audit trail and the consent decisions (LOG-02, SEC-06): each row stores
// SHA-256(previous hash, canonical JSON of its own content) and its position. Appends to one
// chain are serialized by an advisory lock, so positions are gapless and every row links to the
// one before. Verification recomputes the chain; checkpoints, signed with a key the database does
// not hold, catch even a consistent rewrite.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Prisma, PrismaClient } from '../db/index.ts';

export type Chain = 'audit' | 'decision';
type Tx = Prisma.TransactionClient;
export const GENESIS = '0'.repeat(64);

/** JSON with sorted keys, ISO dates and decimal big integers: the same bytes for the same content. */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function linkHash(prevHash: string, content: Record<string, unknown>): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(content)).digest('hex');
}

/** The hashed content of a row: everything but its id and the chain columns themselves. */
export function contentOf(row: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, prevHash: _p, hash: _h, ...content } = row;
  return content;
}

async function lastLink(tx: Tx, chain: Chain): Promise<{ seq: bigint; hash: string } | null> {
  const where = { seq: { not: null } } as const;
  const row =
    chain === 'audit'
      ? await tx.auditEvent.findFirst({ where, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } })
      : await tx.decision.findFirst({ where, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
  return row?.seq != null && row.hash ? { seq: row.seq, hash: row.hash } : null;
}

/**
 * Appends to a chain inside `tx` (which must be a transaction): takes the chain's lock, links the
 * new row to the last one and hands the chain columns to `insert`.
 */
export async function appendToChain<T>(
  tx: Tx,
  chain: Chain,
  content: Record<string, unknown>,
  insert: (link: { seq: bigint; prevHash: string; hash: string }) => Promise<T>,
): Promise<T> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`haven-chain:${chain}`}))`;
  const last = await lastLink(tx, chain);
  const seq = (last?.seq ?? 0n) + 1n;
  const prevHash = last?.hash ?? GENESIS;
  return insert({ seq, prevHash, hash: linkHash(prevHash, { ...content, seq }) });
}

/** Runs `work` in a transaction unless `db` already is one. */
export async function inTransaction<T>(db: PrismaClient | Tx, work: (tx: Tx) => Promise<T>): Promise<T> {
  return '$transaction' in db ? (db as PrismaClient).$transaction(work) : work(db as Tx);
}

export interface ChainProblem {
  chain: Chain | 'checkpoint';
  seq: string | null;
  kind: 'altered' | 'broken_link' | 'missing' | 'unchained' | 'checkpoint_mismatch' | 'bad_signature';
  message: string;
}

export interface ChainReport {
  rows: number;
  chained: number;
  /** Rows written before the chain existed. */
  legacy: number;
  lastSeq: string | null;
  lastHash: string | null;
}

/** Recomputes a chain from the first position; reports every break found. */
export async function verifyChain(db: PrismaClient, chain: Chain): Promise<{ report: ChainReport; problems: ChainProblem[] }> {
  const rows: Record<string, unknown>[] =
    chain === 'audit' ? await db.auditEvent.findMany({ orderBy: [{ seq: 'asc' }, { at: 'asc' }] }) : await db.decision.findMany({ orderBy: [{ seq: 'asc' }, { at: 'asc' }] });
  const problems: ChainProblem[] = [];
  const chained = rows.filter((r) => r.seq !== null);
  const unchained = rows.filter((r) => r.seq === null);
  const chainStart = chained.length ? Math.min(...chained.map((r) => (r.at as Date).getTime())) : Infinity;
  for (const r of unchained) {
    if ((r.at as Date).getTime() >= chainStart) {
      problems.push({ chain, seq: null, kind: 'unchained', message: `a row outside the chain was written after the chain started (id ${String(r.id)})` });
    }
  }
  let prev: { seq: bigint; hash: string } | null = null;
  for (const row of chained) {
    const seq = row.seq as bigint;
    const expectedSeq: bigint = (prev?.seq ?? 0n) + 1n;
    if (seq !== expectedSeq) problems.push({ chain, seq: seq.toString(), kind: 'missing', message: `positions ${expectedSeq}…${seq - 1n} are missing` });
    const prevHash = prev?.hash ?? GENESIS;
    if (row.prevHash !== prevHash && seq === expectedSeq) problems.push({ chain, seq: seq.toString(), kind: 'broken_link', message: 'does not link to the row before it' });
    if (linkHash(String(row.prevHash), contentOf(row)) !== row.hash) problems.push({ chain, seq: seq.toString(), kind: 'altered', message: 'content does not match its hash' });
    prev = { seq, hash: String(row.hash) };
  }
  return {
    report: { rows: rows.length, chained: chained.length, legacy: unchained.length, lastSeq: prev?.seq.toString() ?? null, lastHash: prev?.hash ?? null },
    problems,
  };
}

export interface CheckpointKey {
  id: string;
  secret: Buffer;
}

function sign(key: CheckpointKey, chain: string, seq: bigint, hash: string): string {
  return createHmac('sha256', key.secret).update(`${chain}:${seq}:${hash}`).digest('hex');
}

/** Signs the current end of each chain. */
export async function writeCheckpoints(db: PrismaClient, key: CheckpointKey): Promise<number> {
  let written = 0;
  for (const chain of ['audit', 'decision'] as const) {
    const last = await db.$transaction((tx) => lastLink(tx, chain));
    if (!last) continue;
    await db.auditCheckpoint.create({ data: { chain, seq: last.seq, hash: last.hash, keyId: key.id, signature: sign(key, chain, last.seq, last.hash) } });
    written++;
  }
  return written;
}

/** Every checkpoint must carry a valid signature and still match the row at its position. */
export async function verifyCheckpoints(db: PrismaClient, keys: CheckpointKey[]): Promise<{ checked: number; problems: ChainProblem[] }> {
  const problems: ChainProblem[] = [];
  const checkpoints = await db.auditCheckpoint.findMany({ orderBy: { createdAt: 'asc' } });
  for (const c of checkpoints) {
    const key = keys.find((k) => k.id === c.keyId);
    const expected = key ? Buffer.from(sign(key, c.chain, c.seq, c.hash), 'hex') : null;
    if (!expected || expected.length !== Buffer.from(c.signature, 'hex').length || !timingSafeEqual(expected, Buffer.from(c.signature, 'hex'))) {
      problems.push({ chain: 'checkpoint', seq: c.seq.toString(), kind: 'bad_signature', message: `checkpoint ${c.id} is not validly signed` });
      continue;
    }
    const row = c.chain === 'audit' ? await db.auditEvent.findUnique({ where: { seq: c.seq } }) : await db.decision.findUnique({ where: { seq: c.seq } });
    if (!row || row.hash !== c.hash) {
      problems.push({ chain: c.chain as Chain, seq: c.seq.toString(), kind: 'checkpoint_mismatch', message: `the ${c.chain} chain no longer matches the checkpoint signed ${c.createdAt.toISOString()}` });
    }
  }
  return { checked: checkpoints.length, problems };
}
