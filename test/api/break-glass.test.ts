// SEC-02 emergency access and LOG-03 alerting: a person whose role has no PHI access may break the
// glass — with a reason, for a time box that lapses by itself — and every request under it is
// logged as break-glass while the privacy officer gets an alert (by email, without the reason or
// any patient). One principal reading hundreds of patients' records in minutes raises an alert too.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { payloadsToJson } from '../../engine/api/codec-json.ts';
import { PayloadEncryptionCodec } from '../../engine/phi/index.ts';
import { checkDenySpike, parseBusinessHours, withinBusinessHours } from '../../engine/alerts/index.ts';
import { gate } from '../../engine/consent/index.ts';
import { sqlAt } from '../support/scratch-db.ts';
import { signedIn } from '../support/people.ts';
import { startStack, type Stack } from '../support/stack.ts';

const PRIVACY_OFFICER = 'privacy.officer@clinic.example';
const REASON = 'Unconscious patient in ED, Dr. Canary-Vance needs consent history';

describe('break-glass and alerts (SEC-02, LOG-03)', () => {
  let stack: Stack;
  let patientId: string;
  let patientEmail: string;
  before(async () => {
    // Business hours that exclude this very moment, so a person's read now is "after hours".
    const hour = Number(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
    const at = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
    stack = await startStack({
      env: { HAVEN_PRIVACY_OFFICER_EMAIL: PRIVACY_OFFICER, HAVEN_DEFAULT_TIMEZONE: 'UTC', HAVEN_BUSINESS_HOURS: `${at(hour + 2)}-${at(hour + 3)}`, HAVEN_ALERT_DENIALS: '30' },
    });
    patientEmail = `bg-${randomUUID()}@example.test`;
    patientId = (await stack.request('POST', '/api/patients', { email: patientEmail })).body.id;
  });
  after(() => stack.close());

  const consentOf = (id: string) => `/api/patients/${id}/consent`;
  const alertMail = (principal: string, subject: RegExp) =>
    stack.inbox.waitFor((m) => m.to.includes(PRIVACY_OFFICER) && m.text.includes(principal) && subject.test(m.subject), 10_000);

  it('SEC-02 break-glass without a reason is refused; API keys and roles that already see PHI cannot break it', async () => {
    const operator = await signedIn(stack, 'operator');
    assert.equal((await operator.call('POST', '/api/break-glass', {})).status, 400);
    const short = await operator.call('POST', '/api/break-glass', { reason: 'because' });
    assert.equal(short.status, 400);
    assert.equal(short.body.error, 'reason_required');
    assert.equal((await operator.call('GET', consentOf(patientId))).status, 403, 'no elevation came of it');
    const byKey = await stack.request('POST', '/api/break-glass', { reason: REASON }, await stack.keyFor('operator'));
    assert.equal(byKey.status, 403);
    assert.equal(byKey.body.error, 'not_a_person');
    assert.equal((await (await signedIn(stack, 'compliance')).call('POST', '/api/break-glass', { reason: REASON })).status, 409);
    const refused = await stack.api.db.auditEvent.count({ where: { principal: operator.principal, action: 'break_glass.start', outcome: 'refused' } });
    assert.equal(refused, 2);
  });

  it('SEC-02 an elevation opens PHI reads for its time box, logs each one, alerts the privacy officer and expires by itself', async () => {
    const operator = await signedIn(stack, 'operator');
    assert.equal((await operator.call('GET', consentOf(patientId))).status, 403);
    const started = await operator.call('POST', '/api/break-glass', { reason: REASON, minutes: 0.05 });
    assert.equal(started.status, 201);
    const read = await operator.call('GET', consentOf(patientId));
    assert.equal(read.status, 200);
    // Heavy logging: the read names the elevation it ran under.
    const logged = await stack.api.db.auditEvent.findFirstOrThrow({ where: { principal: operator.principal, action: 'consent.read' }, orderBy: { seq: 'desc' } });
    assert.equal((logged.details as { breakGlass?: string }).breakGlass, started.body.id);
    // The alert: listed for review, and emailed — naming who and when, never the reason or the patient.
    const alert = await stack.api.db.alert.findFirstOrThrow({ where: { kind: 'break_glass', principal: operator.principal } });
    const mail = await alertMail(operator.principal, /break-glass/);
    for (const leak of ['Canary-Vance', 'Unconscious', patientId, patientEmail]) {
      assert.ok(!mail.raw.includes(leak), `alert email leaks ${leak}`);
      assert.ok(!JSON.stringify(alert).includes(leak));
    }
    const startEvent = await stack.api.db.auditEvent.findFirstOrThrow({ where: { principal: operator.principal, action: 'break_glass.start', outcome: 'ok' } });
    assert.ok(!JSON.stringify(startEvent.details).includes('Canary-Vance'));
    // The reason is kept for the privacy officer, sealed at rest.
    const [row] = await sqlAt(stack.config.databaseUrl, 'SELECT reason FROM "BreakGlass" WHERE id = $1', [started.body.id]);
    assert.match(String(row!.reason), /^hv1:/);
    const listed = await stack.request('GET', '/api/break-glass', undefined, await stack.keyFor('compliance'));
    assert.equal(listed.body.find((b: { id: string }) => b.id === started.body.id).reason, REASON);
    // An auditor reviews who broke the glass and when, but not the free text (it may name a patient).
    const reviewed = await stack.request('GET', '/api/break-glass', undefined, await stack.keyFor('auditor'));
    const seen = reviewed.body.find((b: { id: string }) => b.id === started.body.id);
    assert.equal(seen.principal, operator.principal);
    assert.equal(seen.reason, null);
    // Three seconds later it has lapsed on its own.
    await sleep(Math.max(0, new Date(started.body.expiresAt).getTime() - Date.now()) + 300);
    assert.equal((await operator.call('GET', consentOf(patientId))).status, 403);
  });

  it('SEC-02 an elevation ends early at its holder\'s word, and nobody else\'s', async () => {
    const a = await signedIn(stack, 'designer');
    const b = await signedIn(stack, 'designer');
    const started = await a.call('POST', '/api/break-glass', { reason: REASON });
    assert.equal((await a.call('GET', consentOf(patientId))).status, 200);
    // The codec server (PHI in Temporal payloads) opens too, and its decode is logged as break-glass.
    const payloads = payloadsToJson(await new PayloadEncryptionCodec(stack.config.payloadKeys).encode([defaultPayloadConverter.toPayload({ note: 'x' })!]));
    assert.equal((await a.call('POST', '/codec/decode', payloads)).status, 200);
    const decoded = await stack.api.db.auditEvent.findFirstOrThrow({ where: { principal: a.principal, action: 'break_glass.access', objectId: 'POST /codec/decode' } });
    assert.equal((decoded.details as { breakGlass?: string }).breakGlass, started.body.id);
    assert.equal((await b.call('POST', '/codec/decode', payloads)).status, 403, 'the other designer has no elevation');
    assert.equal((await b.call('POST', `/api/break-glass/${started.body.id}/end`, {})).status, 404);
    assert.equal((await a.call('GET', consentOf(patientId))).status, 200);
    assert.equal((await a.call('POST', `/api/break-glass/${started.body.id}/end`, {})).status, 204);
    assert.equal((await a.call('GET', consentOf(patientId))).status, 403);
    await assert.rejects(stack.api.db.breakGlass.update({ where: { id: started.body.id }, data: { reason: 'rewritten later' } }), /only be ended/);
  });

  it('LOG-03 one user reading 500 patients\' records in five minutes raises one alert, which compliance acknowledges', async () => {
    const reader = await stack.keyFor('compliance');
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const made = await Promise.all(Array.from({ length: 50 }, () => stack.api.db.patient.create({ data: { ref: `r-${randomUUID()}`, email: `bulk-${randomUUID()}@example.test` } })));
      ids.push(...made.map((p) => p.id));
    }
    const principal = (await stack.request('GET', '/api/auth/me', undefined, reader)).body.principal as string;
    for (let i = 0; i < ids.length; i += 25) {
      const statuses = await Promise.all(ids.slice(i, i + 25).map(async (id) => (await stack.request('GET', consentOf(id), undefined, reader)).status));
      assert.ok(statuses.every((s) => s === 200));
      // Below the threshold (200 distinct patients by default) nothing is raised.
      if (i + 25 < 200) assert.equal(await stack.api.db.alert.count({ where: { kind: 'read_volume', principal } }), 0);
    }
    const alerts = await stack.api.db.alert.findMany({ where: { kind: 'read_volume', principal } });
    assert.equal(alerts.length, 1, 'one alert per window, not one per read');
    assert.ok((alerts[0]!.details as { patients: number }).patients >= 200);
    await alertMail(principal, /unusual number of patient records/);
    // Review: an auditor may list alerts but not close them; compliance acknowledges.
    const auditor = await stack.keyFor('auditor');
    const open = await stack.request('GET', '/api/alerts?open=true', undefined, auditor);
    assert.ok(open.body.some((a: { id: string }) => a.id === alerts[0]!.id));
    assert.equal((await stack.request('POST', `/api/alerts/${alerts[0]!.id}/acknowledge`, {}, auditor)).status, 403);
    assert.equal((await stack.request('POST', `/api/alerts/${alerts[0]!.id}/acknowledge`, {}, reader)).status, 200);
    assert.equal((await stack.request('POST', `/api/alerts/${alerts[0]!.id}/acknowledge`, {}, reader)).status, 404);
    const after = await stack.request('GET', '/api/alerts?open=true', undefined, auditor);
    assert.ok(!after.body.some((a: { id: string }) => a.id === alerts[0]!.id));
  });

  it('LOG-03 a person reading a record outside business hours raises an alert; a service does not', async () => {
    const nurse = await signedIn(stack, 'compliance');
    assert.equal((await nurse.call('GET', consentOf(patientId))).status, 200);
    const alert = await stack.api.db.alert.findFirst({ where: { kind: 'after_hours', principal: nurse.principal } });
    assert.ok(alert, 'after-hours read by a person is flagged');
    await alertMail(nurse.principal, /outside business hours/);
    const service = await stack.keyFor('compliance');
    const servicePrincipal = (await stack.request('GET', '/api/auth/me', undefined, service)).body.principal as string;
    assert.equal((await stack.request('GET', consentOf(patientId), undefined, service)).status, 200);
    assert.equal(await stack.api.db.alert.count({ where: { kind: 'after_hours', principal: servicePrincipal } }), 0, 'integrations run around the clock');
  });

  it('LOG-03 business hours: weekdays only, overnight windows wrap', () => {
    const ny = parseBusinessHours('07:00-19:00', 'America/New_York')!;
    assert.equal(withinBusinessHours(ny, new Date('2026-12-04T15:00:00Z')), true, 'Friday 10:00 in New York');
    assert.equal(withinBusinessHours(ny, new Date('2026-12-05T15:00:00Z')), false, 'Saturday');
    assert.equal(withinBusinessHours(ny, new Date('2026-12-04T01:00:00Z')), false, 'Thursday 20:00');
    const nights = parseBusinessHours('22:00-06:00', 'UTC')!;
    assert.equal(withinBusinessHours(nights, new Date('2026-12-03T23:30:00Z')), true);
    assert.equal(withinBusinessHours(nights, new Date('2026-12-03T12:00:00Z')), false);
    assert.throws(() => parseBusinessHours('7-19', 'UTC'), /HAVEN_BUSINESS_HOURS/);
  });

  it('LOG-03 a spike of consent denials across the deployment raises one alert per window', async () => {
    const settings = { postalAddress: 'x', nppFundraisingStatement: false, timeZone: 'UTC' };
    const step = { purpose: 'MARKETING', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'broadcast', channel: 'email', fields: ['patient.givenName'] };
    for (let i = 0; i < 30; i++) {
      const denied = await gate(stack.api.db, settings, { patientId, phase: 'send', step, principal: 'test' });
      assert.equal(denied.allow, false, 'no marketing authorization');
    }
    await checkDenySpike(stack.api.db, null, stack.config.alerts.denySpike);
    await checkDenySpike(stack.api.db, null, stack.config.alerts.denySpike);
    const spikes = await stack.api.db.alert.findMany({ where: { kind: 'deny_spike' } });
    assert.equal(spikes.length, 1);
    assert.ok((spikes[0]!.details as { denials: number }).denials >= 30);
  });
});
