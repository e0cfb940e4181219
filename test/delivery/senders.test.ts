// CS-02 no false or misleading headers: which sender identities an admin may approve.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { senderProblems, type SenderIdentity, type SenderPolicy } from '../../engine/delivery/index.ts';

const policy: SenderPolicy = { verifiedDomains: ['springfield-clinic.org', 'mail.springfield-clinic.org'], verifiedNames: [] };
const fields = (sender: SenderIdentity, p = policy) => senderProblems(sender, p).map((x) => x.field);
const ok = { name: 'Springfield Clinic', address: 'care@springfield-clinic.org' };

describe('CS-02 sender identities', () => {
  it('CS-02 a sender on a verified domain with a plain name is approved', () => {
    assert.deepEqual(senderProblems({ ...ok, replyTo: 'frontdesk@mail.springfield-clinic.org' }, policy), []);
    assert.deepEqual(fields({ ...ok, address: 'Care@Springfield-Clinic.ORG' }), []);
  });

  it('CS-02 From support@gmail.com or an unverified domain is blocked; so is a Reply-To outside the verified domains', () => {
    assert.match(senderProblems({ ...ok, address: 'support@gmail.com' }, policy)[0]!.message, /free-mail/);
    assert.match(senderProblems({ ...ok, address: 'care@springfield-clinic.net' }, policy)[0]!.message, /not a verified sending domain/);
    assert.deepEqual(fields({ ...ok, replyTo: 'someone@yahoo.com' }), ['replyTo']);
    assert.deepEqual(fields({ ...ok, address: 'not an address' }), ['address']);
  });

  it('CS-02 display name "Medicare" or "CVS" not verified for the tenant is blocked; verified, it is allowed', () => {
    for (const name of ['Medicare', 'CVS Pharmacy', 'Your Medicare Team', 'Blue Cross Blue Shield', 'IRS Notices']) {
      assert.deepEqual(fields({ ...ok, name }), ['name'], name);
    }
    assert.deepEqual(fields({ ...ok, name: 'CVS Pharmacy' }, { ...policy, verifiedNames: ['CVS'] }), []);
    // Words that merely contain a protected name are fine.
    assert.deepEqual(fields({ ...ok, name: 'Nova Health Services' }), []);
  });

  it('CS-02 look-alike names are blocked: Cyrillic letters, digits for letters, accents', () => {
    for (const name of ['Mеdicare', 'Med1care', 'Médicare', 'C V S'.replace(/ /g, ''), 'Walgr33ns']) {
      assert.deepEqual(fields({ ...ok, name }), ['name'], name);
    }
    assert.match(senderProblems({ ...ok, name: 'Sрringfield Clinic' }, policy)[0]!.message, /mixes Latin and Cyrillic/);
  });

  it('CS-02 CRLF in a name ("Bob\\r\\nBcc: x@y") or an address is rejected; a name may not look like an address', () => {
    assert.match(senderProblems({ ...ok, name: 'Bob\r\nBcc: x@y' }, policy)[0]!.message, /line break/);
    assert.deepEqual(fields({ ...ok, address: 'care@springfield-clinic.org\r\nBcc: x@y.org' }), ['address']);
    assert.deepEqual(fields({ ...ok, name: 'support@cvs.com' }), ['name']);
  });
});
