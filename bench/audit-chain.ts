// Audit chain throughput: hash-chained appends (recordAudit: the chain lock, group-committed) from
// 1, 16 and 64 concurrent callers, against the raw baseline measured in the same run — the same
// rows inserted unchained (no lock, no hash), one statement each. Own database (haven_bench_chain).
import { recordAudit } from '../engine/audit/index.ts';
import { createDb } from '../engine/db/index.ts';
import { freshBenchDatabase } from './database.ts';

const N = Number(process.env.BENCH_AUDIT_APPENDS ?? 4_000);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

const postgres = await freshBenchDatabase('haven_bench_chain', log);
const db = createDb(postgres.databaseUrl);

async function rate(concurrency: number, append: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < N) await append(next++);
  }));
  return Math.round(N / ((performance.now() - start) / 1_000));
}

try {
  const entry = (i: number) => ({ principal: 'apikey:bench', action: 'patient.read', objectType: 'patient', objectId: `p${i}`, outcome: 'ok' as const, details: { status: 200 } });
  const results: Record<string, { chainedPerSecond: number; baselineUnchainedPerSecond: number; ratioToBaseline: number }> = {};
  for (const concurrency of [1, 16, 64]) {
    const baseline = await rate(concurrency, (i) => db.auditEvent.create({ data: { ...entry(i), at: new Date() } }));
    const chained = await rate(concurrency, (i) => recordAudit(db, entry(i)));
    results[`concurrency${concurrency}`] = { chainedPerSecond: chained, baselineUnchainedPerSecond: baseline, ratioToBaseline: +(chained / baseline).toFixed(2) };
  }
  console.log(JSON.stringify({ node: process.version, appends: N, auditChain: results }, null, 2));
} finally {
  await db.$disconnect();
  await postgres.stop();
}
