// With Temporal unreachable, the API stays up, says so, and an event leaves nothing half-written.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../engine/config.ts';
import { createApiKey } from '../../engine/auth/index.ts';
import { createApiProcess } from '../../engine/runtime.ts';
import { freePort } from '../../scripts/local-state.ts';
import { followUpJourney } from '../support/journeys.ts';
import { authorizationInput } from '../consent/fixtures.ts';

describe('when Temporal is down', () => {
  let api: Awaited<ReturnType<typeof createApiProcess>>;
  let base: string;
  let key: string;
  before(async () => {
    const port = await freePort();
    const deadTemporal = await freePort(); // nothing listens there
    api = await createApiProcess(loadConfig({ ...process.env, PORT: String(port), TEMPORAL_ADDRESS: `127.0.0.1:${deadTemporal}` }));
    await api.listen();
    base = `http://127.0.0.1:${port}`;
    key = await createApiKey(api.db, `down-${randomUUID().slice(0, 8)}`, 'admin');
  });
  after(() => api.close());

  const post = (path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('health reports Temporal as down (503)', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 'degraded', postgres: true, temporal: false });
  });

  it('an event that would enroll answers 503 and stores neither the event nor an enrollment', async () => {
    const event = `test.${randomUUID().slice(0, 8)}`;
    const journey = (await (await post('/api/journeys', followUpJourney({ event }))).json()) as { id: string };
    assert.equal((await post(`/api/journeys/${journey.id}/publish`)).status, 201);
    const patient = (await (await post('/api/patients', { email: `down-${event}@example.test` })).json()) as { id: string };

    const res = await post('/api/events', { name: event, patientId: patient.id });
    assert.equal(res.status, 503);
    const body = (await res.json()) as { error: string };
    assert.equal(body.error, 'temporal_unavailable');
    assert.equal(await api.db.event.count({ where: { patientId: patient.id } }), 0);
    assert.equal(await api.db.enrollment.count({ where: { patientId: patient.id } }), 0);
  });

  it('AUTH-03 an authorization the covered entity asked for is not stored while its copy cannot be queued (503)', async () => {
    const patient = (await (await post('/api/patients', { email: `down-auth-${randomUUID().slice(0, 8)}@example.test` })).json()) as { id: string };
    const res = await post(`/api/patients/${patient.id}/authorizations`, authorizationInput({ requestedBy: 'covered_entity' }));
    assert.equal(res.status, 503);
    assert.equal(await api.db.authorization.count({ where: { patientId: patient.id } }), 0);
    assert.equal(await api.db.authorizationCopy.count({ where: { patientId: patient.id } }), 0);
    // One the patient asked for needs no copy: stored at once.
    assert.equal((await post(`/api/patients/${patient.id}/authorizations`, authorizationInput({ requestedBy: 'patient' }))).status, 201);
  });
});
