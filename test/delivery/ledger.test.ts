// INV-5 and the sent-ledger: every journey email is recorded under its idempotency key before the
// SMTP call, so no retry, crash or unclear SMTP outcome ever sends it twice. Real Postgres, real
// SMTP peers.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../engine/config.ts';
import { openDatabase } from '../../engine/runtime.ts';
import { startDevInbox, type DevInbox } from '../../engine/devinbox/index.ts';
import { createJourneyEmailSender, createSmtpMailer, createTrackingTokens, type Mailer, type SendHooks } from '../../engine/delivery/index.ts';
import { newPatientRef } from '../../engine/patients/index.ts';
import { validateJourney, type DeliverEmailRequest, type JourneyDefinition } from '../../workflows/index.ts';
import { followUpJourney } from '../support/journeys.ts';
import { reply, startDroppingPeer, startPeer } from '../support/smtp-peers.ts';

const config = loadConfig();
const { db } = openDatabase(config);
const tracking = createTrackingTokens(config.trackingKeys);
const CANARY_NAME = `Zelda${randomBytes(4).toString('hex')}`;

/** `stored` edits the validated definition, as a version stored before a rule existed may differ. */
async function enrollmentFixture(templateText?: string, stored: (definition: any) => void = () => {}) {
  const definition: any = followUpJourney({ event: 'test.ledger' });
  if (templateText) definition.templates.welcome.text = templateText;
  const valid = validateJourney(definition);
  assert.ok(valid.ok);
  stored(valid.definition);
  const email = `ledger-${randomUUID().slice(0, 8)}@example.test`;
  const patient = await db.patient.create({ data: { ref: newPatientRef(), email, givenName: CANARY_NAME } });
  const journey = await db.journey.create({ data: { name: 'ledger', draft: valid.definition as object } });
  const version = await db.journeyVersion.create({
    data: { journeyId: journey.id, version: 1, definition: valid.definition as object, entryEvent: 'test.ledger' },
  });
  const enrollment = await db.enrollment.create({
    data: { journeyId: journey.id, versionId: version.id, patientId: patient.id, ref: patient.ref, workflowId: `jrny:${journey.id}:${patient.ref}`, status: 'active' },
  });
  const request: DeliverEmailRequest = {
    enrollmentId: enrollment.id,
    journeyId: journey.id,
    version: 1,
    nodeId: 'welcome',
    visit: 1,
    template: 'welcome',
    idempotencyKey: `${enrollment.workflowId}:welcome:1`,
  };
  return { email, request, patient };
}

function sender(mailer: Mailer) {
  return createJourneyEmailSender({
    db,
    mailer,
    tracking,
    publicUrl: 'https://haven.example.org',
    from: { name: 'Care Team', address: 'care@haven.test' },
    senderPolicy: { verifiedDomains: ['haven.test'], verifiedNames: [] },
    messageIdDomain: 'haven.test',
    defaultTimeZone: 'UTC',
    postalAddress: 'Haven Test Clinic, 1 Test Street, Springfield',
    adLabel: 'Advertisement',
  });
}

type Gate = SendHooks['gate'];
const allow: Gate = async () => ({ allow: true, reasons: ['NO_AUTHORIZATION_NEEDED'] });

/** The hooks the send activity passes, with a given consent gate (consent is tested elsewhere). */
async function hooksFor(request: DeliverEmailRequest, gate: Gate = allow): Promise<SendHooks> {
  const enrollment = await db.enrollment.findUniqueOrThrow({ where: { id: request.enrollmentId }, include: { patient: true, version: true } });
  const { patient, version } = enrollment;
  return {
    run: { enrollmentId: enrollment.id, patientId: patient.id, version: version.version, definition: version.definition as unknown as JourneyDefinition, timeZone: patient.timezone },
    context: { patient: { givenName: patient.givenName, familyName: patient.familyName } },
    commercial: false,
    gate: async (tx, moment) => ({ ...(await gate(tx, moment)), address: patient.email }),
  };
}

/** Delivery as the send activity calls it, with a consent gate that allows. */
function send(mailer: Mailer) {
  const { deliver } = sender(mailer);
  return async (request: DeliverEmailRequest) => deliver(request, await hooksFor(request));
}

