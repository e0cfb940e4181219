// Authorization records: every core element and statement is required (AUTH-01/02), no compound
// documents (AUTH-05), date-only expiries end at local midnight (AUTH-04e), and the ledgers cannot
// be edited or deleted, even by the application (AUTH-10).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { authorizationDefects, createAuthorization, expiryInstant, NewAuthorization } from '../../engine/consent/index.ts';
import { ConsentInvalidError } from '../../engine/consent/index.ts';
import { loadConfig } from '../../engine/config.ts';
import { newPatientRef } from '../../engine/patients/index.ts';
import { openDatabase } from '../../engine/runtime.ts';
import { authorizationInput } from './fixtures.ts';

const NOW = new Date('2026-12-03T15:00:00Z');
const TZ = 'America/Chicago';
const problemsOf = (input: Record<string, unknown>, patientId = 'p1'): string[] => {
  const parsed = NewAuthorization.safeParse(input);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  return authorizationDefects(parsed.data, patientId, NOW, TZ).map((p) => `${p.path}: ${p.message}`);
};

describe('authorization records', () => {
  it('a complete authorization has no problems', () => {
    assert.deepEqual(problemsOf(authorizationInput()), []);
  });

  it('AUTH-01 dropping any core element makes it invalid, naming the element', () => {
    const elements = ['infoDescription', 'disclosers', 'recipients', 'purposes', 'signedAt', 'signer', 'signature'];
    for (const element of elements) {
      const input = authorizationInput();
      delete input[element];
      assert.ok(problemsOf(input).some((p) => p.startsWith(element)), `${element}: ${problemsOf(input).join(' | ')}`);
    }
    for (const empty of ['disclosers', 'recipients', 'purposes']) {
      assert.ok(problemsOf(authorizationInput({ [empty]: [] })).some((p) => p.includes('AUTH-01')), empty);
    }
    const noExpiry = authorizationInput();
    delete noExpiry.expiresAt;
    assert.ok(problemsOf(noExpiry).some((p) => p.includes('AUTH-01(v)')), 'no expiry date or event');
    assert.deepEqual(problemsOf({ ...noExpiry, expirationEvent: 'end of the wellness program' }), []);
  });

  it('AUTH-01 a personal representative needs a description of their authority', () => {
    const representative = { kind: 'personal_representative', name: 'Lee Guardian', authorityType: 'legal_guardian' };
    assert.ok(problemsOf(authorizationInput({ signer: { ...representative, authorityDescription: '' } })).length > 0);
    assert.deepEqual(problemsOf(authorizationInput({ signer: { ...representative, authorityDescription: 'Court-appointed guardian, order 2025-114' } })), []);
  });

  it('AUTH-09 a representative states the kind of authority; a parent signs only for a patient known to be a minor then', () => {
    const parent = { kind: 'personal_representative', name: 'Lee Parent', authorityDescription: 'Mother of the patient', evidence: 'birth certificate seen at registration' };
    const defects = (signer: Record<string, unknown>, birthDate: string | null) => {
      const parsed = NewAuthorization.safeParse(authorizationInput({ signer }));
      if (!parsed.success) return parsed.error.issues.map((i) => i.message);
      return authorizationDefects(parsed.data, 'p1', NOW, TZ, { birthDate, ageOfMajority: 18 }).map((p) => p.message);
    };
    assert.match(defects(parent, '2012-05-01').join(), /AUTH-09: the authority type is one of/);
    const asParent = { ...parent, authorityType: 'parent_of_minor' };
    assert.deepEqual(defects(asParent, '2012-05-01'), [], 'a 14-year-old\'s parent');
    assert.match(defects(asParent, null).join(), /AUTH-09: .*birth date must be on record/);
    assert.match(defects(asParent, '2008-10-31').join(), /AUTH-09: the patient was of age when this was signed/, '18 the day before signing');
  });

  it('AUTH-04 abuse: expired at signing, signed in the future, or signed for another patient', () => {
    assert.ok(problemsOf(authorizationInput({ expiresAt: '2026-10-01' })).some((p) => p.includes('already expired')));
    assert.ok(problemsOf(authorizationInput({ signedAt: '2027-01-01T00:00:00Z', expiresAt: '2028-01-01' })).some((p) => p.includes('future')));
    assert.ok(problemsOf(authorizationInput({ signature: { method: 'electronic', authenticated: true, patientId: 'someone-else' } }), 'p1').some((p) => p.includes('another patient')));
  });

  it('AUTH-02 each required statement must be present; MKT-05 paid authorizations state remuneration', () => {
    for (const statement of ['revocation', 'conditioning', 'redisclosure']) {
      const statements = { revocation: true, conditioning: true, redisclosure: true, [statement]: false };
      assert.ok(problemsOf(authorizationInput({ statements })).some((p) => p.includes('AUTH-02')), statement);
    }
    assert.ok(problemsOf(authorizationInput({ sponsors: ['PharmaCo'] })).some((p) => p.includes('MKT-05')));
    assert.deepEqual(
      problemsOf(authorizationInput({ sponsors: ['PharmaCo'], remunerationDisclosed: true, statements: { revocation: true, conditioning: true, redisclosure: true, remuneration: true } })),
      [],
    );
  });

  it('AUTH-05 an authorization is never bundled with terms of service, consent to treat or SMS consent', () => {
    const bundled = authorizationInput({ document: { templateVersion: 'v1', hash: 'b'.repeat(64), blocks: ['AUTHORIZATION', 'TERMS_OF_SERVICE'] } });
    assert.ok(problemsOf(bundled).some((p) => p.includes('AUTH-05') && p.includes('TERMS_OF_SERVICE')));
  });

  it('AUTH-04e a date-only expiry ends at midnight after that day in the covered entity\'s time zone (DST-aware)', () => {
    assert.equal(new Date(expiryInstant('2026-06-30', TZ)).toISOString(), '2026-07-01T05:00:00.000Z'); // CDT
    assert.equal(new Date(expiryInstant('2026-12-31', TZ)).toISOString(), '2027-01-01T06:00:00.000Z'); // CST
    assert.equal(new Date(expiryInstant('2026-12-31T12:00:00Z', TZ)).toISOString(), '2026-12-31T12:00:00.000Z');
  });
});

