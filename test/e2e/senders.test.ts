// CS-02 through the API and the worker: an admin approves sender identities, journeys name them,
// mail leaves with exactly that From and Reply-To, and a Message-ID on Haven's domain.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { build, entry, exit, send } from '../support/build.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { canary, canaryEmail } from '../support/canary.ts';

describe('CS-02 sender identities on the real stack', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { HAVEN_SENDER_DOMAINS: 'springfield-clinic.org,haven.test', MESSAGE_ID_DOMAIN: 'mail.haven.test' } });
    await stack.startWorker();
  });
  after(() => stack.close());

  const uid = () => randomUUID().slice(0, 8);
  const journey = (event: string, sender: string) =>
    build({ nodes: [entry(event), send('s', { template: 'r' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: { r: { subject: 'Your visit', text: 'See you soon.' } } }) as any as Record<string, unknown> & { sender?: string };

  it('CS-02 an approved sender is used as From and Reply-To; the Message-ID is on Haven\'s domain', async () => {
    const id = `billing-${uid()}`;
    const created = await stack.request('POST', '/api/senders', { id, name: 'Springfield Clinic Billing', address: 'billing@springfield-clinic.org', replyTo: 'billing-desk@springfield-clinic.org' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok((await stack.request('GET', '/api/senders')).body.some((s: any) => s.id === id));

    const event = `snd.${uid()}`;
    const res = await stack.request('POST', '/api/journeys', { ...journey(event, id), sender: id });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal((await stack.request('POST', `/api/journeys/${res.body.id}/publish`)).status, 201);
    const email = canaryEmail('s');
    const patient = await stack.request('POST', '/api/patients', { email, givenName: canary('Sam') });
    const [run] = (await stack.request('POST', '/api/events', { name: event, patientId: patient.body.id })).body.enrollments;
    await stack.api.temporal.workflow.getHandle(run.workflowId).result();
    const mail = await stack.inbox.waitFor((m) => m.envelope.to.includes(email));
    const headers = mail.raw.split(/\r?\n\r?\n/)[0]!;
    assert.match(headers, /^From: Springfield Clinic Billing <billing@springfield-clinic\.org>$/m);
    assert.match(headers, /^Reply-To: billing-desk@springfield-clinic\.org$/m);
    assert.match(mail.messageId, /@mail\.haven\.test>$/);

    // Retired: a new publish naming it is refused.
    assert.equal((await stack.request('DELETE', `/api/senders/${id}`)).status, 204);
    const again = await stack.request('POST', `/api/journeys/${res.body.id}/publish`);
    assert.equal(again.status, 400);
    assert.ok(again.body.problems.some((p: any) => p.nodeId === 's' && /CS-02: sender/.test(p.message)), JSON.stringify(again.body.problems));
  });

  it('CS-02 From support@gmail.com, an unverified domain, "Medicare" or a CRLF name are refused field by field, and audited', async () => {
    const attempts = [
      [{ name: 'Clinic', address: 'support@gmail.com' }, 'address'],
      [{ name: 'Clinic', address: 'care@elsewhere.org' }, 'address'],
      [{ name: 'Medicare', address: 'care@springfield-clinic.org' }, 'name'],
      [{ name: 'Bob\r\nBcc: x@y', address: 'care@springfield-clinic.org' }, 'name'],
    ] as const;
    for (const [body, field] of attempts) {
      const id = `bad-${uid()}`;
      const res = await stack.request('POST', '/api/senders', { id, ...body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.deepEqual(res.body.problems.map((p: any) => p.field), [field]);
      const audit = await stack.api.db.auditEvent.findFirst({ where: { action: 'sender.create', objectId: id } });
      assert.equal(audit?.outcome, 'refused');
    }
    assert.equal(await stack.api.db.sender.count({ where: { id: { startsWith: 'bad-' } } }), 0);
  });

  it('CS-02 a journey naming an unknown sender, or a subject with a line break, is refused at save with the node', async () => {
    const unknown = await stack.request('POST', '/api/journeys', { ...journey(`u.${uid()}`, 'x'), sender: 'nobody' });
    assert.equal(unknown.status, 400);
    assert.ok(unknown.body.problems.some((p: any) => p.nodeId === 's' && /"nobody" is not an approved sender/.test(p.message)));
    const crlf: any = journey(`c.${uid()}`, 'x');
    crlf.templates.r.subject = 'Your visit\r\nBcc: x@y.org';
    const res = await stack.request('POST', '/api/journeys', crlf);
    assert.equal(res.status, 400);
    assert.ok(res.body.problems.some((p: any) => /CS-02: the subject may not contain line breaks/.test(p.message)), JSON.stringify(res.body.problems));
  });
});
