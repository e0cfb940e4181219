// LOG-03/LOG-04 through the API: the audit trail exported (JSON pages, CSV) and filtered to one
// patient ("who looked at my record"); legal holds placed and released; retention run on demand —
// each by the roles allowed to, and each leaving its own audit event.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../support/stack.ts';

describe('audit trail API (LOG-03, LOG-04)', () => {
  let stack: Stack;
  let compliance: string;
  let auditor: string;
  let operator: string;
  let patientId: string;
  let otherId: string;

  before(async () => {
    stack = await startStack();
    [compliance, auditor, operator] = await Promise.all([stack.keyFor('compliance'), stack.keyFor('auditor'), stack.keyFor('operator')]);
    patientId = (await stack.request('POST', '/api/patients', { email: `trail-${randomUUID()}@example.test` }, operator)).body.id;
    otherId = (await stack.request('POST', '/api/patients', { email: `other-${randomUUID()}@example.test` }, operator)).body.id;
    assert.equal((await stack.request('GET', `/api/patients/${patientId}/consent`, undefined, compliance)).status, 200);
    assert.equal((await stack.request('GET', `/api/patients/${otherId}/consent`, undefined, compliance)).status, 200);
  });
  after(() => stack.close());

  it('SEC-05 LOG-03 who looked at my record: the export filtered to one patient lists every access to it, and nothing else', async () => {
    const res = await stack.request('GET', `/api/audit/events?patientId=${patientId}`, undefined, auditor);
    assert.equal(res.status, 200);
    const events = res.body.events as { action: string; principal: string; objectId: string | null; details: { patientId?: string } }[];
    assert.deepEqual(events.map((e) => e.action), ['patient.create', 'consent.read']);
    assert.match(events[1]!.principal, /^apikey:test-compliance-/);
    assert.ok(events.every((e) => e.objectId === patientId || e.details.patientId === patientId));
  });

  it('LOG-04 the export pages by chain position, and the export itself is audited', async () => {
    const first = await stack.request('GET', '/api/audit/events?limit=3', undefined, auditor);
    assert.equal(first.body.events.length, 3);
    assert.ok(first.body.next);
    const second = await stack.request('GET', `/api/audit/events?limit=3&after=${first.body.next}`, undefined, auditor);
    assert.equal(BigInt(second.body.events[0].seq), BigInt(first.body.next) + 1n);
    // Consecutive rows of an unfiltered export link to each other (re-verifiable outside Haven).
    assert.equal(second.body.events[0].prevHash, first.body.events[2].hash);
    const exported = await stack.api.db.auditEvent.findFirst({ where: { action: 'audit.export' }, orderBy: { seq: 'desc' } });
    assert.match(exported!.principal, /^apikey:test-auditor-/);
    assert.equal((await stack.request('GET', '/api/audit/events?limit=0', undefined, auditor)).status, 400);
    assert.equal((await stack.request('GET', '/api/audit/events?sort=evil', undefined, auditor)).status, 400);
  });

  it('LOG-04 the CSV export carries the same rows, with a header and formula cells neutralized', async () => {
    const json = await stack.request('GET', `/api/audit/events?patientId=${patientId}`, undefined, auditor);
    const res = await fetch(`${stack.baseUrl}/api/audit/events?patientId=${patientId}&format=csv`, { headers: { authorization: `Bearer ${auditor}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\r\n');
    assert.equal(lines[0], 'seq,at,principal,action,objectType,objectId,outcome,details,prevHash,hash');
    assert.equal(lines.length, 1 + json.body.events.length);
    assert.ok(lines[1]!.startsWith(`${json.body.events[0].seq},`));
  });

  it('LOG-04 legal holds: placed with a reason, listed, released once; an auditor may look but not place', async () => {
    assert.equal((await stack.request('POST', '/api/legal-holds', { patientId, reason: 'x' }, compliance)).status, 400);
    assert.equal((await stack.request('POST', '/api/legal-holds', { patientId: 'no-such-patient', reason: 'subpoena 44' }, compliance)).status, 404);
    assert.equal((await stack.request('POST', '/api/legal-holds', { patientId, reason: 'subpoena 44' }, auditor)).status, 403);
    const placed = await stack.request('POST', '/api/legal-holds', { patientId, reason: 'subpoena 44' }, compliance);
    assert.equal(placed.status, 201);
    const listed = await stack.request('GET', '/api/legal-holds', undefined, auditor);
    assert.ok(listed.body.some((h: { id: string }) => h.id === placed.body.id));
    const released = await stack.request('POST', `/api/legal-holds/${placed.body.id}/release`, {}, compliance);
    assert.equal(released.status, 200);
    assert.ok(released.body.releasedAt);
    assert.equal((await stack.request('POST', `/api/legal-holds/${placed.body.id}/release`, {}, compliance)).status, 404);
    const trail = await stack.request('GET', `/api/audit/events?patientId=${patientId}&action=legal_hold.place`, undefined, auditor);
    // The refused attempt (no real reason) is on record as well as the hold itself.
    assert.deepEqual(trail.body.events.map((e: { outcome: string }) => e.outcome), ['refused', 'ok']);
  });

  it('LOG-04 retention runs on demand for compliance (a dry run here), never for an auditor, and is audited', async () => {
    assert.equal((await stack.request('POST', '/api/audit/retention', { dryRun: true }, auditor)).status, 403);
    const res = await stack.request('POST', '/api/audit/retention', { dryRun: true }, compliance);
    assert.equal(res.status, 200);
    assert.equal(res.body.dryRun, true);
    assert.deepEqual(res.body.removed, { audit: 0, decision: 0, authorizations: 0 }); // nothing here is six years old
    const run = await stack.api.db.auditEvent.findFirst({ where: { action: 'retention.run' }, orderBy: { seq: 'desc' } });
    assert.match(run!.principal, /^apikey:test-compliance-/);
  });
});
