// The walking skeleton, end to end through the real stack: API → Postgres → Temporal → worker →
// SMTP (dev inbox) → open pixel → signal → branch.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually, pixelUrl, startStack, type Stack } from '../support/stack.ts';
import { followUpJourney } from '../support/journeys.ts';
import { saveHistory } from '../support/histories.ts';
import { canary, canaryEmail } from '../support/canary.ts';

const SUBJECT = {
  welcome: 'Welcome to our practice',
  tour: 'Getting the most from your portal',
  reminder: 'A quick reminder from your care team',
};

describe('a published journey runs from an event to delivered emails and an engagement branch', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack();
    await stack.startWorker();
  });
  after(() => stack.close());

  async function publishJourney(timeout: string) {
    const event = `test.${randomUUID().slice(0, 8)}`;
    const created = await stack.request('POST', '/api/journeys', followUpJourney({ event, timeout }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const published = await stack.request('POST', `/api/journeys/${created.body.id}/publish`);
    assert.equal(published.status, 201);
    assert.deepEqual(published.body, { version: 1 });
    return { id: created.body.id as string, event };
  }

  async function newPatient(givenName: string) {
    const email = canaryEmail(givenName.toLowerCase());
    const res = await stack.request('POST', '/api/patients', { email, givenName: canary(givenName), familyName: canary('Tester') });
    assert.equal(res.status, 201);
    return { id: res.body.id as string, email };
  }

  const mailTo = (email: string, subject?: string) => (m: { envelope: { to: string[] }; subject: string }) =>
    m.envelope.to.includes(email) && (subject === undefined || m.subject === subject);

  it('patient A opens email 1 and gets 2a; patient B never opens and gets 2b after the timeout', async () => {
    const journey = await publishJourney('PT6S');
    const a = await newPatient('Ada');
    const b = await newPatient('Bob');

    for (const p of [a, b]) {
      const res = await stack.request('POST', '/api/events', { name: journey.event, patientId: p.id });
      assert.equal(res.status, 202);
      assert.equal(res.body.enrollments.length, 1);
      assert.equal(res.body.enrollments[0].status, 'enrolled');
      assert.equal(res.body.enrollments[0].version, 1);
    }

    const welcomeA = await stack.inbox.waitFor(mailTo(a.email, SUBJECT.welcome));
    assert.match(welcomeA.text, /Hello Ada/);
    const pixel = await fetch(pixelUrl(welcomeA.html));
    assert.equal(pixel.status, 200);
    assert.equal(pixel.headers.get('content-type'), 'image/gif');

    await stack.inbox.waitFor(mailTo(a.email, SUBJECT.tour), 15_000);
    await stack.inbox.waitFor(mailTo(b.email, SUBJECT.reminder), 20_000);

    const enrollments = await eventually(async () => {
      const res = await stack.request('GET', `/api/journeys/${journey.id}/enrollments`);
      return res.body.every((e: { status: string }) => e.status === 'completed') ? res.body : undefined;
    }, 'both enrollments completed');
    assert.equal(enrollments.length, 2);

    for (const enrollment of enrollments) {
      const description = await stack.api.temporal.workflow.getHandle(enrollment.workflowId).describe();
      assert.equal(description.status.name, 'COMPLETED');
      const sa = description.searchAttributes as Record<string, unknown[]>;
      assert.deepEqual(sa.JourneyId, [journey.id]);
      assert.deepEqual(sa.JourneyVersion, [1]);
      assert.deepEqual(sa.EnrollmentState, ['completed']);
      assert.ok(enrollment.temporalUrl.includes(encodeURIComponent(enrollment.workflowId)));
    }
    await saveHistory('follow-up-opened', stack, enrollments[0].workflowId);
    await saveHistory('follow-up-timeout', stack, enrollments[1].workflowId);

    // Each patient took exactly one branch.
    assert.equal(stack.inbox.messages.filter(mailTo(a.email, SUBJECT.reminder)).length, 0);
    assert.equal(stack.inbox.messages.filter(mailTo(b.email, SUBJECT.tour)).length, 0);
    assert.equal(stack.inbox.messages.filter(mailTo(a.email)).length, 2);
    assert.equal(stack.inbox.messages.filter(mailTo(b.email)).length, 2);
  });

  it('the same event twice for one patient enrolls once and sends one email', async () => {
    const journey = await publishJourney('PT2S');
    const p = await newPatient('Dora');
    const [first, second] = await Promise.all([
      stack.request('POST', '/api/events', { name: journey.event, patientId: p.id }),
      stack.request('POST', '/api/events', { name: journey.event, patientId: p.id }),
    ]);
    const statuses = [first.body.enrollments[0].status, second.body.enrollments[0].status].sort();
    assert.deepEqual(statuses, ['already_enrolled', 'enrolled']);
    assert.equal(first.body.enrollments[0].workflowId, second.body.enrollments[0].workflowId);

    await stack.inbox.waitFor(mailTo(p.email, SUBJECT.reminder), 20_000);
    await eventually(async () => {
      const res = await stack.request('GET', `/api/journeys/${journey.id}/enrollments`);
      return res.body[0]?.status === 'completed' ? true : undefined;
    }, 'the enrollment completed');
    // After completion, the event again: still one enrollment, no new run, no new email.
    const third = await stack.request('POST', '/api/events', { name: journey.event, patientId: p.id });
    assert.equal(third.body.enrollments[0].status, 'not_reentered');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(stack.inbox.messages.filter(mailTo(p.email, SUBJECT.welcome)).length, 1);
    assert.equal(stack.inbox.messages.filter(mailTo(p.email)).length, 2);
    assert.equal(await stack.api.db.enrollment.count({ where: { journeyId: journey.id } }), 1);
  });

  it('a tampered or unknown tracking token gets 404, signals nothing and records nothing', async () => {
    const journey = await publishJourney('PT4S');
    const p = await newPatient('Eve');
    await stack.request('POST', '/api/events', { name: journey.event, patientId: p.id });
    const welcome = await stack.inbox.waitFor(mailTo(p.email, SUBJECT.welcome));
    const real = pixelUrl(welcome.html);
    const [keyId, body, tag] = real.split('/t/o/')[1]!.replace(/\.gif$/, '').split('.');
    const flip = (s: string) => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const forged = [
      `${keyId}.${body}.${flip(tag!)}`, // tampered tag
      `${keyId}.${flip(body!)}.${tag}`, // tampered claim
      `zz.${body}.${tag}`, // unknown key
      'not-a-token',
    ];
    for (const token of forged) {
      assert.equal((await fetch(`${stack.baseUrl}/t/o/${token}.gif`)).status, 404, token);
      assert.equal((await fetch(`${stack.baseUrl}/t/c/${token}`, { redirect: 'manual' })).status, 404, token);
    }
    // A correctly signed open token used on the click endpoint is refused too.
    assert.equal((await fetch(real.replace('/t/o/', '/t/c/').replace(/\.gif$/, ''), { redirect: 'manual' })).status, 404);

    const message = await stack.api.db.message.findFirstOrThrow({ where: { patientId: p.id, nodeId: 'welcome' } });
    assert.equal(await stack.api.db.engagementEvent.count({ where: { messageId: message.id } }), 0);
    // Not opened, so the journey takes the timeout branch.
    await stack.inbox.waitFor(mailTo(p.email, SUBJECT.reminder), 20_000);
    assert.equal(stack.inbox.messages.filter(mailTo(p.email, SUBJECT.tour)).length, 0);
  });

  it('a tracked link redirects to its stored destination and counts as engagement', async () => {
    const journey = await publishJourney('PT8S');
    const p = await newPatient('Finn');
    await stack.request('POST', '/api/events', { name: journey.event, patientId: p.id });
    const welcome = await stack.inbox.waitFor(mailTo(p.email, SUBJECT.welcome));
    assert.ok(!welcome.html.includes('href="https://portal.example.org'), 'links are rewritten');
    const click = /href="([^"]+\/t\/c\/[^"]+)"/.exec(welcome.html)?.[1];
    assert.ok(click);
    const res = await fetch(click!, { redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), 'https://portal.example.org/start');
    // A click implies the open: the "opened" branch runs.
    await stack.inbox.waitFor(mailTo(p.email, SUBJECT.tour), 15_000);
  });

  it('DEID-01 DEID-04 engagement exports are de-identified, coded per export, and audited', async () => {
    const journey = await publishJourney('PT1M');
    const email = `deid-${randomUUID().slice(0, 8)}@example.test`;
    const patient = await stack.request('POST', '/api/patients', { email, givenName: 'Orla', familyName: 'Quist', attributes: { zip: '03601', birthDate: '1930-01-01' } });
    await stack.request('POST', '/api/events', { name: journey.event, patientId: patient.body.id });
    const welcome = await stack.inbox.waitFor(mailTo(email, SUBJECT.welcome));
    await fetch(pixelUrl(welcome.html));
    const exported = async () => (await stack.request('POST', '/api/exports/engagement', { journeyId: journey.id })).body;
    const first = await eventually(async () => ((await exported()).rows.length ? await exported() : undefined), 'an engagement to export');
    assert.match(first.label, /de-identified/);
    assert.deepEqual(first.rows.map((r: any) => [r.engagement, r.zip, r.birthDate, r.age, r.journeyId]), [['opened', '000', null, '90+', journey.id]]);
    const text = JSON.stringify(first);
    for (const identifier of [email, 'Orla', 'Quist', patient.body.id, '1930']) assert.ok(!text.includes(identifier), identifier);
    const second = await exported();
    assert.notEqual(second.rows[0].subject, first.rows[0].subject, 'codes differ between exports: they cannot be joined');
    const mapping = await stack.api.db.reidentificationCode.findUniqueOrThrow({ where: { code: first.rows[0].subject } });
    assert.equal(mapping.patientId, patient.body.id);
    assert.ok(await stack.api.db.auditEvent.findFirst({ where: { action: 'export.deidentified', objectId: first.exportId } }));
  });

  it('DEID-06 DEID-05 a limited data set leaves only under a data use agreement and is never called de-identified; an expert-determined export stays inside its determination', async () => {
    const journey = await publishJourney('PT1M');
    const email = `lds-${randomUUID().slice(0, 8)}@example.test`;
    const patient = await stack.request('POST', '/api/patients', {
      email,
      givenName: 'Wren',
      familyName: 'Okafor',
      attributes: { zip: '02139', city: 'Cambridge', state: 'MA', birthDate: '1961-07-04' },
    });
    await stack.request('POST', '/api/events', { name: journey.event, patientId: patient.body.id });
    await fetch(pixelUrl((await stack.inbox.waitFor(mailTo(email, SUBJECT.welcome))).html));
    const recipient = 'Harbor Research Institute';
    const limited = (body: Record<string, unknown>, key?: string) => stack.request('POST', '/api/exports/engagement/limited', { recipient, journeyId: journey.id, ...body }, key);

    // DEID-06: no agreement, another recipient's agreement, an ended one → refused, and audited.
    const none = await limited({ dataUseAgreementId: 'dua-that-does-not-exist' });
    assert.equal(none.status, 403);
    assert.equal(none.body.error, 'DUA_REQUIRED');
    const compliance = await stack.keyFor('compliance');
    const dua = await stack.request('POST', '/api/data-use-agreements', {
      recipient,
      purpose: 'research',
      permittedUses: 'Study of reminder engagement by age and region; no re-identification, no further disclosure',
      signedAt: new Date(Date.now() - 86_400_000).toISOString(),
      documentRef: 'contracts/dua-2026-014.pdf',
    }, compliance);
    assert.equal(dua.status, 201);
    assert.equal((await limited({ dataUseAgreementId: dua.body.id, recipient: 'Unlisted Analytics LLC' })).body.error, 'RECIPIENT_NOT_COVERED');
    assert.equal((await limited({ dataUseAgreementId: dua.body.id }, await stack.keyFor('auditor'))).status, 403, 'an auditor may not take PHI out');
    const lds = await eventually(async () => {
      const res = await limited({ dataUseAgreementId: dua.body.id });
      return res.status === 200 && res.body.rows.length ? res.body : undefined;
    }, 'a limited data set');
    assert.equal(lds.kind, 'limited_data_set');
    assert.equal(lds.containsPhi, true);
    assert.doesNotMatch(JSON.stringify(lds), /de-?identified/i, 'a limited data set is never labelled de-identified');
    assert.deepEqual([lds.rows[0].zip, lds.rows[0].city, lds.rows[0].state, lds.rows[0].birthDate, lds.rows[0].engagement], ['02139', 'Cambridge', 'MA', '1961-07-04', 'opened']);
    for (const identifier of [email, 'Wren', 'Okafor', patient.body.id]) assert.ok(!JSON.stringify(lds).includes(identifier), identifier);
    // LOG-03: PHI leaving in an export is put before the privacy officer.
    assert.ok(await stack.api.db.alert.findFirst({ where: { kind: 'phi_export', details: { path: ['exportId'], equals: lds.exportId } } }));
    await assert.rejects(stack.api.db.dataUseAgreement.update({ where: { id: dua.body.id }, data: { recipient: 'Unlisted Analytics LLC' } }), /can only be terminated/);
    assert.equal((await stack.request('POST', `/api/data-use-agreements/${dua.body.id}/terminate`, {}, compliance)).status, 204);
    assert.equal((await stack.request('POST', `/api/data-use-agreements/${dua.body.id}/terminate`, {}, compliance)).status, 404);
    assert.equal((await limited({ dataUseAgreementId: dua.body.id })).body.error, 'DUA_NOT_IN_FORCE');
    const refusals = await stack.api.db.auditEvent.count({ where: { action: 'export.limited_data_set', outcome: 'denied' } });
    assert.ok(refusals >= 3);

    // DEID-05: only the determination's recipients, fields and dates.
    const determination = await stack.request('POST', '/api/expert-determinations', {
      expert: 'Dr. A. Statistician, PhD',
      method: 'k-anonymity (k=11) over ZIP3, birth year and engagement type; see report',
      documentRef: 'determinations/2026-07.pdf',
      fields: ['zip3', 'birthYear', 'engagement', 'journeyId'],
      recipients: [recipient],
      determinedAt: new Date(Date.now() - 86_400_000).toISOString(),
      expiresAt: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    }, compliance);
    assert.equal(determination.status, 201);
    const expert = (body: Record<string, unknown>) => stack.request('POST', '/api/exports/engagement/expert', { recipient, journeyId: journey.id, determinationId: determination.body.id, ...body });
    assert.equal((await expert({ recipient: 'Unlisted Analytics LLC' })).body.error, 'RECIPIENT_NOT_COVERED');
    assert.equal((await expert({ fields: ['zip3', 'zip5'] })).body.error, 'FIELD_OUTSIDE_SCOPE');
    const released = await expert({});
    assert.equal(released.status, 200);
    assert.deepEqual(Object.keys(released.body.rows[0]).sort(), ['birthYear', 'engagement', 'journeyId', 'subject', 'zip3']);
    assert.deepEqual([released.body.rows[0].zip3, released.body.rows[0].birthYear], ['021', '1961']);
    const lapsed = await stack.request('POST', '/api/expert-determinations', {
      ...determination.body,
      id: undefined,
      createdBy: undefined,
      createdAt: undefined,
      determinedAt: new Date(Date.now() - 3 * 365 * 86_400_000).toISOString(),
      expiresAt: new Date(Date.now() - 86_400_000).toISOString(),
    }, compliance);
    assert.equal(lapsed.status, 201);
    assert.equal((await expert({ determinationId: lapsed.body.id })).body.error, 'DETERMINATION_EXPIRED');
  });

  it('an invalid definition is refused with the node and reason, and nothing is saved', async () => {
    const before = await stack.api.db.journey.count();
    const cases: [string, (d: any) => void, string, RegExp][] = [
      ['dangling edge', (d) => d.edges.push({ from: 'thanks', to: 'ghost' }), 'thanks', /unknown node "ghost"/],
      ['unknown node type', (d) => d.nodes.push({ id: 'fax', type: 'send_fax' }), 'fax', /unknown node type/],
      ['missing template', (d) => delete d.templates.portal_tour, 'thanks', /template "portal_tour" is not defined/],
      ['wait without timeout', (d) => delete d.nodes.find((n: any) => n.id === 'opened').timeout, 'opened', /timeout: is required/],
      ['bad template syntax', (d) => (d.templates.reminder.text = 'Hi {{ patient.givenName '), 'reminder', /template "reminder" text/],
    ];
    for (const [name, mutate, nodeId, message] of cases) {
      const definition: any = followUpJourney({ event: 'test.invalid' });
      mutate(definition);
      const res = await stack.request('POST', '/api/journeys', definition);
      assert.equal(res.status, 400, name);
      assert.equal(res.body.error, 'invalid_journey', name);
      assert.ok(
        res.body.problems.some((p: any) => p.nodeId === nodeId && message.test(p.message)),
        `${name}: ${JSON.stringify(res.body.problems)}`,
      );
    }
    assert.equal(await stack.api.db.journey.count(), before);

    // An invalid draft update leaves the saved draft as it was.
    const journey = await publishJourney('PT1H');
    const broken: any = followUpJourney({ event: 'test.other' });
    broken.edges.pop();
    assert.equal((await stack.request('PUT', `/api/journeys/${journey.id}`, broken)).status, 400);
    const saved = await stack.request('GET', `/api/journeys/${journey.id}`);
    assert.equal(saved.body.draft.nodes.find((n: any) => n.type === 'entry').event, journey.event);
  });

  it('refuses bad requests clearly', async () => {
    const unknownPatient = await stack.request('POST', '/api/events', { name: 'test.x', patientId: 'nope' });
    assert.equal(unknownPatient.status, 404);
    const badEvent = await stack.request('POST', '/api/events', { name: 'Has Spaces', patientId: 'x' });
    assert.equal(badEvent.status, 400);
    const badPatient = await stack.request('POST', '/api/patients', { email: 'not-an-email' });
    assert.equal(badPatient.status, 400);
    assert.equal((await stack.request('POST', '/api/journeys/nope/publish')).status, 404);
    const nul = await stack.request('POST', '/api/patients', { email: 'nul@example.test', givenName: 'A\u0000B' });
    assert.equal(nul.status, 400);
    assert.equal(await stack.api.db.patient.count({ where: { email: 'nul@example.test' } }), 0);
    const unknown = await stack.request('GET', '/api/nothing-here?secret=canary-123');
    assert.equal(unknown.status, 404);
    assert.ok(!JSON.stringify(unknown.body).includes('canary-123'), 'a 404 does not echo the URL');
    assert.ok([404, 414].includes((await fetch(`${stack.baseUrl}/t/o/${'x'.repeat(500)}.gif`)).status), 'an overlong token is refused');
    assert.equal((await fetch(`${stack.baseUrl}/t/o/${'x'.repeat(90)}.gif`)).status, 404);
  });

  it('reports health of Postgres and Temporal', async () => {
    const res = await stack.request('GET', '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok', postgres: true, temporal: true });
  });
});
