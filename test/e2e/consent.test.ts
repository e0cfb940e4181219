// Authorization gates through the real stack: consent decided at enrollment and again inside the
// send activity just before the hand-off, revocation reaching running journeys, confidential
// communications, one-click unsubscribe, and publish-time refusals — each named by its ID.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { localTime } from '../../workflows/index.ts';
import { stateQuery } from '../../workflows/messages.ts';
import { build, entry, exit, send } from '../support/build.ts';
import { eventually, startStack, type Stack } from '../support/stack.ts';
import { authorizationInput } from '../consent/fixtures.ts';
import { canary, plant } from '../support/canary.ts';
import { saveHistory } from '../support/histories.ts';

describe('authorization gates on Temporal', { concurrency: true }, () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ env: { HAVEN_POSTAL_ADDRESS: 'Springfield Clinic, 1 Main St, Springfield, IL 62701', HAVEN_AD_LABEL: 'Advertisement from Springfield Clinic' } });
    await stack.startWorker();
  });
  after(() => stack.close());

  const uid = () => randomUUID().slice(0, 8);
  const templates = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { subject: `News ${n}`, text: `Hello {{ patient.givenName }}, ${n}: https://clinic.example.org/${n}` }]));
  const marketingSend = (id: string, extra: Record<string, unknown> = {}) => send(id, { template: id, purpose: 'MARKETING', stream: 'broadcast', ...extra });

  async function publish(definition: unknown): Promise<string> {
    const created = await stack.request('POST', '/api/journeys', definition);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal((await stack.request('POST', `/api/journeys/${created.body.id}/publish`)).status, 201);
    return created.body.id;
  }
  async function patient() {
    const email = plant(`c-${uid()}@example.test`);
    const res = await stack.request('POST', '/api/patients', { email, givenName: canary('Cora') });
    return { id: res.body.id as string, email };
  }
  async function authorize(patientId: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const res = await stack.request('POST', `/api/patients/${patientId}/authorizations`, authorizationInput(overrides));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id;
  }
  async function emit(name: string, patientId: string) {
    const res = await stack.request('POST', '/api/events', { name, patientId });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body.enrollments as { status: string; workflowId?: string; enrollmentId?: string }[];
  }
  const result = (workflowId: string) => stack.api.temporal.workflow.getHandle(workflowId).result();
  const to = (address: string) => stack.inbox.messages.filter((m) => m.envelope.to.includes(address));
  const decisions = (patientId: string) => stack.api.db.decision.findMany({ where: { patientId }, orderBy: { at: 'asc' } });

  it('AUTH-06 a treatment reminder goes out without any marketing authorization: care is never conditioned on one', async () => {
    const event = `tx.${uid()}`;
    await publish(build({ nodes: [entry(event), send('s', { template: 'reminder' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: templates('reminder') }));
    const p = await patient();
    const [run] = await emit(event, p.id);
    await result(run!.workflowId!);
    assert.equal(to(p.email).length, 1);
    const made = await decisions(p.id);
    assert.deepEqual(made.map((d) => [d.phase, d.allow, d.reasons]), [['enrollment', true, ['NO_AUTHORIZATION_NEEDED']], ['send', true, ['NO_AUTHORIZATION_NEEDED']]]);
  });

  it('AUTH-04 INV-2 an authorization that expires while the journey sleeps: nothing is sent', async () => {
    const event = `exp.${uid()}`;
    await publish(build({ nodes: [entry(event), { id: 'd', type: 'delay', duration: 'PT4S' }, marketingSend('promo'), exit()], edges: [['start', 'd'], ['d', 'promo'], ['promo', 'done']], templates: templates('promo') }));
    const p = await patient();
    await authorize(p.id, { expiresAt: new Date(Date.now() + 2_000).toISOString() });
    const [run] = await emit(event, p.id);
    assert.equal(run!.status, 'enrolled', 'valid at enrollment');
    assert.equal((await result(run!.workflowId!)).outcome, 'completed');
    assert.equal(to(p.email).length, 0);
    const send_ = (await decisions(p.id)).find((d) => d.phase === 'send')!;
    assert.equal(send_.allow, false);
    assert.deepEqual(send_.reasons, ['AUTHORIZATION_EXPIRED']);
    assert.equal(await stack.api.db.message.count({ where: { patientId: p.id } }), 0, 'nothing was even prepared');
  });

  it('AUTH-07 revocation mid-journey blocks the next send in every journey of that patient; earlier sends stand', async () => {
    const [e1, e2] = [`rev1.${uid()}`, `rev2.${uid()}`];
    const journey = (event: string, a: string, b: string) =>
      build({ nodes: [entry(event), marketingSend(a), { id: 'd', type: 'delay', duration: 'PT5S' }, marketingSend(b), exit()], edges: [['start', a], [a, 'd'], ['d', b], [b, 'done']], templates: templates(a, b) });
    await publish(journey(e1, 'first1', 'second1'));
    await publish(journey(e2, 'first2', 'second2'));
    const p = await patient();
    const authorization = await authorize(p.id);
    const runs = [...(await emit(e1, p.id)), ...(await emit(e2, p.id))];
    await eventually(async () => (to(p.email).length === 2 ? true : undefined), 'both first emails');
    const revoked = await stack.request('POST', `/api/patients/${p.id}/authorizations/${authorization}/revoke`, { source: 'portal' });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.signalled, 2);
    for (const r of runs) await result(r.workflowId!);
    assert.deepEqual(to(p.email).map((m) => m.subject).sort(), ['News first1', 'News first2']);
    const denials = (await decisions(p.id)).filter((d) => !d.allow);
    assert.deepEqual(denials.map((d) => d.reasons), [['AUTHORIZATION_REVOKED'], ['AUTHORIZATION_REVOKED']]);
    const again = await stack.request('POST', `/api/patients/${p.id}/authorizations/${authorization}/revoke`, { source: 'letter' });
    assert.equal(again.body.created, false, 'a replayed revocation is idempotent');
  });

  it('AUTH-07 RCC-01 a consent change reaches a send waiting for its window at once: still allowed, it keeps waiting; revoked, it is denied then, not when the window opens', async () => {
    const event = `win.${uid()}`;
    // A window that opened an hour ago in Chicago and closed a minute ago: the send is deferred ~23 h.
    const nowLocal = localTime(Date.now(), 'America/Chicago');
    const minutes = nowLocal.hour * 60 + nowLocal.minute;
    const hhmm = (m: number) => `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, '0')}:${String((m + 1440) % 60).padStart(2, '0')}`;
    await publish(
      build({
        rules: { sendWindow: { start: hhmm(minutes - 60), end: hhmm(minutes - 1) } },
        nodes: [entry(event), marketingSend('later'), exit()],
        edges: [['start', 'later'], ['later', 'done']],
        templates: templates('later'),
      }),
    );
    const res = await stack.request('POST', '/api/patients', { email: `w-${uid()}@example.test`, givenName: 'Wes', timezone: 'America/Chicago' });
    const authorization = await authorize(res.body.id);
    const [run] = await emit(event, res.body.id);
    await eventually(async () => {
      const d = await stack.api.temporal.workflow.getHandle(run!.workflowId!).describe();
      return (d.searchAttributes as Record<string, unknown[]>).EnrollmentState?.[0] === 'waiting' ? true : undefined;
    }, 'the send to be deferred');
    const handle = stack.api.temporal.workflow.getHandle(run!.workflowId!);
    const activity = async () =>
      (await stack.api.db.auditEvent.findMany({ where: { objectType: 'enrollment', objectId: run!.enrollmentId! }, orderBy: { seq: 'asc' } })).map(
        (e) => `${e.action} ${e.outcome} ${(e.details as { status?: string }).status ?? ''}`.trim(),
      );
    // A consent change that leaves the send allowed: asked again at once, it stays held for its window.
    const waiting = async () => {
      const { awaiting } = await handle.query(stateQuery);
      return awaiting?.kind === 'deferred_send' ? awaiting.until : undefined;
    };
    const waitingUntil = await waiting();
    assert.ok(waitingUntil);
    const redirected = await stack.request('POST', `/api/patients/${res.body.id}/directives`, { kind: 'redirect', address: `alt-${uid()}@example.test`, source: 'portal' });
    assert.equal(redirected.body.signalled, 1);
    await eventually(async () => ((await activity()).includes('message.reconsider ok deferred') ? true : undefined), 'the send to be reconsidered');
    assert.equal(await waiting(), waitingUntil, 'still waiting for the same opening');
    const t0 = Date.now();
    await stack.request('POST', `/api/patients/${res.body.id}/authorizations/${authorization}/revoke`, { source: 'portal' });
    assert.equal((await result(run!.workflowId!)).outcome, 'completed');
    assert.ok(Date.now() - t0 < 15_000, 'ended within seconds of the revocation');
    assert.deepEqual((await decisions(res.body.id)).filter((d) => d.phase === 'send').map((d) => d.reasons), [['AUTHORIZATION_REVOKED']]);
    // The audit trail of the run: one send attempt (held), two reconsiderations, the end; nothing sent.
    assert.deepEqual(await activity(), ['message.deliver ok deferred', 'message.reconsider ok deferred', 'message.reconsider denied denied', 'enrollment.end ok']);
    assert.equal(await stack.api.db.message.count({ where: { patientId: res.body.id } }), 0);
    await saveHistory('revoked-while-deferred', stack, run!.workflowId!);
  });

  it('MKT-05 paid marketing without the remuneration statement is denied; the patient is not even enrolled', async () => {
    const event = `paid.${uid()}`;
    await publish(build({ nodes: [entry(event), marketingSend('sponsored', { thirdPartyRemuneration: 'exceedsCost', sponsor: 'PharmaCo' }), exit()], edges: [['start', 'sponsored'], ['sponsored', 'done']], templates: templates('sponsored') }));
    const p = await patient();
    await authorize(p.id);
    const [report] = await emit(event, p.id);
    assert.equal(report!.status, 'not_authorized');
    const [decision] = await decisions(p.id);
    assert.deepEqual([decision!.phase, decision!.allow], ['enrollment', false]);
    assert.ok(decision!.reasons.includes('AUTH_MISSING_REMUNERATION_STATEMENT'));
    assert.ok(decision!.reasons.includes('AUTH_SPONSOR_NOT_COVERED'));
  });

  it('MKT-03 a sponsor on the campaign makes every send marketing, even when the step names none', async () => {
    const event = `sponsor.${uid()}`;
    const definition = build({ nodes: [entry(event), send('care', { template: 'care', purpose: 'CARE_COORDINATION' }), exit()], edges: [['start', 'care'], ['care', 'done']], templates: templates('care') });
    await publish({ ...definition, sponsor: 'DeviceCo' });
    const p = await patient();
    assert.equal((await emit(event, p.id))[0]!.status, 'not_authorized');
  });

  it('RCC-01 a directive to an alternate address is used, never the default; "no email" stops email entirely', async () => {
    const event = `rcc.${uid()}`;
    await publish(build({ rules: { reentry: { mode: 'always' } }, nodes: [entry(event), send('s', { template: 'visit' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: templates('visit') }));
    const p = await patient();
    const alt = `alt-${uid()}@example.test`;
    assert.equal((await stack.request('POST', `/api/patients/${p.id}/directives`, { kind: 'redirect', address: alt, source: 'front desk' })).status, 201);
    await result((await emit(event, p.id))[0]!.workflowId!);
    assert.equal(to(alt).length, 1);
    assert.equal(to(p.email).length, 0, 'never the primary address');
    await stack.request('POST', `/api/patients/${p.id}/directives`, { kind: 'forbid_channel', source: 'patient letter' });
    assert.equal((await emit(event, p.id))[0]!.status, 'not_authorized');
    assert.equal(to(alt).length + to(p.email).length, 1);
  });

  it('CS-04 CS-05 CS-06 CS-07 MBX-03 one-click unsubscribe: footer and headers, no login, GET changes nothing, replays are idempotent', async () => {
    const [e1, e2, e3] = [`news.${uid()}`, `news2.${uid()}`, `care.${uid()}`];
    await publish(build({ nodes: [entry(e1), marketingSend('newsletter'), exit()], edges: [['start', 'newsletter'], ['newsletter', 'done']], templates: templates('newsletter') }));
    await publish(build({ nodes: [entry(e2), marketingSend('offer'), exit()], edges: [['start', 'offer'], ['offer', 'done']], templates: templates('offer') }));
    await publish(build({ nodes: [entry(e3), send('care', { template: 'care' }), exit()], edges: [['start', 'care'], ['care', 'done']], templates: templates('care') }));
    const [a, b] = [await patient(), await patient()];
    for (const p of [a, b]) await authorize(p.id);
    for (const p of [a, b]) await result((await emit(e1, p.id))[0]!.workflowId!);
    const mail = to(a.email)[0]!;
    // CS-07: ad identification, postal address and an opt-out in the body.
    assert.match(mail.text, /Advertisement from Springfield Clinic/);
    assert.match(mail.text, /Springfield Clinic, 1 Main St, Springfield, IL 62701/);
    // MBX-03: one HTTPS-or-HTTP URI in List-Unsubscribe plus List-Unsubscribe-Post, token opaque.
    const headers = mail.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' '); // unfolded
    const header = /^List-Unsubscribe: <([^>]+)>/im.exec(headers)?.[1];
    assert.ok(header, 'List-Unsubscribe header');
    assert.match(headers, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click/im);
    assert.ok(!header!.includes(a.email) && !header!.includes(a.id));
    assert.ok(mail.text.includes(header!), 'the same link is visible in the body');

    const countA = () => stack.api.db.suppression.count({ where: { patientId: a.id } });
    assert.equal((await fetch(header!)).status, 200, 'GET shows a page');
    assert.equal(await countA(), 0, 'GET never unsubscribes (scanners prefetch)');
    const forged = header!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    assert.equal((await fetch(forged, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status, 404);
    const post = () => fetch(header!, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' }, redirect: 'manual' });
    const first = await post();
    assert.equal(first.status, 200);
    assert.equal(await first.text(), '');
    await Promise.all(Array.from({ length: 99 }, post));
    assert.equal(await countA(), 1, '100 replays → one suppression');
    assert.equal(await stack.api.db.suppression.count({ where: { patientId: b.id } }), 0, "A's token does not unsubscribe B");
    const revocations = await stack.api.db.authorizationEnd.findMany({ where: { patientId: a.id } });
    assert.deepEqual(revocations.map((r) => [r.kind, r.source]), [['revocation', 'list-unsubscribe']], 'AUTH-07 default: marketing authorization revoked for email');
    // LOG-01: the patient's own action is on the record once, with the link as its actor.
    const audited = await stack.api.db.auditEvent.findMany({ where: { action: 'suppression.unsubscribe', details: { path: ['patientId'], equals: a.id } } });
    assert.deepEqual(audited.map((e) => [e.principal, e.outcome]), [['patient:unsubscribe-link', 'ok']]);

    // CS-05: no further marketing to A, in any journey; B unaffected; A's own care continues.
    assert.equal((await emit(e2, a.id))[0]!.status, 'not_authorized');
    await result((await emit(e2, b.id))[0]!.workflowId!);
    assert.equal(to(b.email).length, 2);
    await result((await emit(e3, a.id))[0]!.workflowId!);
    assert.deepEqual(to(a.email).map((m) => m.subject), ['News newsletter', 'News care']);
    assert.ok(!to(a.email)[1]!.raw.includes('List-Unsubscribe:'), 'care messages are not commercial');
  });

  it('CS-01 CS-07 a reminder with a promotion above it is sent as commercial: ad label, address, opt-out; an unsubscribed patient does not get it', async () => {
    const [promoEvent, plainEvent] = [`promo.${uid()}`, `plain.${uid()}`];
    const reminder = { subject: 'Your appointment', text: 'Hello {{ patient.givenName }}, see you Tuesday at 10:00.' };
    const promoJourney = await publish(
      build({
        rules: { reentry: { mode: 'always' } },
        nodes: [entry(promoEvent), send('s', { template: 'r' }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: { r: { ...reminder, promotion: { position: 'above', text: 'Whitening: 20% off this month.', html: '<p class="promo">Whitening: 20% off this month.</p>' } } },
      }),
    );
    await publish(build({ nodes: [entry(plainEvent), send('s', { template: 'r' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: { r: reminder } }));
    const shown = await stack.request('GET', `/api/journeys/${promoJourney}`);
    assert.deepEqual(shown.body.sends[0].canSpam, { class: 'commercial', reasons: ['PROMOTION_BEFORE_TRANSACTIONAL_CONTENT'] });

    const p = await patient();
    await result((await emit(promoEvent, p.id))[0]!.workflowId!);
    const mail = to(p.email)[0]!;
    assert.match(mail.text, /^Whitening: 20% off this month\.\s+Hello Cora[0-9a-f]{10}, see you Tuesday/);
    assert.match(mail.html, /<body[^>]*><p class="promo">Whitening/);
    assert.match(mail.text, /Advertisement from Springfield Clinic/);
    assert.match(mail.text, /Springfield Clinic, 1 Main St/);
    const unsubscribe = /^List-Unsubscribe: <([^>]+)>/im.exec(mail.raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1];
    assert.ok(unsubscribe, 'commercial: one-click unsubscribe');
    const post = await fetch(unsubscribe!, { method: 'POST', body: 'List-Unsubscribe=One-Click', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(post.status, 200);

    // Unsubscribed: the promotional version is denied, the plain reminder still goes out.
    assert.equal((await emit(promoEvent, p.id))[0]!.status, 'not_authorized');
    await result((await emit(plainEvent, p.id))[0]!.workflowId!);
    const plain = to(p.email)[1]!;
    assert.equal(plain.subject, 'Your appointment');
    assert.doesNotMatch(plain.text, /Advertisement|20% off/);
    assert.ok(!plain.raw.includes('List-Unsubscribe:'));
  });

  it('CS-01 MIN-01 a promotional block that reads patient data is refused at publish', async () => {
    const res = await stack.request(
      'POST',
      '/api/journeys',
      build({
        nodes: [entry(`p.${uid()}`), send('s', { template: 'r' }), exit()],
        edges: [['start', 's'], ['s', 'done']],
        templates: { r: { subject: 'Your appointment', text: 'See you Tuesday.', promotion: { position: 'below', text: '{{ patient.givenName }}, 20% off whitening' } } },
      }),
    );
    assert.equal(res.status, 400);
    assert.ok(res.body.problems.some((p: any) => p.nodeId === 's' && p.path === 'templates.r.promotion' && /static/.test(p.message)), JSON.stringify(res.body.problems));
  });

  it('RCC-03 an election of unencrypted email is recorded only after the warning and only for the patient\'s own address; sends record it as patient-elected', async () => {
    const p = await patient();
    const url = `/api/patients/${p.id}/unencrypted-email`;
    const election = { kind: 'elected', address: p.email, warnedAt: '2026-12-01T10:00:00Z', warningTextVersion: 'rcc-warning-v1', acceptedAt: '2026-12-01T10:01:00Z', source: 'portal' };
    const third = await stack.request('POST', url, { ...election, address: `caregiver-${uid()}@example.test` });
    assert.equal(third.status, 400);
    assert.deepEqual(third.body.problems.map((x: any) => x.path), ['address']);
    const early = await stack.request('POST', url, { ...election, acceptedAt: '2026-12-01T09:59:00Z' });
    assert.deepEqual(early.body.problems.map((x: any) => x.path), ['acceptedAt']);
    assert.equal((await stack.request('POST', url, { kind: 'elected', address: p.email, source: 'portal' })).status, 400, 'no warning recorded');
    assert.equal((await stack.request('POST', url, { ...election, address: p.email.toUpperCase() })).status, 201);

    const event = `rcc3.${uid()}`;
    await publish(build({ nodes: [entry(event), send('s', { template: 'visit' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: templates('visit') }));
    await result((await emit(event, p.id))[0]!.workflowId!);
    const made = await decisions(p.id);
    assert.deepEqual(made.map((d) => [d.phase, d.reasons]), [
      ['enrollment', ['NO_AUTHORIZATION_NEEDED', 'PATIENT_ELECTED_UNENCRYPTED']],
      ['send', ['NO_AUTHORIZATION_NEEDED', 'PATIENT_ELECTED_UNENCRYPTED']],
    ]);
    const overview = await stack.request('GET', `/api/patients/${p.id}/consent`);
    assert.deepEqual(overview.body.unencryptedEmail.map((e: any) => [e.kind, e.warningTextVersion]), [['elected', 'rcc-warning-v1']]);
  });

  it('AUTH-03 the patient gets a copy of an authorization the covered entity asked for; its delivery is recorded', async () => {
    const p = await patient();
    const res = await stack.request('POST', `/api/patients/${p.id}/authorizations`, authorizationInput({ requestedBy: 'covered_entity' }));
    assert.equal(res.status, 201);
    assert.equal(res.body.copy, 'queued');
    const mail = await stack.inbox.waitFor((m) => m.envelope.to.includes(p.email));
    assert.equal(mail.subject, 'Your copy of the authorization you signed');
    assert.match(mail.text, /Who may receive it: Springfield Clinic/);
    assert.match(mail.text, /You may revoke this authorization at any time/);
    const copy = await eventually(async () => {
      const overview = await stack.request('GET', `/api/patients/${p.id}/consent`);
      const c = overview.body.authorizations[0].copy;
      return c?.status === 'sent' ? c : undefined;
    }, 'the copy to be recorded as sent');
    assert.equal(copy.channel, 'email');
    assert.equal(copy.result, '250');
    assert.ok(Date.parse(copy.copyProvidedAt) > 0);
  });

  it('AUTH-03 a copy that cannot be delivered goes to the staff queue; the authorization stays valid', async () => {
    const p = await patient();
    await stack.request('POST', `/api/patients/${p.id}/directives`, { kind: 'require_portal', source: 'patient letter' });
    const { body } = await stack.request('POST', `/api/patients/${p.id}/authorizations`, authorizationInput({ requestedBy: 'covered_entity' }));
    const failed = await eventually(async () => {
      const queue = await stack.request('GET', '/api/authorization-copies?status=failed');
      return queue.body.find((c: any) => c.authorizationId === body.id);
    }, 'the copy on the staff queue');
    assert.equal(failed.result, 'CONFIDENTIAL_COMMUNICATION_REQUIRES_PORTAL');
    const overview = await stack.request('GET', `/api/patients/${p.id}/consent`);
    assert.deepEqual(overview.body.authorizations[0].ends, [], 'not revoked or ended');
    assert.equal(to(p.email).length, 0, 'never emailed against the directive');
  });

  it('AUTH-09 a patient who came of age: the parent-signed authorization is flagged and not used until the patient signs their own', async () => {
    const event = `maj.${uid()}`;
    await publish(build({ nodes: [entry(event), marketingSend('majority'), exit()], edges: [['start', 'majority'], ['majority', 'done']], templates: templates('majority') }));
    // Eighteen since yesterday (in the covered entity's time zone); the parent signed three days ago.
    const yesterday = localTime(Date.now() - 86_400_000, stack.config.consent.timeZone);
    const birthDate = `${yesterday.year - 18}-${String(yesterday.month).padStart(2, '0')}-${String(yesterday.day).padStart(2, '0')}`;
    const email = plant(`maj-${uid()}@example.test`);
    const p = { id: (await stack.request('POST', '/api/patients', { email, givenName: canary('Mia'), birthDate })).body.id as string, email };
    const parent = { kind: 'personal_representative', name: 'Dana Parent', authorityDescription: 'Mother of the patient', authorityType: 'parent_of_minor' };
    const signedAt = new Date(Date.now() - 3 * 86_400_000).toISOString();
    assert.equal((await stack.request('POST', `/api/patients/${p.id}/authorizations`, authorizationInput({ signer: parent, signedAt }))).status, 201);

    const [refused] = await emit(event, p.id);
    assert.equal(refused!.status, 'not_authorized');
    assert.ok((await decisions(p.id)).some((d) => !d.allow && d.reasons.includes('AUTHORIZATION_REPRESENTATIVE_AUTHORITY_ENDED')));
    const overview = await stack.request('GET', `/api/patients/${p.id}/consent`);
    assert.deepEqual(overview.body.authorizations[0].flags, ['AUTHORIZATION_REPRESENTATIVE_AUTHORITY_ENDED']);
    assert.deepEqual(overview.body.authorizations[0].ends, [], 'flagged, not revoked');

    await authorize(p.id, { signedAt: new Date().toISOString() });
    const [run] = await emit(event, p.id);
    assert.equal(run!.status, 'enrolled');
    await result(run!.workflowId!);
    assert.equal(to(p.email).length, 1, 're-authorized by the patient: sent');
  });

  it('INV-3 MIN-03 publishing is refused for an unclassified step or a diagnosis in the subject, and the refusal is audited', async () => {
    const noPurpose = build({ nodes: [entry(`x.${uid()}`), send('s', { template: 'ok' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: templates('ok') }) as unknown as Record<string, any>;
    delete noPurpose.nodes[1].purpose;
    const refused = await stack.request('POST', '/api/journeys', noPurpose);
    assert.equal(refused.status, 400);
    assert.ok(refused.body.problems.some((p: any) => p.nodeId === 's' && /purpose: is required/.test(p.message)));

    const diagnosis = build({ nodes: [entry(`y.${uid()}`), send('s', { template: 'results' }), exit()], edges: [['start', 's'], ['s', 'done']], templates: { results: { subject: 'Your diabetes test results', text: 'See the portal.' } } });
    const res = await stack.request('POST', '/api/journeys', diagnosis);
    assert.equal(res.status, 400);
    assert.ok(res.body.problems.some((p: any) => p.nodeId === 's' && /MIN-03/.test(p.message)), JSON.stringify(res.body.problems));
    const audit = await stack.api.db.auditEvent.findMany({ where: { action: 'journey.create', outcome: 'refused' }, orderBy: { at: 'desc' }, take: 2 });
    assert.equal(audit.length, 2);
    assert.ok(audit.every((e) => JSON.stringify(e.details).includes('"nodeIds":["s"]')));
  });

  it('AUTH-01 an authorization missing an element is refused through the API, element by element', async () => {
    const p = await patient();
    const input = authorizationInput();
    delete input.disclosers;
    delete input.expiresAt;
    const res = await stack.request('POST', `/api/patients/${p.id}/authorizations`, input);
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'invalid_consent_record');
    assert.ok(res.body.problems.some((x: any) => x.path === 'disclosers'));
    assert.equal((await stack.request('GET', `/api/patients/${p.id}/consent`)).body.authorizations.length, 0);
  });
});