const noCopy = async () => assert.fail('patient-initiated: no copy to queue');

describe('consent ledgers in PostgreSQL', () => {
  const { db } = openDatabase(loadConfig());
  after(() => db.$disconnect());

  it('AUTH-10 authorization rows cannot be updated or deleted, even by the application', async () => {
    const patient = await db.patient.create({ data: { ref: newPatientRef(), email: 'ledger@example.test' } });
    const created = await createAuthorization(db, patient.id, authorizationInput(), TZ, noCopy, NOW);
    assert.ok(created);
    await assert.rejects(db.authorization.update({ where: { id: created.id }, data: { infoDescription: 'changed' } }), /append-only/);
    await assert.rejects(db.authorization.delete({ where: { id: created.id } }), /append-only/);
    await db.suppression.create({ data: { patientId: patient.id, kind: 'unsubscribe', source: 'test' } });
    await db.decision.create({ data: { patientId: patient.id, phase: 'send', purpose: 'TREATMENT', channel: 'email', allow: true, reasons: [], principal: 'test' } });
    await assert.rejects(db.decision.deleteMany({ where: { patientId: patient.id } }), /append-only/);
    await assert.rejects(db.suppression.updateMany({ where: { patientId: patient.id }, data: { source: 'x' } }), /append-only/);
    await assert.rejects(db.$executeRawUnsafe('TRUNCATE "Decision"'), /append-only/);
    const row = await db.authorization.findUniqueOrThrow({ where: { id: created.id } });
    assert.match(row.infoDescription, /wellness programs/);
  });

  it('AUTH-01 an invalid record is refused before anything is stored', async () => {
    const patient = await db.patient.create({ data: { ref: newPatientRef(), email: 'ledger2@example.test' } });
    const input = authorizationInput();
    delete input.recipients;
    await assert.rejects(createAuthorization(db, patient.id, input, TZ, noCopy, NOW), ConsentInvalidError);
    assert.equal(await db.authorization.count({ where: { patientId: patient.id } }), 0);
  });
});
