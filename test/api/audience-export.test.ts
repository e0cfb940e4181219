// MKT-06: no sale of PHI. An identified list of an audience — to an ad platform, a custom-audience
// sync, a data co-op or as a plain CSV download (which can be uploaded anywhere) — is off unless
// the deployment turns it on, admin-only, and even then refused unless every member authorized the
// sale of their information to that recipient. Every attempt is audited.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { authorizationInput } from '../consent/fixtures.ts';
import { canary, canaryEmail } from '../support/canary.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('MKT-06 identified audience exports', () => {
  let off: Stack;
  let on: Stack;
  before(async () => {
    off = await startStack();
    on = await startStack({ env: { HAVEN_IDENTIFIED_EXPORTS: 'on' } });
  });
  after(async () => {
    await off.close();
    await on.close();
  });

  /** An audience of its own (by tag) with `n` members. */
  async function audience(stack: Stack, n: number) {
    const tag = `mkt06_${randomUUID().slice(0, 8)}`;
    const members = [];
    for (let i = 0; i < n; i++) {
      const res = await stack.request('POST', '/api/patients', { email: canaryEmail('mkt06'), givenName: canary('Ivy'), tags: [tag] });
      members.push(res.body.id as string);
    }
    const created = await stack.request('POST', '/api/audiences', { name: `MKT-06 ${tag}`, filter: `"${tag}" in patient.tags` });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body.id as string, members };
  }
  const saleAuthorization = (recipient: string) =>
    authorizationInput({
      infoCategories: ['patient.email', 'patient.givenName', 'patient.familyName'],
      recipients: [recipient],
      saleOfPhi: true,
      remunerationDisclosed: true,
      sponsors: [recipient],
      statements: { revocation: true, conditioning: true, redisclosure: true, remuneration: true },
    });
  const exportTo = (stack: Stack, id: string, kind: string, recipient: string, key?: string) =>
    stack.request('POST', `/api/audiences/${id}/exports`, { destination: { kind, recipient }, reason: 'partner campaign' }, key);
  const attempts = (stack: Stack, id: string) => stack.api.db.auditEvent.findMany({ where: { action: 'audience.export', objectId: id }, orderBy: { seq: 'asc' } });

  it('MKT-06 an export to an ad destination is blocked by default, and the attempt is logged', async () => {
    const { id } = await audience(off, 2);
    const res = await exportTo(off, id, 'ad_platform', 'AdCo');
    assert.equal(res.status, 403);
    assert.equal(res.body.error, 'identified_exports_disabled');
    assert.equal(res.body.requirement, 'MKT-06');
    const logged = await attempts(off, id);
    assert.deepEqual(logged.map((e) => [e.outcome, (e.details as { code?: string }).code]), [['refused', 'identified_exports_disabled']]);
  });

  it('MKT-06 only an admin may ask, even when exports are on', async () => {
    const { id } = await audience(on, 1);
    assert.equal((await exportTo(on, id, 'file', 'AdCo', await on.keyFor('designer'))).status, 403);
    assert.equal((await exportTo(on, id, 'file', 'AdCo', await on.keyFor('compliance'))).status, 403);
  });

  it('MKT-06 abuse: a CSV download is refused like a connector unless every member authorized the sale to that recipient', async () => {
    const { id, members } = await audience(on, 3);
    await on.request('POST', `/api/patients/${members[0]}/authorizations`, saleAuthorization('AdCo'));
    await on.request('POST', `/api/patients/${members[1]}/authorizations`, saleAuthorization('AdCo'));
    // The third authorized marketing email, not a sale: the whole export is refused, for a file too.
    await on.request('POST', `/api/patients/${members[2]}/authorizations`, authorizationInput());
    for (const kind of ['custom_audience', 'file']) {
      const res = await exportTo(on, id, kind, 'AdCo');
      assert.equal(res.status, 403, kind);
      assert.deepEqual([res.body.error, res.body.members, res.body.unauthorized], ['sale_of_phi_not_authorized', 3, 1]);
      assert.ok(!JSON.stringify(res.body).includes('@'), 'the refusal names nobody');
    }
    // Once the third signs too, the list goes — to the recipient they named, and no other.
    await on.request('POST', `/api/patients/${members[2]}/authorizations`, saleAuthorization('AdCo'));
    assert.equal((await exportTo(on, id, 'data_coop', 'OtherCo')).status, 403, 'authorized for AdCo only');
    const ok = await exportTo(on, id, 'file', 'AdCo');
    assert.equal(ok.status, 200);
    assert.equal(ok.body.split('\r\n').filter(Boolean).length, 4, 'a header and three members');
    // LOG-03: an identified list leaving Haven is put before the privacy officer.
    assert.ok(await on.api.db.alert.findFirst({ where: { kind: 'phi_export', details: { path: ['audienceId'], equals: id } } }));
    // A revocation takes a member out of the sale at once: refused again.
    const [auth] = (await on.request('GET', `/api/patients/${members[0]}/consent`)).body.authorizations;
    await on.request('POST', `/api/patients/${members[0]}/authorizations/${auth.id}/revoke`, { source: 'letter' });
    assert.equal((await exportTo(on, id, 'file', 'AdCo')).status, 403);

    const logged = await attempts(on, id);
    assert.deepEqual(logged.map((e) => e.outcome), ['refused', 'refused', 'refused', 'ok', 'refused']);
    assert.ok(logged.every((e) => e.principal.startsWith('apikey:test-admin-')));
    assert.deepEqual((logged[3]!.details as { members: number; destination: string }).members, 3);
  });
});
