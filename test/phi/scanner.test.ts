// The Safe Harbor identifier scanner: each category found in realistic text, ordinary clinic
// wording left alone, and findings that never repeat the identifier itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactPhi, scanForPhi, type PhiCategory } from '../../engine/phi/index.ts';

const categories = (text: string, names?: string[]) => scanForPhi(text, { names }).map((f) => f.category);

describe('PHI scanner (Safe Harbor categories)', () => {
  const cases: [PhiCategory, string][] = [
    ['EMAIL', 'write to ada.lovelace@example.com today'],
    ['SSN', 'SSN 123-45-6789 on file'],
    ['PHONE', 'call (217) 555-0134 to confirm'],
    ['FAX', 'Fax: 217-555-0199'],
    ['DATE', 'born 03/14/1961'],
    ['DATE', 'seen on March 3, 2026'],
    ['DATE', 'admitted 2026-11-02'],
    ['MRN', 'MRN: A1234567'],
    ['HEALTH_PLAN_ID', 'Member ID: XJH88342211'],
    ['ACCOUNT', 'account number 99812734'],
    ['LICENSE', 'NPI 1234567893'],
    ['VEHICLE', 'VIN 1HGCM82633A004352'],
    ['DEVICE', 'pacemaker serial no. PM-88A21X'],
    ['URL', 'see https://portal.example.org/results?id=88'],
    ['IP', 'from 192.168.10.45'],
    ['GEOGRAPHIC', 'lives at 42 Maple Street'],
    ['ZIP', 'Springfield, IL 62701'],
    ['OTHER_ID', 'reference 0004417788210'],
  ];
  for (const [category, text] of cases) {
    it(`finds ${category}: "${text}"`, () => assert.ok(categories(text).includes(category), JSON.stringify(categories(text))));
  }

  it('finds names only when told them, whole words, any case', () => {
    assert.deepEqual(categories('Dear Ada, your visit', ['Ada']), ['NAME']);
    assert.deepEqual(categories('Dear Ada, your visit'), []);
    assert.deepEqual(categories('Canada is large', ['Ada']), []);
  });

  it('leaves ordinary clinic wording alone', () => {
    for (const text of ['Your appointment is coming up', 'A quick reminder from your care team', 'Flu shots are available this week', 'Open 8 to 5, 7 days a week']) {
      assert.deepEqual(categories(text), [], text);
    }
  });

  it('findings hold positions, not the identifiers; redaction replaces them', () => {
    const text = 'Ada (MRN: A1234567) at ada@example.com';
    const findings = scanForPhi(text, { names: ['Ada'] });
    assert.ok(findings.every((f) => Object.keys(f).sort().join() === 'category,end,start'));
    assert.equal(redactPhi(text, { names: ['Ada'] }), '[NAME] ([MRN]) at [EMAIL]');
  });
});
