// Safe Harbor de-identification: ZIP3 (DEID-02), dates and ages (DEID-03), random codes
// (DEID-04), and nothing else surviving (DEID-01) — the cases of compliance.md, by ID.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ageAt, deidentifyRow, RESTRICTED_ZIP3, scanForPhi, zip3, type FieldKind } from '../../engine/phi/index.ts';

const REF = new Date('2026-12-03T00:00:00Z');
const codeFor = () => `S-${randomBytes(9).toString('base64url')}`;

describe('de-identification (Safe Harbor)', () => {
  it('DEID-02 ZIP3, restricted prefixes and malformed codes', () => {
    assert.equal(zip3('03601'), '000');
    assert.equal(zip3('03701'), '037');
    assert.equal(zip3('00501'), '005');
    assert.equal(zip3('12345-6789'), '123');
    for (const bad of ['1234', '', null, 'K1A 0B1', 12345]) assert.equal(zip3(bad), '000', String(bad));
    assert.equal(zip3('55123', ['551']), '000', 'a prefix added to the list changes the output with no code change');
    assert.ok(RESTRICTED_ZIP3.source.length > 0);
  });

  it('DEID-03 ages: 89y364d stays 89; 90y0d becomes 90+ with the birth year suppressed; leap-day births', () => {
    const row = (birthDate: string) => deidentifyRow({ birthDate }, { birthDate: 'birthDate' }, { reference: REF, codeFor });
    assert.deepEqual(row('1936-12-04'), { birthDate: 1936, age: 89 });
    assert.deepEqual(row('1936-12-03'), { birthDate: null, age: '90+' });
    assert.equal(ageAt(new Date('2000-02-29'), new Date('2026-02-28')), 25);
    assert.equal(ageAt(new Date('2000-02-29'), new Date('2026-03-01')), 26);
  });

  it('DEID-03 service dates keep only the year; an age field over 89 becomes 90+', () => {
    const out = deidentifyRow({ seen: '2026-03-14T10:20:00Z', age: 93.5 }, { seen: 'date', age: 'age' }, { reference: REF, codeFor });
    assert.deepEqual(out, { seen: 2026, age: '90+' });
  });

  it('DEID-01 identifiers seeded into every field — free text, nested JSON, URLs, relatives — are all gone', () => {
    const identifiers = {
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '(217) 555-0134',
      ssn: '123-45-6789',
      mrn: 'MRN: A1234567',
      url: 'https://portal.example.org/p/8812',
      ip: '192.168.1.20',
      relative: { emergencyContact: 'Byron Lovelace', phone: '217-555-0177' },
      notes: 'lives at 42 Maple Street, Springfield, IL 62701',
    };
    const schema: Record<string, FieldKind> = { subject: 'subject', zip: 'zip', birthDate: 'birthDate', engagement: 'category', occurredAt: 'date' };
    const row = { subject: 'patient-cuid-1', zip: '62701', birthDate: '1961-03-14', engagement: 'opened', occurredAt: '2026-11-02T08:00:00Z', ...identifiers };
    const out = deidentifyRow(row, schema, { reference: REF, codeFor });
    const text = JSON.stringify(out);
    for (const value of JSON.stringify(identifiers).match(/[A-Za-z0-9@.:/() -]{5,}/g)!.filter((v) => /[A-Za-z0-9]{4}/.test(v))) {
      assert.ok(!text.includes(value), `${value} survived`);
    }
    assert.deepEqual(Object.keys(out).sort(), ['age', 'birthDate', 'engagement', 'occurredAt', 'subject', 'zip']);
    assert.deepEqual(scanForPhi(text).filter((f) => f.category !== 'OTHER_ID'), []);
  });

  it('DEID-04 the re-identification code is random, not a hash of any identifier', () => {
    const out = deidentifyRow({ subject: 'p1' }, { subject: 'subject' }, { reference: REF, codeFor });
    const code = String(out.subject);
    for (const secret of ['p1', 'ada@example.com', 'A1234567', '2175550134']) {
      for (const algorithm of ['sha256', 'md5', 'sha1']) {
        const digest = createHash(algorithm).update(secret).digest();
        assert.ok(!code.includes(digest.toString('hex').slice(0, 12)) && !code.includes(digest.toString('base64url').slice(0, 12)));
      }
    }
    assert.notEqual(deidentifyRow({ subject: 'p1' }, { subject: 'subject' }, { reference: REF, codeFor }).subject, code, 'a new code each time');
  });
});
