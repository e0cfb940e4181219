// LOG-01: every API route and every activity leaves an audit event naming who acted (principal,
// role, how they signed in), what they did, to which object (ids only) and how it ended; an event
// without an actor or an object is refused by the code and by the database.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ROUTE_AUDIT, ROUTE_PERMISSIONS } from '../../engine/api/index.ts';
import { AuditEntryInvalidError, recordAudit } from '../../engine/audit/index.ts';
import { build, entry, exit, send } from '../support/build.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { authorizationInput } from '../consent/fixtures.ts';

describe('LOG-01 the access log', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await stack.startWorker();
  });
  after(() => stack.close());

  it('LOG-01 every route that needs a principal has an audit entry, and only those', () => {
    assert.deepEqual(Object.keys(ROUTE_AUDIT).sort(), Object.keys(ROUTE_PERMISSIONS).sort());
  });

  it('LOG-01 every API route records who called it, what they did, to which object and the outcome', async () => {
    const patient = await stack.request('POST', '/api/patients', { email: `log01-${randomUUID().slice(0, 8)}@example.test` });
    const auth = await stack.request('POST', `/api/patients/${patient.body.id}/authorizations`, authorizationInput());
    const journey = await stack.request('POST', '/api/journeys', build({ nodes: [entry(`log01.${randomUUID().slice(0, 8)}`), send('s'), exit()], edges: [['start', 's'], ['s', 'done']] }));
    assert.equal(journey.status, 201);
    // Path ids that exist, so that each route does its real work (unknown ids are audited too).
    const ids: Record<string, string> = { id: patient.body.id, authorizationId: auth.body.id };
    const journeyRoute = (route: string) => route.includes('/journeys/:id') || route.includes('/senders/:id') || route.includes('/audiences/:id');
    const bodies: Record<string, unknown> = {
      'POST /api/users': { email: `log01.${randomUUID().slice(0, 6)}@clinic.example`, name: 'Log Reviewer', role: 'auditor' },
      'POST /codec/encode': { payloads: [] },
      'POST /codec/decode': { payloads: [] },
      'POST /api/exports/engagement': {},
      'POST /api/patients/:id/authorizations/:authorizationId/revoke': { source: 'letter' },
      'POST /api/patients/:id/suppressions': { kind: 'complaint', source: 'feedback loop' },
      'POST /api/events': { name: 'log01.none', patientId: patient.body.id },
    };

    for (const [route, expected] of Object.entries(ROUTE_AUDIT)) {
      const key = await stack.keyFor('admin');
      const principal = (await stack.api.db.apiKey.findFirstOrThrow({ where: { prefix: key.split('_')[1]! } })).name;
      const [method, pattern] = route.split(' ') as [string, string];
      const path = pattern.replace(/:([A-Za-z]+)/g, (_m, param: string) => (journeyRoute(route) ? journey.body.id : (ids[param] ?? 'x')));
      const res = await stack.request(method, path, method === 'GET' || method === 'DELETE' ? undefined : (bodies[route] ?? {}), key);
      const events = await stack.api.db.auditEvent.findMany({ where: { principal: `apikey:${principal}` } });
      assert.ok(events.length >= 1, `${route} (${res.status}) left no audit event`);
      const event = events.find((e) => e.action === expected.action);
      assert.ok(event, `${route}: expected ${expected.action}, got ${events.map((e) => e.action).join(', ')}`);
      assert.equal(event.outcome, res.status < 400 ? 'ok' : event.outcome === 'denied' ? 'denied' : 'refused', `${route}: outcome for ${res.status}`);
      const details = event.details as Record<string, unknown>;
      if ('status' in details) {
        assert.equal(details.status, res.status, route);
        assert.deepEqual([details.role, details.auth], ['admin', 'api_key'], route);
        if (pattern.startsWith('/api/patients/:id')) assert.equal(details.patientId, patient.body.id, `${route}: the patient concerned`);
      }
    }
  });

  it('LOG-01 reading a patient\'s consent record is audited with the patient and the object, never the content', async () => {
    const email = `log01-read-${randomUUID().slice(0, 8)}@example.test`;
    const patient = await stack.request('POST', '/api/patients', { email, givenName: 'Readme' });
    const key = await stack.keyFor('compliance');
    assert.equal((await stack.request('GET', `/api/patients/${patient.body.id}/consent`, undefined, key)).status, 200);
    const read = await stack.api.db.auditEvent.findFirstOrThrow({ where: { action: 'consent.read', objectId: patient.body.id }, orderBy: { seq: 'desc' } });
    assert.match(read.principal, /^apikey:test-compliance-/);
    assert.deepEqual(read.details, { role: 'compliance', auth: 'api_key', status: 200, patientId: patient.body.id, read: true });
    const stored = JSON.stringify({ ...read, seq: String(read.seq) });
    assert.ok(!stored.includes(email) && !stored.includes('Readme'));
  });

  it('LOG-01 every activity of a run is audited under the worker\'s principal: evaluation, send, update, end', async () => {
    const event = `log01.run.${randomUUID().slice(0, 8)}`;
    const definition = build({
      data: { patient: { plan: 'string' } },
      nodes: [
        entry(event),
        { id: 'c', type: 'condition', when: 'patient.plan == "gold"' },
        send('s'),
        { id: 'u', type: 'update_patient', set: { plan: '"silver"' } },
        exit(),
      ],
      edges: [['start', 'c'], ['c', 's', 'true'], ['c', 'u', 'false'], ['s', 'u'], ['u', 'done']],
    });
    const journey = await stack.request('POST', '/api/journeys', definition);
    assert.equal(journey.status, 201, JSON.stringify(journey.body));
    await stack.request('POST', `/api/journeys/${journey.body.id}/publish`);
    const patient = await stack.request('POST', '/api/patients', { email: `log01-run-${randomUUID().slice(0, 8)}@example.test`, attributes: { plan: 'gold' } });
    const started = await stack.request('POST', '/api/events', { name: event, patientId: patient.body.id });
    const { workflowId, enrollmentId } = started.body.enrollments[0];
    await stack.api.temporal.workflow.getHandle(workflowId).result();
    const actions = await eventually(async () => {
      const rows = await stack.api.db.auditEvent.findMany({ where: { objectType: 'enrollment', objectId: enrollmentId }, orderBy: { seq: 'asc' } });
      return rows.some((r) => r.action === 'enrollment.end') ? rows : undefined;
    }, 'the run\'s audit events');
    assert.deepEqual(actions.map((a) => a.action), ['patient.evaluate', 'message.deliver', 'patient.update', 'enrollment.end']);
    assert.ok(actions.every((a) => a.principal === 'service:journey-worker' && a.outcome === 'ok'));
    assert.equal((actions[1]!.details as { status: string }).status, 'accepted');
  });

  it('LOG-01 an event with no actor, action or object is refused, by the code and by the database', async () => {
    for (const missing of ['principal', 'action', 'objectType'] as const) {
      const entry = { principal: 'user:x', action: 'patient.read', objectType: 'patient', outcome: 'ok' as const, [missing]: ' ' };
      await assert.rejects(recordAudit(stack.api.db, entry), AuditEntryInvalidError);
    }
    const row = { principal: '', action: 'patient.read', objectType: 'patient', outcome: 'ok' };
    await assert.rejects(stack.api.db.auditEvent.create({ data: row }), /AuditEvent_actor_object|check constraint/i);
  });
});
