// LOG-02 / SEC-06: the audit and decision chains detect any edit, insertion or deletion — even by
// a database superuser who switches the append-only triggers off — and a rewrite of the whole
// chain no longer matches the signed checkpoints.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../engine/config.ts';
import { createDb } from '../../engine/db/index.ts';
import { appendRow, canonicalJson, recordAudit, verifyAudit, writeCheckpoints } from '../../engine/audit/index.ts';
import { gate } from '../../engine/consent/index.ts';
import { newPatientRef } from '../../engine/patients/index.ts';

const config = loadConfig();
const db = createDb(config.databaseUrl);
const sql = new pg.Client({ connectionString: config.databaseUrl });
const keys = config.auditKeys;

/** A superuser edit with the append-only triggers switched off — the attack the chain exists for. */
async function asSuperuser(table: string, statement: string, params: unknown[] = []) {
  await sql.query(`ALTER TABLE "${table}" DISABLE TRIGGER USER`);
  try {
    await sql.query(statement, params);
  } finally {
    await sql.query(`ALTER TABLE "${table}" ENABLE TRIGGER USER`);
  }
}
const problemKinds = async () => (await verifyAudit(db, keys)).problems.map((p) => `${p.chain}:${p.kind}`);

describe('hash-chained audit (LOG-02, SEC-06)', { concurrency: false }, () => {
  before(async () => {
    await sql.connect();
    for (let i = 0; i < 5; i++) {
      await recordAudit(db, { principal: 'test', action: 'journey.publish', objectType: 'journey', objectId: `j${i}`, outcome: 'ok', details: { version: i, sends: [{ nodeId: 'a', purpose: 'TREATMENT' }] } });
    }
    const patient = await db.patient.create({ data: { ref: newPatientRef(), email: 'chain@example.test' } });
    for (let i = 0; i < 3; i++) {
      await gate(db, { postalAddress: 'x', nppFundraisingStatement: false, timeZone: 'UTC' }, {
        patientId: patient.id,
        phase: 'send',
        step: { purpose: 'TREATMENT', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'transactional', channel: 'email', fields: [] },
        principal: 'test',
      });
    }
  });
  after(async () => {
    await sql.end();
    await db.$disconnect();
  });

  it('canonical JSON is independent of key order and types are explicit', () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: 2n, c: new Date(0) }] }), canonicalJson({ a: [{ c: new Date(0), d: 2n }], b: 1 }));
    assert.equal(canonicalJson({ a: null, b: undefined }), '{"a":null}');
  });

  it('LOG-02 an intact chain verifies, and writes are serialized into gapless positions', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => recordAudit(db, { principal: 'test', action: 'concurrent', objectType: 'test', objectId: String(i), outcome: 'ok' })));
    const earlier = await db.auditCheckpoint.count(); // other test files sign checkpoints too
    await writeCheckpoints(db, keys[0]!);
    const result = await verifyAudit(db, keys);
    assert.deepEqual(result.problems, []);
    assert.equal(result.ok, true);
    assert.ok(result.chains.audit.chained >= 15);
    assert.ok(result.chains.decision.chained >= 3);
    assert.equal(result.checkpoints, earlier + 2);
  });

  it('LOG-02 appends that arrive together are written together, in one gapless chain; a faulty one fails only its caller', async () => {
    const before = await db.auditEvent.count();
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        appendRow(db, 'audit', { at: new Date(), principal: 'test', action: 'burst', objectType: i === 77 ? ' ' : 'test', objectId: String(i), outcome: 'ok', details: {} }),
      ),
    );
    assert.deepEqual(results.flatMap((r, i) => (r.status === 'rejected' ? [i] : [])), [77], 'only the row the database refuses fails');
    assert.equal(await db.auditEvent.count(), before + 199);
    assert.deepEqual(await problemKinds(), []);
  });

  it('SEC-06 the application cannot edit or delete, even when it tries', async () => {
    await assert.rejects(db.auditEvent.updateMany({ data: { outcome: 'refused' } }), /append-only/);
    await assert.rejects(db.auditCheckpoint.deleteMany({}), /append-only/);
  });

  it('LOG-02 an edited row is reported at its exact position', async () => {
    const row = await db.auditEvent.findFirstOrThrow({ where: { action: 'journey.publish', objectId: 'j2' } });
    await asSuperuser('AuditEvent', `UPDATE "AuditEvent" SET "outcome" = 'refused' WHERE id = $1`, [row.id]);
    const result = await verifyAudit(db, keys);
    assert.equal(result.ok, false);
    assert.ok(result.problems.some((p) => p.chain === 'audit' && p.kind === 'altered' && p.seq === row.seq!.toString()), JSON.stringify(result.problems));
    await asSuperuser('AuditEvent', `UPDATE "AuditEvent" SET "outcome" = 'ok' WHERE id = $1`, [row.id]);
    assert.deepEqual(await problemKinds(), []);
  });

  it('LOG-02 a deleted decision leaves a gap that verify finds', async () => {
    const row = await db.decision.findFirstOrThrow({ where: { seq: 2n } });
    await asSuperuser('Decision', `DELETE FROM "Decision" WHERE id = $1`, [row.id]);
    assert.ok((await problemKinds()).includes('decision:missing'));
    const { id: _id, ...rest } = row;
    await asSuperuser('Decision', `INSERT INTO "Decision" (id, at, "patientId", "enrollmentId", "nodeId", phase, purpose, channel, allow, reasons, "authorizationId", "contactPoint", principal, seq, "prevHash", hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
      [row.id, rest.at, rest.patientId, rest.enrollmentId, rest.nodeId, rest.phase, rest.purpose, rest.channel, rest.allow, rest.reasons, rest.authorizationId, rest.contactPoint, rest.principal, rest.seq, rest.prevHash, rest.hash]);
    assert.deepEqual(await problemKinds(), []);
  });

  it('LOG-02 an inserted row, with or without a forged position, is detected', async () => {
    const id = `forged${randomBytes(4).toString('hex')}`;
    await asSuperuser('AuditEvent', `INSERT INTO "AuditEvent" (id, at, principal, action, "objectType", outcome, details) VALUES ($1, now(), 'x', 'export', 'patient', 'ok', '{}')`, [id]);
    assert.ok((await problemKinds()).includes('audit:unchained'));
    await asSuperuser('AuditEvent', `DELETE FROM "AuditEvent" WHERE id = $1`, [id]);
    const last = await db.auditEvent.findFirstOrThrow({ orderBy: { seq: 'desc' } });
    await asSuperuser('AuditEvent', `INSERT INTO "AuditEvent" (id, at, principal, action, "objectType", outcome, details, seq, "prevHash", hash) VALUES ($1, now(), 'x', 'export', 'patient', 'ok', '{}', $2, $3, $4)`, [id, last.seq! + 1n, last.hash, 'f'.repeat(64)]);
    assert.ok((await problemKinds()).includes('audit:altered'));
    await asSuperuser('AuditEvent', `DELETE FROM "AuditEvent" WHERE id = $1`, [id]);
    assert.deepEqual(await problemKinds(), []);
  });

  it('LOG-02 a consistent rewrite of the chain still fails against the signed checkpoint', async () => {
    // Rewrite one early row and recompute every later hash, as a careful attacker would.
    const rows = await db.auditEvent.findMany({ where: { seq: { not: null } }, orderBy: { seq: 'asc' } });
    const { linkHash, contentOf } = await import('../../engine/audit/chain.ts');
    await sql.query('ALTER TABLE "AuditEvent" DISABLE TRIGGER USER');
    try {
      let prev = '0'.repeat(64);
      for (const [i, row] of rows.entries()) {
        const content = contentOf({ ...row, ...(i === 0 ? { outcome: 'refused' } : {}) });
        const hash = linkHash(prev, content);
        await sql.query('UPDATE "AuditEvent" SET outcome = $2, "prevHash" = $3, hash = $4 WHERE id = $1', [row.id, content.outcome, prev, hash]);
        prev = hash;
      }
    } finally {
      await sql.query('ALTER TABLE "AuditEvent" ENABLE TRIGGER USER');
    }
    const kinds = await problemKinds();
    assert.ok(!kinds.includes('audit:altered'), 'the rewritten chain is self-consistent');
    assert.ok(kinds.includes('audit:checkpoint_mismatch'), JSON.stringify(kinds));
  });
});
