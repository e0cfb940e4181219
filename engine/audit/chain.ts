// Hash chains over the audit trail and the consent decisions (LOG-02, SEC-06): each row stores
// SHA-256(previous hash, canonical JSON of its own content) and its position. Appends to one
// chain are serialized by an advisory lock, so positions are gapless and every row links to the
// one before; appends outside a caller's transaction are group-committed to keep that lock cheap.
// Verification recomputes the chain; checkpoints, signed with a key the database does not hold,
// catch even a consistent rewrite.
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
  if (row?.seq != null && row.hash) return { seq: row.seq, hash: row.hash };
  // Every row so far was removed by retention: the chain goes on from its anchor.
  return latestAnchor(tx, chain);
}

type Row = Record<string, unknown> & { seq: bigint; prevHash: string; hash: string };

function insertRows(tx: Tx, chain: Chain, rows: Row[]) {
  return chain === 'audit'
    ? tx.auditEvent.createMany({ data: rows as unknown as Prisma.AuditEventCreateManyInput[] })
    : tx.decision.createMany({ data: rows as unknown as Prisma.DecisionCreateManyInput[] });
}

/** Links `contents` to the chain's end, in order, inside `tx` (which holds the chain's lock after). */
async function appendAll(tx: Tx, chain: Chain, contents: Record<string, unknown>[]): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`haven-chain:${chain}`}))`;
  let last = await lastLink(tx, chain);
  const rows: Row[] = [];
  for (const content of contents) {
    const seq = (last?.seq ?? 0n) + 1n;
    const prevHash = last?.hash ?? GENESIS;
    const hash = linkHash(prevHash, { ...content, seq });
    rows.push({ ...content, seq, prevHash, hash });
    last = { seq, hash };
  }
  await insertRows(tx, chain, rows);
}

interface Pending {
  content: Record<string, unknown>;
  done: (error?: unknown) => void;
}

/**
 * Group commit: the chain lock makes appends one at a time (~300 a second here), so appends that
 * arrive while a batch is being written go together in the next one — one lock, one transaction.
 * If a batch fails, its rows are retried one by one, so only a faulty row fails its caller.
 */
class ChainWriter {
  private queue: Pending[] = [];
  private writing = false;
  constructor(
    private readonly db: PrismaClient,
    private readonly chain: Chain,
  ) {}

  append(content: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ content, done: (e) => (e === undefined ? resolve() : reject(e)) });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length) {
      const batch = this.queue.splice(0, 500);
      try {
        await this.db.$transaction((tx) => appendAll(tx, this.chain, batch.map((p) => p.content)));
        for (const p of batch) p.done();
      } catch (error) {
        if (batch.length === 1) batch[0]!.done(error);
        else
          for (const p of batch) {
            await this.db.$transaction((tx) => appendAll(tx, this.chain, [p.content])).then(() => p.done(), (e: unknown) => p.done(e));
          }
      }
    }
    this.writing = false;
  }
}

const writers = new WeakMap<object, Partial<Record<Chain, ChainWriter>>>();

/**
 * Appends one row to a chain: inside the caller's transaction when `db` is one (the row commits or
 * rolls back with the caller's work), else through the process's group-commit writer.
 */
export async function appendRow(db: PrismaClient | Tx, chain: Chain, content: Record<string, unknown>): Promise<void> {
  if (!('$transaction' in db)) return appendAll(db as Tx, chain, [content]);
  let perDb = writers.get(db);
  if (!perDb) writers.set(db, (perDb = {}));
  const writer = (perDb[chain] ??= new ChainWriter(db as PrismaClient, chain));
  return writer.append(content);
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

/** The newest retention anchor of a chain: where the chain now starts (LOG-04), or null. */
export async function latestAnchor(db: PrismaClient | Tx, chain: Chain): Promise<{ seq: bigint; hash: string } | null> {
  return db.auditCheckpoint.findFirst({ where: { chain, kind: 'retention_anchor' }, orderBy: { seq: 'desc' }, select: { seq: true, hash: true } });
}

const PAGE = 2_000;

/**
 * Recomputes a chain from its start — the first position, or the row after the newest retention
 * anchor — a page at a time, and reports every break found.
 */
export async function verifyChain(db: PrismaClient, chain: Chain): Promise<{ report: ChainReport; problems: ChainProblem[] }> {
  const page = (after: bigint): Promise<Record<string, unknown>[]> =>
    chain === 'audit'
      ? db.auditEvent.findMany({ where: { seq: { gt: after } }, orderBy: { seq: 'asc' }, take: PAGE })
      : db.decision.findMany({ where: { seq: { gt: after } }, orderBy: { seq: 'asc' }, take: PAGE });
  const problems: ChainProblem[] = [];
  const anchor = await latestAnchor(db, chain);
  let prev: { seq: bigint; hash: string } | null = anchor;
  let chained = 0;
  let firstAt: number | null = null;
  for (let rows = await page(anchor?.seq ?? 0n); rows.length; rows = await page(prev!.seq)) {
    for (const row of rows) {
      const seq = row.seq as bigint;
      firstAt ??= (row.at as Date).getTime();
      const expectedSeq: bigint = (prev?.seq ?? 0n) + 1n;
      if (seq !== expectedSeq) problems.push({ chain, seq: seq.toString(), kind: 'missing', message: `positions ${expectedSeq}…${seq - 1n} are missing` });
      const prevHash = prev?.hash ?? GENESIS;
      if (row.prevHash !== prevHash && seq === expectedSeq) problems.push({ chain, seq: seq.toString(), kind: 'broken_link', message: 'does not link to the row before it' });
      if (linkHash(String(row.prevHash), contentOf(row)) !== row.hash) problems.push({ chain, seq: seq.toString(), kind: 'altered', message: 'content does not match its hash' });
      prev = { seq, hash: String(row.hash) };
      chained++;
    }
  }
  const unchained: { id: string; at: Date }[] =
    chain === 'audit' ? await db.auditEvent.findMany({ where: { seq: null }, select: { id: true, at: true } }) : await db.decision.findMany({ where: { seq: null }, select: { id: true, at: true } });
  for (const r of unchained) {
    if (firstAt !== null && r.at.getTime() >= firstAt) {
      problems.push({ chain, seq: null, kind: 'unchained', message: `a row outside the chain was written after the chain started (id ${r.id})` });
    }
  }
  return {
    report: { rows: chained + unchained.length, chained, legacy: unchained.length, lastSeq: prev?.seq.toString() ?? null, lastHash: prev?.hash ?? null },
    problems,
  };
}

export interface CheckpointKey {
  id: string;
  secret: Buffer;
}

type CheckpointKind = 'checkpoint' | 'retention_anchor';

function sign(key: CheckpointKey, chain: string, seq: bigint, hash: string, kind: CheckpointKind = 'checkpoint'): string {
  // The kind is signed too, so a checkpoint cannot be passed off as the chain's new start.
  const subject = kind === 'checkpoint' ? `${chain}:${seq}:${hash}` : `${chain}#${kind}:${seq}:${hash}`;
  return createHmac('sha256', key.secret).update(subject).digest('hex');
}

