// Durability: the worker process is SIGKILLed mid-journey and restarted; the journey finishes
// and no email goes out twice (counted at the SMTP peer).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { followUpJourney } from '../support/journeys.ts';
import { canary, canaryEmail } from '../support/canary.ts';

describe('a journey survives its worker being killed', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
  });
  after(() => stack.close());

  it('SIGKILL after email 1 is handed to SMTP, restart: the journey completes and email 1 was delivered once', async () => {
    const event = `test.${randomUUID().slice(0, 8)}`;
    const journey = await stack.request('POST', '/api/journeys', followUpJourney({ event, timeout: 'PT5S' }));
    await stack.request('POST', `/api/journeys/${journey.body.id}/publish`);
    const email = canaryEmail('crash');
    const patient = await stack.request('POST', '/api/patients', { email, givenName: canary('Kim') });

    const first = await stack.spawnWorker();
    const enrolled = await stack.request('POST', '/api/events', { name: event, patientId: patient.body.id });
    const { workflowId } = enrolled.body.enrollments[0];
    const toPatient = (m: { envelope: { to: string[] } }) => m.envelope.to.includes(email);

    await stack.inbox.waitFor((m) => toPatient(m) && m.subject === 'Welcome to our practice');
    // Wait until the run sits in its engagement wait, then kill the worker without warning.
    await eventually(async () => {
      const d = await stack.api.temporal.workflow.getHandle(workflowId).describe();
      return (d.searchAttributes as Record<string, unknown[]>).JourneyNode?.[0] === 'opened' ? true : undefined;
    }, 'the run to reach the wait');
    first.kill('SIGKILL');
    await once(first, 'exit');

    await stack.spawnWorker();
    await stack.inbox.waitFor((m) => toPatient(m) && m.subject === 'A quick reminder from your care team', 60_000);
    const result = await stack.api.temporal.workflow.getHandle(workflowId).result();
    assert.equal(result.outcome, 'completed');

    const received = stack.inbox.messages.filter(toPatient).map((m) => m.subject);
    assert.deepEqual(received, ['Welcome to our practice', 'A quick reminder from your care team']);
    const ledger = await stack.api.db.message.findMany({ where: { patient: { email } }, orderBy: { createdAt: 'asc' } });
    assert.deepEqual(ledger.map((m) => [m.nodeId, m.status, m.attempts]), [
      ['welcome', 'accepted', 1],
      ['reminder', 'accepted', 1],
    ]);
  });
});
