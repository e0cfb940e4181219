// CS-01, the CAN-SPAM primary-purpose test, as the editor and the engine both apply it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canSpamClassOf, type Template } from '../../workflows/index.ts';

const reminder: Template = { subject: 'Your appointment on Tuesday', text: 'See you Tuesday at 10:00 at the Main St clinic.' };
const banner = { text: 'Teeth whitening: 20% off this month.' };
const care = { purpose: 'TREATMENT', stream: 'transactional' } as const;

describe('CS-01 primary purpose', () => {
  it('CS-01 a pure reminder is transactional', () => {
    assert.deepEqual(canSpamClassOf(care, reminder), { class: 'transactional', reasons: [] });
  });

  it('CS-01 a reminder with a promo banner above it is commercial', () => {
    const verdict = canSpamClassOf(care, { ...reminder, promotion: { position: 'above', ...banner } });
    assert.deepEqual(verdict, { class: 'commercial', reasons: ['PROMOTION_BEFORE_TRANSACTIONAL_CONTENT'] });
  });

  it('CS-01 the same banner below the reminder, with a plain subject, keeps it transactional', () => {
    assert.equal(canSpamClassOf(care, { ...reminder, promotion: { position: 'below', ...banner } }).class, 'transactional');
  });

  it('CS-01 subject "20% off teeth whitening + your appointment" is commercial, whatever the template declares', () => {
    const verdict = canSpamClassOf(care, { ...reminder, subject: '20% off teeth whitening + your appointment', canSpamClass: 'transactional' });
    assert.deepEqual(verdict, { class: 'commercial', reasons: ['PROMOTIONAL_SUBJECT'] });
    for (const subject of ['Special offer for you', 'Save $50 on your next visit', 'Limited-time deal on glasses']) {
      assert.equal(canSpamClassOf(care, { ...reminder, subject }).class, 'commercial', subject);
    }
    for (const subject of ['Your visit on Monday', 'Free to call us any time?', 'Reminder: bring your insurance card']) {
      assert.equal(canSpamClassOf(care, { ...reminder, subject }).class, 'transactional', subject);
    }
  });

  it('CS-01 marketing and fundraising steps and broadcasts are always commercial; a template may declare itself commercial or other', () => {
    assert.deepEqual(canSpamClassOf({ purpose: 'MARKETING', stream: 'transactional' }, reminder).reasons, ['PURPOSE_IS_COMMERCIAL']);
    assert.deepEqual(canSpamClassOf({ purpose: 'FUNDRAISING', stream: 'transactional' }, { ...reminder, canSpamClass: 'other' }).class, 'commercial');
    assert.deepEqual(canSpamClassOf({ purpose: 'GENERAL_HEALTH_PROMOTION', stream: 'broadcast' }, reminder).reasons, ['BROADCAST_STREAM']);
    assert.deepEqual(canSpamClassOf(care, { ...reminder, canSpamClass: 'commercial' }).reasons, ['DECLARED_COMMERCIAL']);
    assert.equal(canSpamClassOf(care, { ...reminder, canSpamClass: 'other' }).class, 'other');
  });
});
