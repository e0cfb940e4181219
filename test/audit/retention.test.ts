// LOG-04 / AUTH-10 retention: only the retention job deletes, only what is past the retention
// period (never anything younger than six years — the database itself refuses), never what a
// legal hold covers, and every run is audited. The chains still verify afterwards, from a signed
// anchor. Runs in a database of its own: it needs the oldest rows of the chains to be old.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../engine/config.ts';
import { createDb, type PrismaClient } from '../../engine/db/index.ts';
import { appendRow, placeLegalHold, recordAudit, releaseLegalHold, runRetention, verifyAudit, writeCheckpoints } from '../../engine/audit/index.ts';
import { newPatientRef } from '../../engine/patients/index.ts';
import { encryptAtRest, FieldVault } from '../../engine/phi/index.ts';
import { scratchDatabase, sqlAt } from '../support/scratch-db.ts';

const config = loadConfig();
const key = config.auditKeys[0]!;
const NOW = new Date();
const yearsAgo = (years: number, days = 0) => new Date(Date.UTC(NOW.getUTCFullYear() - years, NOW.getUTCMonth(), NOW.getUTCDate() - days, 12));

let url = '';
let raw: PrismaClient;
let db: PrismaClient;

async function auditAt(at: Date, objectId: string, details: Record<string, string> = {}) {
  const content = { at, principal: 'apikey:test', action: 'patient.read', objectType: 'patient', objectId, outcome: 'ok', details };
  await appendRow(db, 'audit', content);
}
async function decisionAt(at: Date, patientId: string) {
  const content = { at, patientId, enrollmentId: null, nodeId: null, phase: 'send', purpose: 'TREATMENT', channel: 'email', allow: true, reasons: [], authorizationId: null, contactPoint: 'primary', principal: 'test' };
  await appendRow(db, 'decision', content);
}
async function authorization(patientId: string, createdAt: Date, expiresAt: Date | null) {
  return db.authorization.create({
    data: {
      patientId,
      infoDescription: 'appointment dates',
      infoCategories: ['appointment'],
      disclosers: ['Haven Clinic'],
      recipients: ['Haven Clinic'],
      purposes: ['MARKETING'],
      channels: ['email'],
      sponsors: [],
      expiresAt,
      signedAt: createdAt,
      signer: { kind: 'self' },
      signature: { method: 'wet_ink', authenticated: true },
      statements: { rightToRevoke: true, noConditioning: true, redisclosure: true },
      templateVersion: 't1',
      documentHash: 'sha256:0',
      source: 'api',
      createdAt,
    },
  });
}
const auditCount = async () => raw.auditEvent.count();
const kinds = async () => (await verifyAudit(raw, config.auditKeys)).problems.map((p) => `${p.chain}:${p.kind}`);

