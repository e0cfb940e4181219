// SEC-04 encryption at rest: PHI columns are sealed with data keys wrapped by a master key kept
// outside the database. Runs in a database of its own, because rotating master keys there would pull
// the keys out from under every other test.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDb } from '../../engine/db/index.ts';
import { encryptAtRest, FieldVault, LocalKms, newMasterKeys } from '../../engine/phi/index.ts';
import { newPatientRef } from '../../engine/patients/index.ts';
import { scratchDatabase, sqlAt } from '../support/scratch-db.ts';

let keysDb = '';

const m1 = newMasterKeys(); // "m1:<key>"
const m2 = `m2:${randomBytes(32).toString('base64')}`;

function open(masterKeys: string) {
  const raw = createDb(keysDb);
  const vault = new FieldVault(raw, new LocalKms(masterKeys));
  return { raw, vault, db: encryptAtRest(raw, vault) };
}
type Opened = ReturnType<typeof open>;
const opened: Opened[] = [];
function track(o: Opened) {
  opened.push(o);
  return o;
}

async function rawRow(id: string): Promise<Record<string, string>> {
  const rows = await sqlAt(keysDb, 'SELECT email, "givenName", "emailIndex", attributes::text AS attributes FROM "Patient" WHERE id = $1', [id]);
  return rows[0] as Record<string, string>;
}

const keyIdOf = (sealed: string) => sealed.split(':')[1];

describe('SEC-04 encryption at rest', () => {
  before(async () => {
    keysDb = await scratchDatabase('keys');
  });
  after(async () => {
    for (const o of opened) await o.raw.$disconnect();
  });

  it('SEC-04 PHI columns hold only ciphertext; reads through Haven see the plaintext', async () => {
    const { db } = track(open(m1));
    const patient = await db.patient.create({
      data: { ref: newPatientRef(), email: 'Rosa.Quill@Example.test', givenName: 'Rosa', attributes: { ssn: '078-05-1120' } },
    });
    assert.equal(patient.email, 'Rosa.Quill@Example.test');
    assert.deepEqual(patient.attributes, { ssn: '078-05-1120' });
    const row = await rawRow(patient.id);
    for (const value of Object.values(row)) assert.doesNotMatch(value, /Rosa|Quill|078-05-1120/i);
    assert.match(row.email!, /^hv1:dk_/);
    assert.match(row.attributes!, /hv1j:dk_/);
  });

  it('SEC-04 an exact email lookup goes through the blind index, case-insensitively; other filters on PHI are refused', async () => {
    const { db } = track(open(m1));
    const created = await db.patient.create({ data: { ref: newPatientRef(), email: 'lookup@example.test', givenName: 'Ines' } });
    const found = await db.patient.findFirst({ where: { email: '  LOOKUP@example.TEST ' } });
    assert.equal(found?.id, created.id);
    assert.equal(found?.givenName, 'Ines');
    // Through relations and boolean operators too.
    await db.event.create({ data: { name: 'lookup.test', patientId: created.id, data: { note: 'x' } } });
    const event = await db.event.findFirst({ where: { patient: { email: 'lookup@example.test' } }, include: { patient: true } });
    assert.equal(event?.patient.givenName, 'Ines');
    assert.equal((await db.patient.findMany({ where: { OR: [{ email: 'Lookup@example.test' }, { id: 'none' }] } })).length, 1);
    await assert.rejects(db.event.findFirst({ where: { patient: { is: { familyName: 'X' } } } }), /familyName is encrypted at rest/);
    await assert.rejects(db.patient.findFirst({ where: { givenName: 'Ines' } }), /givenName is encrypted at rest/);
    await assert.rejects(db.patient.findFirst({ where: { email: { contains: 'lookup' } } }), /email is encrypted at rest/);
  });

  it('SEC-04 after data key rotation old ciphertext still decrypts and new writes use the new key', async () => {
    const first = track(open(m1));
    const before = await first.db.patient.create({ data: { ref: newPatientRef(), email: 'before@example.test', givenName: 'Olga' } });
    const oldKey = keyIdOf((await rawRow(before.id)).email!);

    const rotated = await first.vault.rotate();
    assert.notEqual(rotated, oldKey);
    const afterRotation = await first.db.patient.create({ data: { ref: newPatientRef(), email: 'after@example.test', givenName: 'Pia' } });
    assert.equal(keyIdOf((await rawRow(afterRotation.id)).email!), rotated);

    // Another process that loaded its keys before the rotation opens the new ciphertext too.
    const fresh = track(open(m1));
    const both = await fresh.db.patient.findMany({ where: { id: { in: [before.id, afterRotation.id] } }, orderBy: { createdAt: 'asc' } });
    assert.deepEqual(both.map((p) => p.givenName), ['Olga', 'Pia']);
  });

  it('SEC-04 master key rotation: re-wrapped data keys open with the new master key alone', async () => {
    const old = track(open(m1));
    const patient = await old.db.patient.create({ data: { ref: newPatientRef(), email: 'master@example.test', givenName: 'Vera' } });

    // Configure m2 first (wraps new keys), m1 second (still unwraps), then re-wrap everything.
    const both = track(open(`${m2},${m1}`));
    const rewrapped = await both.vault.rewrap();
    assert.ok(rewrapped >= 2, `re-wrapped ${rewrapped} data keys`);
    const masters = await sqlAt(keysDb, 'SELECT DISTINCT "masterKeyId" FROM "DataKey"');
    assert.deepEqual(masters.map((r) => r.masterKeyId), ['m2']);

    const onlyNew = track(open(m2));
    assert.equal((await onlyNew.db.patient.findUniqueOrThrow({ where: { id: patient.id } })).givenName, 'Vera');
    const retired = track(open(m1));
    await assert.rejects(retired.db.patient.findUniqueOrThrow({ where: { id: patient.id } }), /master key m2 is not configured/);
  });

  it('SEC-04 a sealed value copied into another column does not open (bound to its column)', async () => {
    const { db } = track(open(m2));
    const patient = await db.patient.create({ data: { ref: newPatientRef(), email: 'swap@example.test', givenName: 'Nadia', familyName: 'Orr' } });
    await sqlAt(keysDb, 'UPDATE "Patient" SET "givenName" = "familyName" WHERE id = $1', [patient.id]);
    await assert.rejects(db.patient.findUniqueOrThrow({ where: { id: patient.id } }), /unable to authenticate data|Unsupported state/);
  });

  it('SEC-04 a missing or malformed master key is a clear configuration error', () => {
    assert.throws(() => new LocalKms(undefined), /HAVEN_MASTER_KEYS is not set/);
    assert.throws(() => new LocalKms('m1:c2hvcnQ='), /base64 of 32 bytes/);
  });
});
