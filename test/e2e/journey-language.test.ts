// The journey language through the real stack (Temporal, Postgres, SMTP): timing from trigger
// data, quiet hours, frequency caps, exit criteria, re-entry, continue-as-new, stopping, versions,
// audiences on a schedule, patient updates, webhooks, goals and simulation. Tests run
// concurrently; each uses its own journeys and patients.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { localTime } from '../../workflows/index.ts';
import { engagementSignal } from '../../workflows/messages.ts';
import { build, entry, exit, send } from '../support/build.ts';
import { example } from '../support/examples.ts';
import { eventually, pixelUrl, startStack, type Stack } from '../support/stack.ts';
import { saveHistory } from '../support/histories.ts';
import { canary, plant } from '../support/canary.ts';

// A local HTTPS receiver for webhook nodes, with a throwaway self-signed certificate.
const certDir = mkdtempSync(path.join(tmpdir(), 'haven-webhook-'));
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
  '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem'),
], { stdio: 'ignore' });

describe('the journey language on Temporal', { concurrency: true }, () => {
  let stack: Stack;
  const hooks: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  let hookServer: https.Server;
  let hookUrl: string;

  before(async () => {
    hookServer = https.createServer({ key: readFileSync(path.join(certDir, 'key.pem')), cert: readFileSync(path.join(certDir, 'cert.pem')) }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
    hookUrl = `https://127.0.0.1:${(hookServer.address() as { port: number }).port}/hooks/haven`;
    stack = await startStack({ env: { HAVEN_WEBHOOK_CA_FILE: path.join(certDir, 'cert.pem'), HAVEN_DEFAULT_TIMEZONE: 'UTC' } });
    await stack.startWorker();
  });
  after(async () => {
    await stack.close();
    hookServer.close();
  });

  const uid = () => randomUUID().slice(0, 8);
  async function publish(definition: unknown): Promise<string> {
    const created = await stack.request('POST', '/api/journeys', definition);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const published = await stack.request('POST', `/api/journeys/${created.body.id}/publish`);
    assert.equal(published.status, 201, JSON.stringify(published.body));
    return created.body.id;
  }
  async function patient(extra: Record<string, unknown> = {}) {
    const email = plant(`p-${uid()}@example.test`);
    const res = await stack.request('POST', '/api/patients', { email, givenName: canary('Pat'), ...extra });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.id as string, email };
  }
  async function emit(name: string, patientId: string, data?: Record<string, unknown>) {
    const res = await stack.request('POST', '/api/events', { name, patientId, ...(data ? { data } : {}) });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body as { enrollments: { status: string; workflowId?: string; version: number }[]; signalled: number };
  }
  const mailTo = (email: string, subject?: string) => (m: { envelope: { to: string[] }; subject: string }) =>
    m.envelope.to.includes(email) && (subject === undefined || m.subject === subject);
  const count = (email: string, subject?: string) => stack.inbox.messages.filter(mailTo(email, subject)).length;
  const result = (workflowId: string) => stack.api.temporal.workflow.getHandle(workflowId).result();
  const templates = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { subject: `subject ${n}`, text: `Hello {{ patient.givenName }}, ${n}.` }]));

  it('wait_until a time taken from the trigger: "appointment.start - 4s"; each appointment its own run; a past time follows the late rule', async () => {
    const event = `appt.${uid()}`;
    const journey = await publish(
      build({
        data: { trigger: { appointment: { id: 'string', start: 'timestamp' } } },
        nodes: [entry(event, { key: 'appointment.id' }), { id: 'w', type: 'wait_until', at: 'trigger.appointment.start - duration("4s")', late: 'exit' }, send('remind', { template: 'remind' }), exit()],
        edges: [['start', 'w'], ['w', 'remind'], ['remind', 'done']],
        templates: templates('remind'),
      }),
    );
    const p = await patient();
    const enrolledAt = Date.now();
    const first = await emit(event, p.id, { appointment: { id: 'a1', start: new Date(enrolledAt + 8_000).toISOString() } });
    const second = await emit(event, p.id, { appointment: { id: 'a2', start: new Date(enrolledAt + 9_000).toISOString() } });
    const past = await emit(event, p.id, { appointment: { id: 'a3', start: new Date(enrolledAt - 60_000).toISOString() } });
    assert.deepEqual([first, second, past].map((r) => r.enrollments[0]!.status), ['enrolled', 'enrolled', 'enrolled']);
    assert.equal((await result(past.enrollments[0]!.workflowId!)).outcome, 'exited');
    const mail = await stack.inbox.waitFor(mailTo(p.email, 'subject remind'), 20_000);
    assert.ok(Date.parse(mail.receivedAt) >= enrolledAt + 3_500, `sent ${Date.parse(mail.receivedAt) - enrolledAt} ms after enrollment`);
    await result(second.enrollments[0]!.workflowId!);
    assert.equal(count(p.email, 'subject remind'), 2);
    await saveHistory('wait-until', stack, first.enrollments[0]!.workflowId!);
    void journey;
  });

  it('quiet hours: the same send goes out now in New York and waits for the window to open in Chicago', async () => {
    const event = `quiet.${uid()}`;
    // A window opening at the next minute boundary (≥ 5 s away) in Chicago, lasting 3 hours:
    // New York, an hour ahead, is already inside it.
    const opening = Math.ceil((Date.now() + 5_000) / 60_000) * 60_000;
    const local = localTime(opening, 'America/Chicago');
    const hhmm = (m: number) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    const start = local.hour * 60 + local.minute;
    await publish(
      build({
        rules: { sendWindow: { start: hhmm(start), end: hhmm(start + 180) } },
        nodes: [entry(event), send('s', { template: 'note' }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: templates('note'),
      }),
    );
    const ny = await patient({ timezone: 'America/New_York' });
    const chicago = await patient({ timezone: 'America/Chicago' });
    const t0 = Date.now();
    await emit(event, ny.id);
    await emit(event, chicago.id);
    const nyMail = await stack.inbox.waitFor(mailTo(ny.email), 10_000);
    assert.ok(Date.parse(nyMail.receivedAt) < opening, 'New York is inside its window: sent at once');
    assert.equal(count(chicago.email), 0, 'Chicago waits');
    const chicagoMail = await stack.inbox.waitFor(mailTo(chicago.email), opening - t0 + 20_000);
    assert.ok(Date.parse(chicagoMail.receivedAt) >= opening - 1_000, 'sent when the Chicago window opened');
  });

  it('a frequency cap counts sends of every journey: deferred in one journey, skipped in another', async () => {
    const [e1, e2, e3] = [`cap1.${uid()}`, `cap2.${uid()}`, `cap3.${uid()}`];
    const capped = (event: string, name: string, onCapped: string, per: string) =>
      build({
        rules: { frequencyCap: { max: 1, per, onCapped } },
        nodes: [entry(event), send('s', { template: name }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: templates(name),
      });
    await publish(capped(e1, 'first', 'defer', 'PT6S'));
    await publish(capped(e2, 'second', 'defer', 'PT6S'));
    await publish(capped(e3, 'third', 'skip', 'PT1H'));
    const p = await patient();
    await emit(e1, p.id);
    const first = await stack.inbox.waitFor(mailTo(p.email, 'subject first'));
    const deferred = await emit(e2, p.id);
    const skipped = await emit(e3, p.id);
    assert.equal((await result(skipped.enrollments[0]!.workflowId!)).outcome, 'completed');
    const second = await stack.inbox.waitFor(mailTo(p.email, 'subject second'), 20_000);
    assert.ok(Date.parse(second.receivedAt) - Date.parse(first.receivedAt) >= 5_000, 'second waited for the first to leave the 6 s window');
    await result(deferred.enrollments[0]!.workflowId!);
    assert.equal(count(p.email, 'subject third'), 0, 'the third journey skipped its send');
  });

  it('a frequency cap holds when two journeys send at the same moment', async () => {
    const event = `capsame.${uid()}`;
    const capped = (name: string) =>
      build({
        rules: { frequencyCap: { max: 1, per: 'PT1H', onCapped: 'skip' } },
        nodes: [entry(event), send('s', { template: name }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: templates(name),
      });
    await publish(capped('left'));
    await publish(capped('right'));
    const p = await patient();
    const both = await emit(event, p.id);
    assert.equal(both.enrollments.length, 2);
    for (const e of both.enrollments) await result(e.workflowId!);
    assert.equal(count(p.email), 1, 'exactly one of the two simultaneous sends went out');
  });

  it('an exit-criteria event about the same appointment ends the run at once, cancelling its wait', async () => {
    const [booked, cancelled] = [`booked.${uid()}`, `cancelled.${uid()}`];
    await publish(
      build({
        data: { trigger: { appointment: { id: 'string' } }, events: { [cancelled]: { appointment: { id: 'string' } } } },
        rules: { exitOn: [{ event: cancelled, sameKey: true }] },
        nodes: [entry(booked, { key: 'appointment.id' }), send('s1', { template: 'one' }), { id: 'd', type: 'delay', duration: 'PT1H' }, send('s2', { template: 'two' }), exit()],
        edges: [['start', 's1'], ['s1', 'd'], ['d', 's2'], ['s2', 'done']],
        templates: templates('one', 'two'),
      }),
    );
    const p = await patient();
    const a = await emit(booked, p.id, { appointment: { id: 'A' } });
    const b = await emit(booked, p.id, { appointment: { id: 'B' } });
    await eventually(async () => (count(p.email, 'subject one') === 2 ? true : undefined), 'both first emails');
    const cancel = await emit(cancelled, p.id, { appointment: { id: 'A' } });
    assert.equal(cancel.signalled, 1, 'only the run about appointment A hears it');
    assert.equal((await result(a.enrollments[0]!.workflowId!)).outcome, 'exited');
    const rows = await stack.api.db.enrollment.findMany({ where: { patientId: p.id }, orderBy: { key: 'asc' } });
    assert.deepEqual(rows.map((r) => [r.key, r.status]), [['A', 'exited'], ['B', 'active']]);
    const described = await stack.api.temporal.workflow.getHandle(b.enrollments[0]!.workflowId!).describe();
    assert.equal(described.status.name, 'RUNNING');
    await saveHistory('exit-criteria', stack, a.enrollments[0]!.workflowId!);
  });

  it('re-entry: "always" enters again after finishing; "after" only once the period has passed', async () => {
    const [always, after] = [`always.${uid()}`, `after.${uid()}`];
    const journey = (event: string, reentry: unknown, name: string) =>
      build({ rules: { reentry }, nodes: [entry(event), send('s', { template: name }), exit()], edges: [['start', 's'], ['s', 'done']], templates: templates(name) });
    await publish(journey(always, { mode: 'always' }, 'again'));
    await publish(journey(after, { mode: 'after', period: 'PT5S' }, 'later'));
    const p = await patient();
    for (const event of [always, after]) await result((await emit(event, p.id)).enrollments[0]!.workflowId!);
    assert.equal((await emit(always, p.id)).enrollments[0]!.status, 'enrolled');
    assert.equal((await emit(after, p.id)).enrollments[0]!.status, 'not_reentered');
    await new Promise((r) => setTimeout(r, 5_500));
    const later = await emit(after, p.id);
    assert.equal(later.enrollments[0]!.status, 'enrolled');
    await result(later.enrollments[0]!.workflowId!);
    await eventually(async () => (count(p.email, 'subject again') === 2 ? true : undefined), 'two "again" emails');
    assert.equal(count(p.email, 'subject later'), 2);
  });

  it('continue-as-new keeps the run\'s state: a long-waiting run with many signals still branches on its own message', async () => {
    const event = `can.${uid()}`;
    const journey = await publish(
      build({
        nodes: [entry(event), send('s1', { template: 'hello' }), { id: 'w', type: 'wait_for_engagement', message: 's1', event: 'opened', timeout: 'PT2M' }, send('yes', { template: 'opened' }), send('no', { template: 'not_opened' }), exit()],
        edges: [['start', 's1'], ['s1', 'w'], ['w', 'yes', 'matched'], ['w', 'no', 'timeout'], ['yes', 'done'], ['no', 'done']],
        templates: templates('hello', 'opened', 'not_opened'),
      }),
    );
    const p = await patient();
    const { workflowId } = (await emit(event, p.id)).enrollments[0]!;
    const hello = await stack.inbox.waitFor(mailTo(p.email, 'subject hello'));
    const handle = stack.api.temporal.workflow.getHandle(workflowId!);
    const firstRun = (await handle.describe()).runId;
    // The test server suggests continue-as-new at 200 history events; unrelated engagement pushes past it.
    for (let i = 0; i < 120; i++) await handle.signal(engagementSignal, { nodeId: 's1', visit: 99, event: 'delivered' });
    await eventually(async () => ((await handle.describe()).runId !== firstRun ? true : undefined), 'a new run after continue-as-new');
    assert.equal((await fetch(pixelUrl(hello.html))).status, 200);
    await stack.inbox.waitFor(mailTo(p.email, 'subject opened'), 20_000);
    assert.equal((await handle.result()).outcome, 'completed');
    assert.equal(count(p.email, 'subject hello'), 1, 'the first email was not sent again after continue-as-new');
    await saveHistory('continue-as-new', stack, workflowId!, firstRun);
    void journey;
  });

  it('stopping a journey ends its runs cleanly (recorded as stopped, not failed) and enrolls no one new', async () => {
    const event = `stop.${uid()}`;
    const journey = await publish(
      build({ nodes: [entry(event), send('s', { template: 'first' }), { id: 'd', type: 'delay', duration: 'PT1H' }, exit()], edges: [['start', 's'], ['s', 'd'], ['d', 'done']], templates: templates('first') }),
    );
    const [p1, p2] = [await patient(), await patient()];
    const runs = [(await emit(event, p1.id)).enrollments[0]!, (await emit(event, p2.id)).enrollments[0]!];
    await eventually(async () => (count(p1.email) + count(p2.email) === 2 ? true : undefined), 'both first emails');
    const stopped = await stack.request('POST', `/api/journeys/${journey}/stop`);
    assert.deepEqual(stopped.body, { stopped: 2 });
    for (const run of runs) {
      assert.equal((await result(run.workflowId!)).outcome, 'stopped');
      assert.equal((await stack.api.temporal.workflow.getHandle(run.workflowId!).describe()).status.name, 'COMPLETED');
    }
    const enrollments = await stack.request('GET', `/api/journeys/${journey}/enrollments`);
    assert.deepEqual(enrollments.body.map((e: { status: string }) => e.status), ['stopped', 'stopped']);
    assert.equal((await stack.request('GET', `/api/journeys/${journey}`)).body.status, 'stopped');
    assert.deepEqual((await emit(event, (await patient()).id)).enrollments, []);
    await saveHistory('stopped', stack, runs[0]!.workflowId!);
  });

  it('version 2 published while version-1 runs wait: they finish on version 1; new enrollments take version 2', async () => {
    const event = `ver.${uid()}`;
    const v = (name: string) =>
      build({ nodes: [entry(event), { id: 'd', type: 'delay', duration: 'PT5S' }, send('s', { template: name }), exit()], edges: [['start', 'd'], ['d', 's'], ['s', 'done']], templates: templates(name) });
    const journey = await publish(v('v1'));
    const early = await patient();
    const first = await emit(event, early.id);
    assert.equal(first.enrollments[0]!.version, 1);
    assert.equal((await stack.request('PUT', `/api/journeys/${journey}`, v('v2'))).status, 204);
    assert.deepEqual((await stack.request('POST', `/api/journeys/${journey}/publish`)).body, { version: 2 });
    const late = await patient();
    assert.equal((await emit(event, late.id)).enrollments[0]!.version, 2);
    await stack.inbox.waitFor(mailTo(early.email, 'subject v1'), 20_000);
    await stack.inbox.waitFor(mailTo(late.email, 'subject v2'), 20_000);
    assert.equal(count(early.email, 'subject v2'), 0);
    const described = await stack.api.temporal.workflow.getHandle(first.enrollments[0]!.workflowId!).describe();
    assert.deepEqual((described.searchAttributes as Record<string, unknown[]>).JourneyVersion, [1]);
  });

  it('an audience entry on a Temporal Schedule enrolls exactly the audience\'s members when it fires', async () => {
    const cohort = `cohort_${uid()}`;
    const audience = await stack.request('POST', '/api/audiences', { name: 'test cohort', filter: `"${cohort}" in patient.tags && patient.visits >= 2`, attributes: { visits: 'int' } });
    assert.equal(audience.status, 201, JSON.stringify(audience.body));
    const members = [await patient({ tags: [cohort], attributes: { visits: 3 } }), await patient({ tags: [cohort, 'x'], attributes: { visits: 2 } })];
    const outsiders = [await patient({ tags: [cohort], attributes: { visits: 1 } }), await patient({ tags: ['other'] })];
    assert.deepEqual((await stack.request('GET', `/api/audiences/${audience.body.id}/count`)).body, { members: 2 });
    const at = new Date(Math.ceil((Date.now() + 3_000) / 1_000) * 1_000).toISOString();
    const journeyId = await publish(
      build({
        nodes: [{ id: 'start', type: 'audience_entry', audience: audience.body.id, schedule: { at } }, send('s', { template: 'campaign', stream: 'broadcast' }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: templates('campaign'),
      }),
    );
    for (const m of members) await stack.inbox.waitFor(mailTo(m.email, 'subject campaign'), 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    for (const o of outsiders) assert.equal(count(o.email), 0);
    for await (const run of stack.api.temporal.workflow.list({ query: `WorkflowId STARTS_WITH "aud:${journeyId}"` })) {
      await saveHistory('audience-run', stack, run.workflowId);
    }

    // A recurring schedule replaces the one-off on the next publish; stopping removes it.
    const monthly = build({
      nodes: [{ id: 'start', type: 'audience_entry', audience: audience.body.id, schedule: { cron: '0 9 1 * *', timezone: 'America/Chicago' } }, send('s', { template: 'campaign' }), exit()],
      edges: [['start', 's'], ['s', 'done']],
      templates: templates('campaign'),
    });
    assert.equal((await stack.request('PUT', `/api/journeys/${journeyId}`, monthly)).status, 204);
    assert.equal((await stack.request('POST', `/api/journeys/${journeyId}/publish`)).status, 201);
    const schedule = await stack.api.temporal.schedule.getHandle(`aud:${journeyId}`).describe();
    assert.equal(schedule.spec.timezone, 'America/Chicago');
    assert.equal(schedule.spec.calendars?.length, 1);
    assert.deepEqual(schedule.spec.calendars?.[0]?.hour, [{ start: 9, end: 9, step: 1 }]);
    await stack.request('POST', `/api/journeys/${journeyId}/stop`);
    await assert.rejects(stack.api.temporal.schedule.getHandle(`aud:${journeyId}`).describe(), /not found/i);
  });

  it('update_patient, a signed PHI-free webhook, wait_for_event with a filter, and goal conversions per path', async () => {
    const [event, visit] = [`upd.${uid()}`, `visit.${uid()}`];
    const journey = await publish(
      build({
        data: { patient: { stage: 'string' }, events: { [visit]: { score: 'int' } } },
        rules: { goal: { event: visit, when: 'event.score >= 3', exit: false } },
        nodes: [
          entry(event),
          { id: 'u', type: 'update_patient', set: { stage: '"contacted"' }, addTags: ['contacted'] },
          { id: 'h', type: 'webhook', url: hookUrl, payload: { campaign: 'test' } },
          { id: 'w', type: 'wait_for_event', event: visit, when: 'event.score >= 3', timeout: 'PT1M' },
          send('thanks', { template: 'thanks' }),
          exit(),
          exit('gaveUp'),
        ],
        edges: [['start', 'u'], ['u', 'h'], ['h', 'w'], ['w', 'thanks', 'matched'], ['w', 'gaveUp', 'timeout'], ['thanks', 'done']],
        templates: templates('thanks'),
      }),
    );
    const p = await patient();
    const { workflowId } = (await emit(event, p.id)).enrollments[0]!;
    const hook = await eventually(async () => hooks.find((h) => h.body.includes(journey)), 'the webhook call');
    const expected = createHmac('sha256', stack.config.webhooks.secret).update(hook.body).digest('hex');
    assert.equal(hook.headers['x-haven-signature'], `sha256=${expected}`);
    assert.match(String(hook.headers['idempotency-key']), new RegExp(`^${workflowId}:h:1$`));
    const body = JSON.parse(hook.body);
    assert.deepEqual(Object.keys(body).sort(), ['at', 'journeyId', 'nodeId', 'payload', 'run', 'version']);
    assert.ok(!hook.body.includes(p.email) && !hook.body.includes(p.id) && !hook.body.includes('Pat'), 'no patient data in the webhook');
    const updated = await stack.api.db.patient.findUniqueOrThrow({ where: { id: p.id } });
    assert.deepEqual(updated.tags, ['contacted']);
    assert.equal((updated.attributes as { stage?: string }).stage, 'contacted');

    await eventually(async () => {
      const d = await stack.api.temporal.workflow.getHandle(workflowId!).describe();
      return (d.searchAttributes as Record<string, unknown[]>).JourneyNode?.[0] === 'w' ? true : undefined;
    }, 'the run to wait for the visit');
    assert.equal((await emit(visit, p.id, { score: 1 })).signalled, 0, 'a low score matches neither the wait nor the goal');
    assert.equal((await emit(visit, p.id, { score: 5 })).signalled, 1);
    await stack.inbox.waitFor(mailTo(p.email, 'subject thanks'), 15_000);
    assert.equal((await result(workflowId!)).outcome, 'completed');
    const conversions = await stack.request('GET', `/api/journeys/${journey}/conversions`);
    assert.deepEqual(conversions.body, [{ version: 1, path: ['start', 'u', 'h', 'w'], conversions: 1 }]);
    await saveHistory('update-webhook-goal', stack, workflowId!);
  });

  it('simulation through the API shows the path, decisions and rendered messages, and sends nothing', async () => {
    const created = await stack.request('POST', '/api/journeys', example('appointment-reminder'));
    const before = stack.inbox.messages.length;
    const sim = await stack.request('POST', `/api/journeys/${created.body.id}/simulate`, {
      start: '2026-12-07T15:00:00Z',
      patient: { givenName: 'Sim', timezone: 'America/Chicago' },
      trigger: { appointment: { id: 'x', start: '2026-12-11T14:00:00Z', clinic: 'North' } },
      script: [{ advance: 'P5D' }],
    });
    assert.equal(sim.status, 200, JSON.stringify(sim.body));
    assert.deepEqual(sim.body.path, ['booked', 'before48h', 'reminder', 'opened', 'stillAhead', 'followUp', 'done']);
    assert.equal(sim.body.messages[0].subject, 'Your upcoming appointment');
    assert.match(sim.body.messages[0].text, /Hello Sim/);
    assert.ok(sim.body.decisions.length > 5);
    assert.equal(stack.inbox.messages.length, before);
    const bad = await stack.request('POST', `/api/journeys/${created.body.id}/simulate`, { script: [{ advance: 'three days' }] });
    assert.equal(bad.status, 400);
  });
});