describe('LOG-04 AUTH-10 retention', { concurrency: false }, () => {
  let held: string;
  let other: string;
  const authorizations: Record<string, string> = {};

  before(async () => {
    url = await scratchDatabase('retention');
    raw = createDb(url);
    db = encryptAtRest(raw, new FieldVault(raw, config.kms));
    held = (await db.patient.create({ data: { ref: newPatientRef(), email: 'held@example.test' } })).id;
    other = (await db.patient.create({ data: { ref: newPatientRef(), email: 'other@example.test' } })).id;
    // Audit chain: positions 1–2 eight years old, 3 about the patient a hold will cover, 4–5 seven
    // years old, then today's rows. Decisions: three old ones, then one of today.
    await auditAt(yearsAgo(8), 'p-a');
    await auditAt(yearsAgo(8), 'p-b');
    await auditAt(yearsAgo(8), held, { patientId: held });
    await auditAt(yearsAgo(7), 'p-c');
    await auditAt(yearsAgo(7), 'p-d');
    for (let i = 0; i < 3; i++) await decisionAt(yearsAgo(9), other);
    await recordAudit(db, { principal: 'apikey:test', action: 'patient.read', objectType: 'patient', objectId: 'p-today', outcome: 'ok' });
    await decisionAt(NOW, other);
    authorizations.expiredLongAgo = (await authorization(other, yearsAgo(10), yearsAgo(8))).id;
    authorizations.expiredRecently = (await authorization(other, yearsAgo(10), yearsAgo(5))).id;
    authorizations.stillInEffect = (await authorization(other, yearsAgo(10), null)).id;
    authorizations.heldPatient = (await authorization(held, yearsAgo(10), yearsAgo(8))).id;
    await writeCheckpoints(raw, key); // signed before retention removes what they point at
  });
  after(async () => {
    await raw?.$disconnect();
  });

  it('LOG-04 a record younger than six years cannot be deleted, not even inside the retention job', async () => {
    const young = await raw.auditEvent.findFirstOrThrow({ where: { objectId: 'p-today' } });
    await assert.rejects(raw.auditEvent.delete({ where: { id: young.id } }), /append-only/);
    await assert.rejects(
      raw.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT set_config('haven.retention_job', 'on', true)`;
        await tx.auditEvent.delete({ where: { id: young.id } });
      }),
      /append-only/,
    );
    // An old row outside the job is refused too: only the job deletes.
    const old = await raw.auditEvent.findFirstOrThrow({ where: { objectId: 'p-a' } });
    await assert.rejects(raw.auditEvent.delete({ where: { id: old.id } }), /append-only/);
    await assert.rejects(raw.decision.deleteMany({ where: { at: { lt: yearsAgo(6) } } }), /append-only/);
    assert.equal(await auditCount(), 6);
  });

  it('LOG-04 retention shorter than six years is refused, by the job and by the configuration', async () => {
    await assert.rejects(runRetention(raw, { years: 5, key, principal: 'test' }), /at least 6 years/);
    assert.throws(() => loadConfig({ ...process.env, HAVEN_RETENTION_YEARS: '5' }), /HAVEN_RETENTION_YEARS/);
    assert.equal(loadConfig({ ...process.env, HAVEN_RETENTION_YEARS: undefined }).retention.years, 6);
  });

  it('LOG-04 a dry run reports what would go, removes nothing, and is audited', async () => {
    const before = await auditCount();
    const report = await runRetention(db, { years: 6, key, principal: 'apikey:compliance', dryRun: true });
    assert.deepEqual(report.removed, { audit: 5, decision: 3, authorizations: 2 });
    assert.equal(report.dryRun, true);
    assert.equal(await auditCount(), before + 1);
    const run = await raw.auditEvent.findFirstOrThrow({ where: { action: 'retention.run' }, orderBy: { seq: 'desc' } });
    assert.equal(run.principal, 'apikey:compliance');
    assert.equal((run.details as { dryRun: boolean }).dryRun, true);
  });

  it('LOG-04 a deployment-wide legal hold stops the job entirely', async () => {
    const hold = await placeLegalHold(db, { reason: 'litigation 2026-17', principal: 'apikey:compliance' });
    const report = await runRetention(db, { years: 6, key, principal: 'system:haven' });
    assert.equal(report.held, true);
    assert.deepEqual(report.removed, { audit: 0, decision: 0, authorizations: 0 });
    await releaseLegalHold(db, hold.id, 'apikey:compliance');
    await assert.rejects(raw.legalHold.delete({ where: { id: hold.id } }), /only be released/);
  });

  it('LOG-04 a hold on one patient keeps that patient\'s records, and the chain from its first one', async () => {
    const hold = await placeLegalHold(db, { patientId: held, reason: 'records request', principal: 'apikey:compliance' });
    const report = await runRetention(db, { years: 6, key, principal: 'system:haven' });
    // Audit positions 1–2 go; 3 concerns the held patient, so it and everything after stay.
    assert.deepEqual(report.removed, { audit: 2, decision: 3, authorizations: 1 });
    const remaining = await raw.auditEvent.findMany({ orderBy: { seq: 'asc' }, select: { seq: true, objectId: true } });
    assert.equal(remaining[0]!.seq, 3n);
    assert.equal(remaining[0]!.objectId, held);
    assert.deepEqual((await raw.authorization.findMany({ select: { id: true } })).map((a) => a.id).sort(), [authorizations.expiredRecently, authorizations.stillInEffect, authorizations.heldPatient].sort());
    // What remains still verifies: from a signed anchor, against the checkpoints signed earlier.
    assert.deepEqual(await kinds(), []);
    await releaseLegalHold(db, hold.id, 'apikey:compliance');
  });

  it('AUTH-10 an authorization stays six years past its last day in effect; one still in effect stays', async () => {
    const report = await runRetention(db, { years: 6, key, principal: 'system:haven' });
    assert.deepEqual(report.removed, { audit: 3, decision: 0, authorizations: 1 });
    const left = (await raw.authorization.findMany({ select: { id: true } })).map((a) => a.id).sort();
    assert.deepEqual(left, [authorizations.expiredRecently, authorizations.stillInEffect].sort());
    // Nothing younger than six years went, and a second run finds nothing more.
    assert.equal(await raw.auditEvent.count({ where: { objectId: 'p-today' } }), 1);
    assert.deepEqual((await runRetention(db, { years: 6, key, principal: 'system:haven' })).removed, { audit: 0, decision: 0, authorizations: 0 });
  });

  it('LOG-04 every run wrote its own audit event, with the counts', async () => {
    const runs = await raw.auditEvent.findMany({ where: { action: 'retention.run' }, orderBy: { seq: 'asc' } });
    assert.equal(runs.length, 5);
    assert.deepEqual((runs[3]!.details as { removed: unknown }).removed, { audit: 3, decision: 0, authorizations: 1 });
    assert.deepEqual(await kinds(), []);
  });

  it('LOG-02 after retention, new rows link on; a forged anchor or a removed row is still detected', async () => {
    await recordAudit(db, { principal: 'apikey:test', action: 'patient.read', objectType: 'patient', objectId: 'p-later', outcome: 'ok' });
    assert.deepEqual(await kinds(), []);
    // An attacker "retains" a recent row by hand, with the triggers off: verify sees the gap.
    const victim = await raw.auditEvent.findFirstOrThrow({ where: { objectId: 'p-today' } });
    await sqlAt(url, 'ALTER TABLE "AuditEvent" DISABLE TRIGGER USER');
    await sqlAt(url, 'DELETE FROM "AuditEvent" WHERE id = $1', [victim.id]);
    await sqlAt(url, 'ALTER TABLE "AuditEvent" ENABLE TRIGGER USER');
    assert.ok((await kinds()).includes('audit:missing'));
    // Covering it with a forged anchor (no signing key) is caught too.
    await sqlAt(url, `INSERT INTO "AuditCheckpoint" (id, chain, kind, seq, hash, "keyId", signature) VALUES ('forged', 'audit', 'retention_anchor', $1, $2, $3, $4)`, [
      victim.seq!.toString(),
      victim.hash,
      key.id,
      'ab'.repeat(32),
    ]);
    assert.ok((await kinds()).includes('checkpoint:bad_signature'));
  });
});
