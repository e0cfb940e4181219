// CS-08: each covered entity runs its own Haven deployment — its own database, keys, sender
// domains and suppression list — so there is no shared "marketplace" list to leak through. Two
// deployments side by side: the same person in both, suppressed in one, is still reachable by the
// other; senders, patients and audiences of one are invisible to the other.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { authorizationInput } from '../consent/fixtures.ts';
import { build, entry, exit, send } from '../support/build.ts';
import { canary, canaryEmail } from '../support/canary.ts';
import { scratchDatabase } from '../support/scratch-db.ts';
import { startStack, type Stack } from '../support/stack.ts';

describe('CS-08 one deployment per covered entity', () => {
  let clinic: Stack;
  let pharmacy: Stack;
  before(async () => {
    const secondDatabase = await scratchDatabase('tenant_b');
    const env = { HAVEN_POSTAL_ADDRESS: '1 Main St, Springfield, IL 62701' };
    clinic = await startStack({ env: { ...env, MAIL_FROM: 'Springfield Clinic <care@clinic.test>' } });
    pharmacy = await startStack({ env: { ...env, DATABASE_URL: secondDatabase, MAIL_FROM: 'Main St Pharmacy <rx@pharmacy.test>' } });
    await Promise.all([clinic.startWorker(), pharmacy.startWorker()]);
  });
  after(async () => {
    await clinic.close();
    await pharmacy.close();
  });

  const uid = () => randomUUID().slice(0, 8);
  async function marketingJourney(stack: Stack, event: string) {
    const definition = build({
      nodes: [entry(event), send('offer', { template: 'offer', purpose: 'MARKETING', stream: 'broadcast' }), exit()],
      edges: [['start', 'offer'], ['offer', 'done']],
      templates: { offer: { subject: 'Our flu clinic is open', text: 'Hello {{ patient.givenName }}, walk in any weekday.' } },
    });
    const created = await stack.request('POST', '/api/journeys', definition);
    assert.equal((await stack.request('POST', `/api/journeys/${created.body.id}/publish`)).status, 201);
  }
  async function authorizedPatient(stack: Stack, email: string) {
    const { body } = await stack.request('POST', '/api/patients', { email, givenName: canary('Tia') });
    assert.equal((await stack.request('POST', `/api/patients/${body.id}/authorizations`, authorizationInput())).status, 201);
    return body.id as string;
  }

  it('CS-08 a suppression in one deployment does not leak into another, and neither sees the other\'s lists', async () => {
    const email = canaryEmail('tenant');
    const event = `cs08.${uid()}`;
    await marketingJourney(clinic, event);
    await marketingJourney(pharmacy, event);
    const inClinic = await authorizedPatient(clinic, email);
    const inPharmacy = await authorizedPatient(pharmacy, email);

    // The person complains about the clinic's mail: the clinic suppresses them.
    assert.equal((await clinic.request('POST', `/api/patients/${inClinic}/suppressions`, { kind: 'complaint', source: 'feedback loop' })).status, 201);
    const [refused] = (await clinic.request('POST', '/api/events', { name: event, patientId: inClinic })).body.enrollments;
    assert.equal(refused.status, 'not_authorized');

    // The pharmacy's own list knows nothing of it: its authorized marketing still reaches them.
    const [run] = (await pharmacy.request('POST', '/api/events', { name: event, patientId: inPharmacy })).body.enrollments;
    assert.equal(run.status, 'enrolled');
    await pharmacy.api.temporal.workflow.getHandle(run.workflowId).result();
    const mail = await pharmacy.inbox.waitFor((m) => m.envelope.to.includes(email));
    assert.match(mail.raw, /^From: Main St Pharmacy <rx@pharmacy\.test>/m, 'each deployment mails as itself');
    assert.equal(clinic.inbox.messages.filter((m) => m.envelope.to.includes(email)).length, 0);

    // No cross-deployment reads: ids of one are unknown to the other; senders and audiences stay apart.
    assert.equal((await pharmacy.request('GET', `/api/patients/${inClinic}/consent`)).status, 404);
    assert.equal((await clinic.request('POST', '/api/senders', { id: `clinic-${uid()}`, name: 'Springfield Clinic News', address: 'news@clinic.test' })).status, 201);
    assert.ok(!(await pharmacy.request('GET', '/api/senders')).body.some((s: { address: string }) => s.address === 'news@clinic.test'));
    const tag = `cs08_${uid()}`;
    await clinic.request('PATCH', `/api/patients/${inClinic}`, { tags: [tag] });
    const audience = await pharmacy.request('POST', '/api/audiences', { name: 'borrowed list', filter: `"${tag}" in patient.tags` });
    assert.deepEqual((await pharmacy.request('GET', `/api/audiences/${audience.body.id}/count`)).body, { members: 0 });
  });
});