/** Records, signed, that the chain now starts after `seq` (whose hash the next row links to). */
export async function writeAnchor(tx: Tx, key: CheckpointKey, chain: Chain, seq: bigint, hash: string): Promise<void> {
  await tx.auditCheckpoint.create({ data: { chain, kind: 'retention_anchor', seq, hash, keyId: key.id, signature: sign(key, chain, seq, hash, 'retention_anchor') } });
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
  const anchors = { audit: await latestAnchor(db, 'audit'), decision: await latestAnchor(db, 'decision') };
  for (const c of checkpoints) {
    const key = keys.find((k) => k.id === c.keyId);
    const expected = key ? Buffer.from(sign(key, c.chain, c.seq, c.hash, c.kind as CheckpointKind), 'hex') : null;
    if (!expected || expected.length !== Buffer.from(c.signature, 'hex').length || !timingSafeEqual(expected, Buffer.from(c.signature, 'hex'))) {
      problems.push({ chain: 'checkpoint', seq: c.seq.toString(), kind: 'bad_signature', message: `checkpoint ${c.id} is not validly signed` });
      continue;
    }
    // Anchors are checked by the chain's own verification (its first row must link to one); a
    // checkpoint of rows the retention job has since removed has nothing left to compare with.
    const anchor = anchors[c.chain as Chain];
    if (c.kind === 'retention_anchor' || (anchor && c.seq <= anchor.seq)) continue;
    const row = c.chain === 'audit' ? await db.auditEvent.findUnique({ where: { seq: c.seq } }) : await db.decision.findUnique({ where: { seq: c.seq } });
    if (!row || row.hash !== c.hash) {
      problems.push({ chain: c.chain as Chain, seq: c.seq.toString(), kind: 'checkpoint_mismatch', message: `the ${c.chain} chain no longer matches the checkpoint signed ${c.createdAt.toISOString()}` });
    }
  }
  return { checked: checkpoints.length, problems };
}
