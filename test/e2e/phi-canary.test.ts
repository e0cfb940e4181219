// SEC-10, SEC-04: canary PHI planted in a patient, the trigger data and the templates never reaches
// Temporal in plaintext — not in history (inputs, results, signals), not in failures, not in
// visibility, not in the SQLite file the server keeps — nor a PostgreSQL dump, nor a URL in the
// email. Read back raw, the way anyone with server or backup access would.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import https from 'node:https';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { build, entry, exit, send } from '../support/build.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { canary, canaryEmail, plant } from '../support/canary.ts';

const run = promisify(execFile);

describe('SEC-10 SEC-04 INV-4 no plaintext PHI in Temporal, in a database dump or in URLs', () => {
  let stack: Stack;
  let hooks: https.Server;
  let hookUrl: string;
  const certDir = mkdtempSync(path.join(tmpdir(), 'haven-canary-'));
  before(async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', path.join(certDir, 'key.pem'), '-out', path.join(certDir, 'cert.pem')], { stdio: 'ignore' });
    // A webhook receiver that always fails: its activity failure lands in history.
    hooks = https.createServer({ key: readFileSync(path.join(certDir, 'key.pem')), cert: readFileSync(path.join(certDir, 'cert.pem')) }, (_req, res) => res.writeHead(500).end());
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
    hookUrl = `https://127.0.0.1:${(hooks.address() as { port: number }).port}/hook`;
    stack = await startStack({ env: { HAVEN_WEBHOOK_CA_FILE: path.join(certDir, 'cert.pem') } });
    await stack.startWorker();
  });
  after(async () => {
    await stack.close();
    hooks.close();
  });

  it('SEC-10 INV-4 canaries in the patient, trigger data and templates appear nowhere in raw history or visibility; failures are encoded', async () => {
    const [name, email, diagnosis, templateText] = [canary('Zed'), canaryEmail(), canary('DX'), canary('TPL')];
    const ssn = plant(`9${randomInt(10, 99)}-${randomInt(10, 99)}-${randomInt(1000, 9999)}`);
    const event = `canary.${randomBytes(3).toString('hex')}`;
    const definition = build({
      data: { trigger: { dx: 'string' } },
      nodes: [
        entry(event),
        { id: 'c', type: 'condition', when: `trigger.dx == "${diagnosis}"` },
        send('s', { template: 'note' }),
        { id: 'h', type: 'webhook', url: hookUrl },
        exit(),
      ],
      edges: [['start', 'c'], ['c', 's', 'true'], ['c', 'h', 'false'], ['s', 'h'], ['h', 'done']],
      templates: {
        note: {
          subject: 'A note from your care team',
          text: `Dear {{ patient.givenName }}, ${templateText}`,
          html: `<p>Dear {{ patient.givenName }}, ${templateText} <a href="https://portal.example/visits">your visits</a></p>`,
        },
      },
    });
    const journey = await stack.request('POST', '/api/journeys', definition);
    await stack.request('POST', `/api/journeys/${journey.body.id}/publish`);
    const patient = await stack.request('POST', '/api/patients', { email, givenName: name, attributes: { ssn } });
    const events = await stack.request('POST', '/api/events', { name: event, patientId: patient.body.id, data: { dx: diagnosis } });
    const { workflowId } = events.body.enrollments[0];
    const mail = await stack.inbox.waitFor((m) => m.envelope.to.includes(email));
    assert.match(mail.text, new RegExp(name), 'the patient did get their personal message');
    assert.equal((await stack.api.temporal.workflow.getHandle(workflowId).result()).outcome, 'completed');

    const cli = process.env.TEMPORAL_CLI!;
    const address = ['--address', process.env.TEMPORAL_ADDRESS!];
    const history = (await run(cli, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', ...address], { maxBuffer: 32 * 1024 * 1024 })).stdout;
    const visibility = (await run(cli, ['workflow', 'list', '--query', `WorkflowId = "${workflowId}"`, '--output', 'json', ...address])).stdout;
    for (const [label, value] of Object.entries({ name, email, diagnosis, templateText })) {
      assert.ok(!history.includes(value), `${label} found in raw history`);
      assert.ok(!visibility.includes(value), `${label} found in visibility`);
      assert.ok(!workflowId.includes(value), `${label} in the workflow id`);
    }
    assert.ok(history.includes('binary/encrypted') || history.includes('YmluYXJ5L2VuY3J5cHRlZA=='), 'payloads are encrypted');
    // The webhook failed for good: its failure is in history, with the message encoded.
    const failed = JSON.parse(history).events.filter((e: { eventType: string }) => /ACTIVITY_TASK_FAILED|ActivityTaskFailed/.test(e.eventType));
    assert.ok(failed.length >= 1, 'an activity failure was recorded');
    for (const e of failed) assert.equal(e.activityTaskFailedEventAttributes.failure.message, 'Encoded failure');
    // What the Temporal server keeps on disk, and its log.
    const stored = ['', '-wal'].map((suffix) => `${process.env.TEMPORAL_DB_FILE}${suffix}`).filter(existsSync).map((f) => readFileSync(f));
    assert.ok(stored.length > 0 && stored[0]!.length > 0, 'the Temporal SQLite file exists');
    stored.push(readFileSync(path.join(process.env.TEMPORAL_DB_FILE!, '../test-temporal.log')));
    for (const [label, value] of Object.entries({ name, email, diagnosis, templateText, ssn })) {
      assert.ok(!stored.some((bytes) => bytes.includes(value)), `${label} found in Temporal's database or log`);
    }

    // SEC-04 a dump of the whole database holds no patient identifier; outside the journey
    // definitions (which compare with the diagnosis), no diagnosis either.
    const dump = (...args: string[]) => run('pg_dump', ['--data-only', `--dbname=${process.env.DATABASE_URL}`, ...args], { maxBuffer: 256 * 1024 * 1024 });
    const full = (await dump()).stdout;
    assert.ok(full.includes(workflowId), 'the dump holds this run');
    for (const [label, value] of Object.entries({ name, email, ssn })) assert.ok(!full.includes(value), `${label} in a database dump`);
    assert.ok(!(await dump('--exclude-table-data="Journey"', '--exclude-table-data="JourneyVersion"')).stdout.includes(diagnosis), 'diagnosis in a database dump');

    // No URL in the email carries PHI (links, open pixel, unsubscribe), nor the envelope.
    const headers = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
    const urls = [...`${headers}\n${mail.html}\n${mail.text}`.matchAll(/https?:\/\/[^\s"'<>)]+/g)].map((m) => m[0]);
    assert.ok(urls.length >= 2, 'the email has tracked URLs');
    for (const value of [name, email, diagnosis, ssn, encodeURIComponent(email)]) assert.ok(!urls.some((u) => u.includes(value)), 'PHI in a URL');
    assert.ok(!mail.envelope.from.includes(email));

    // Through Haven's codec server, a principal allowed to see PHI gets the payloads whole again;
    // one who is not gets nothing decoded.
    const viaCodec = async (role: 'compliance' | 'operator') =>
      run(cli, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', ...address,
        '--codec-endpoint', `${stack.baseUrl}/codec`, '--codec-auth', `Bearer ${await stack.keyFor(role)}`], { maxBuffer: 32 * 1024 * 1024 });
    const decoded = JSON.parse((await viaCodec('compliance')).stdout).events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    assert.equal(Buffer.from(decoded.metadata.encoding, 'base64').toString(), 'json/plain', 'decoded for compliance');
    assert.ok(Buffer.from(decoded.data, 'base64').toString().includes(templateText));
    await assert.rejects(viaCodec('operator'), 'the codec server refuses a role without PHI access');
  });
});