describe('the sent-ledger (INV-5)', () => {
  let inbox: DevInbox;
  let mailer: Mailer;
  before(async () => {
    inbox = await startDevInbox();
    mailer = createSmtpMailer(`smtp://127.0.0.1:${inbox.smtpPort}`);
  });
  after(async () => {
    mailer.close();
    await inbox.close();
    await db.$disconnect();
  });

  it('INV-5 the same idempotency key twice sends one email', async () => {
    const { email, request } = await enrollmentFixture();
    const deliver = send(mailer);
    assert.deepEqual(await deliver(request), { status: 'accepted' });
    assert.deepEqual(await deliver(request), { status: 'accepted' });
    const [a, b] = await Promise.all([deliver(request), deliver(request)]);
    assert.equal(a.status, 'accepted');
    assert.equal(b.status, 'accepted');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inbox.messages.filter((m) => m.envelope.to.includes(email)).length, 1);
    const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    assert.equal(row.status, 'accepted');
    assert.equal(row.attempts, 1);
  });

  it('renders the template, rewrites links to signed tracking URLs and adds the open pixel', async () => {
    const { email, request } = await enrollmentFixture();
    await send(mailer)(request);
    const mail = await inbox.waitFor((m) => m.envelope.to.includes(email));
    const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    assert.equal(mail.subject, 'Welcome to our practice');
    assert.match(mail.text, new RegExp(`Hello ${CANARY_NAME}`));
    assert.equal(mail.messageId, `<${row.smtpMessageId}>`);
    assert.deepEqual(row.links, ['https://portal.example.org/start']);
    const clickUrls = [...mail.html.matchAll(/href="(https:\/\/haven\.example\.org\/t\/c\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(clickUrls.length, 1);
    const claim = tracking.verify(clickUrls[0]!.split('/t/c/')[1]!);
    assert.deepEqual(claim, { kind: 'click', link: 0, trackingId: row.trackingId });
    assert.match(mail.text, /https:\/\/haven\.example\.org\/t\/c\//);
    assert.ok(!mail.text.includes('portal.example.org'), 'text links are tracked too');
    assert.match(mail.html, /<img src="https:\/\/haven\.example\.org\/t\/o\/[^"]+\.gif"/);
    // No PHI in any URL of the message.
    for (const url of mail.html.match(/https?:\/\/[^"'\s<>]+/g) ?? []) {
      assert.ok(!url.includes(CANARY_NAME) && !url.includes(email), url);
    }
  });

  it('escapes patient data in HTML', async () => {
    const { request, patient, email } = await enrollmentFixture();
    await db.patient.update({ where: { id: patient.id }, data: { givenName: '<script>alert(1)</script>' } });
    await send(mailer)(request);
    const mail = await inbox.waitFor((m) => m.envelope.to.includes(email));
    assert.ok(!mail.html.includes('<script>'));
    assert.ok(mail.html.includes('&lt;script&gt;'));
  });

  it('INV-5 an attempt that reached SMTP with an unknown outcome is not sent again: the retry records "uncertain"', async () => {
    const { request } = await enrollmentFixture();
    const peer = await startDroppingPeer();
    const dropping = createSmtpMailer(`smtp://127.0.0.1:${peer.port}`);
    try {
      const deliver = send(dropping);
      await assert.rejects(deliver(request), (e: Error) => {
        assert.ok(!e.message.includes('@'), `no address in the error: ${e.message}`);
        return true;
      });
      assert.equal(peer.received, 1);
      assert.equal((await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } })).status, 'submitted');
      assert.deepEqual(await deliver(request), { status: 'uncertain' });
      assert.equal(peer.received, 1, 'the retry did not send again');
      assert.equal((await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } })).status, 'uncertain');
    } finally {
      dropping.close();
      await peer.close();
    }
  });

  it('a 4xx refusal leaves the message pending for a retry, which then sends it once', async () => {
    const { email, request } = await enrollmentFixture();
    const peer = await startPeer({ onRcptTo: (_a, _s, cb) => cb(reply(451, '4.3.0 try again later')) });
    const deferring = createSmtpMailer(`smtp://127.0.0.1:${peer.port}`);
    try {
      await assert.rejects(send(deferring)(request), /SMTP/);
      const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
      assert.equal(row.status, 'pending');
      assert.deepEqual(await send(mailer)(request), { status: 'accepted' });
      await inbox.waitFor((m) => m.envelope.to.includes(email));
    } finally {
      deferring.close();
      await peer.close();
    }
  });

  it('AUTH-07 a reconsidered send only asks: denied, it closes the pending row and sends nothing; allowed, it is held outside its window and free to go inside it', async () => {
    const { email, request } = await enrollmentFixture();
    const { reconsider } = sender(mailer);
    // Inside its window and still allowed: free to go, and nothing is reserved or sent by asking.
    assert.deepEqual(await reconsider(request, await hooksFor(request)), { status: 'proceed' });
    assert.equal(await db.message.count({ where: { idempotencyKey: request.idempotencyKey } }), 0);
    // A message left pending by an SMTP retry, then consent is withdrawn: denied, and the row says so.
    const peer = await startPeer({ onRcptTo: (_a, _s, cb) => cb(reply(451, '4.3.0 try again later')) });
    const deferring = createSmtpMailer(`smtp://127.0.0.1:${peer.port}`);
    try {
      await assert.rejects(send(deferring)(request), /SMTP/);
    } finally {
      deferring.close();
      await peer.close();
    }
    const revoked: Gate = async () => ({ allow: false, reasons: ['AUTHORIZATION_REVOKED'] });
    assert.deepEqual(await reconsider(request, await hooksFor(request, revoked)), { status: 'denied', reason: 'AUTHORIZATION_REVOKED' });
    const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    assert.equal(row.status, 'denied');
    assert.equal(row.smtpResponse, 'AUTHORIZATION_REVOKED');
    // Outside its window (it closed a minute ago, in UTC): held until it opens, still without sending.
    const m = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
    const hhmm = (x: number) => `${String(Math.floor(((x + 1440) % 1440) / 60)).padStart(2, '0')}:${String((x + 1440) % 60).padStart(2, '0')}`;
    const other = await enrollmentFixture(undefined, (d) => (d.rules.sendWindow = { start: hhmm(m - 60), end: hhmm(m - 1) }));
    const held = await reconsider(other.request, await hooksFor(other.request));
    assert.equal(held.status, 'deferred');
    assert.ok(held.status === 'deferred' && held.until > Date.now() + 22 * 3_600_000, 'until the window opens tomorrow');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(inbox.messages.filter((m) => m.envelope.to.includes(email) || m.envelope.to.includes(other.email)).length, 0);
  });

  it('a 5xx refusal marks the message failed without retrying or quoting the address', async () => {
    const { request, email } = await enrollmentFixture();
    const peer = await startPeer({ onRcptTo: (_a, _s, cb) => cb(reply(550, '5.1.1 no such user')) });
    const refusing = createSmtpMailer(`smtp://127.0.0.1:${peer.port}`);
    try {
      assert.deepEqual(await send(refusing)(request), { status: 'failed' });
      const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
      assert.equal(row.status, 'failed');
      assert.ok(!row.smtpResponse?.includes(email));
      assert.deepEqual(await send(refusing)(request), { status: 'failed' });
      assert.equal(peer.received, 0);
    } finally {
      refusing.close();
      await peer.close();
    }
  });

  it('an unreachable SMTP server leaves the message pending and throws a retryable error', async () => {
    const { request } = await enrollmentFixture();
    const down = createSmtpMailer('smtp://127.0.0.1:1'); // nothing listens on port 1
    try {
      await assert.rejects(send(down)(request), /SMTP/);
      assert.equal((await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } })).status, 'pending');
    } finally {
      down.close();
    }
  });

  it('CS-02 a subject with a line break ("Bob\\r\\nBcc: x@y") is refused before nodemailer sees it', async () => {
    const { email, request } = await enrollmentFixture(undefined, (d) => (d.templates.welcome.subject = 'Hello\r\nBcc: leak@example.test'));
    assert.deepEqual(await send(mailer)(request), { status: 'denied', reason: 'HEADER_INJECTION' });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(inbox.messages.filter((m) => m.envelope.to.includes(email) || m.envelope.to.includes('leak@example.test')).length, 0);
    const row = await db.message.findUniqueOrThrow({ where: { idempotencyKey: request.idempotencyKey } });
    assert.deepEqual([row.status, row.attempts], ['denied', 0]);
  });

  it('CS-02 a sender that is unknown or retired since publishing: the message is denied, never sent from another identity', async () => {
    const retired = `retired-${randomUUID().slice(0, 8)}`;
    await db.sender.create({ data: { id: retired, name: 'Billing', address: 'billing@haven.test', createdBy: 'test', retiredAt: new Date() } });
    for (const sender of [retired, 'never-approved']) {
      const { email, request } = await enrollmentFixture(undefined, (d) => (d.sender = sender));
      assert.deepEqual(await send(mailer)(request), { status: 'denied', reason: 'SENDER_NOT_APPROVED' });
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(inbox.messages.filter((m) => m.envelope.to.includes(email)).length, 0);
    }
  });
});
