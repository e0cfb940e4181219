// `npm start` as a new user runs it: the whole stack comes up with one command (its own Temporal
// dev server with the Web UI, dev inbox, worker process, API), runs a journey, stops cleanly on
// Ctrl-C, and a second start reuses the data.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, portInUse } from '../../scripts/local-state.ts';
import { eventually, pixelUrl } from '../support/stack.ts';
import { followUpJourney } from '../support/journeys.ts';

const START = fileURLToPath(new URL('../../scripts/start.ts', import.meta.url));

describe('npm start', () => {
  let dataDir: string;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function start(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; output: () => string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', START], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    await eventually(async () => (output.includes('[haven] ready') ? true : undefined), `npm start to be ready:\n${output}`, 120_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${output}`);
      },
    );
    return { child, output: () => output };
  }

  async function stop(child: ChildProcess): Promise<number | null> {
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }

  it('SEC-11 brings up the stack, runs a journey with request logs on and no PHI in them, stops on Ctrl-C and restarts on the same data', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'haven-start-'));
    const ports = { api: await freePort(), temporal: await freePort(), ui: await freePort(), smtp: await freePort(), inbox: await freePort() };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HAVEN_DATA_DIR: dataDir,
      PORT: String(ports.api),
      TEMPORAL_PORT: String(ports.temporal),
      TEMPORAL_UI_PORT: String(ports.ui),
      DEV_INBOX_SMTP_PORT: String(ports.smtp),
      DEV_INBOX_PORT: String(ports.inbox),
      HAVEN_HTTP_LOG: '1', // request logs on: they must still carry no PHI (SEC-11)
    };
    for (const inherited of ['TEMPORAL_ADDRESS', 'HAVEN_TRACKING_KEYS', 'HAVEN_PAYLOAD_KEYS', 'HAVEN_AUDIT_KEYS', 'SMTP_URL', 'PUBLIC_URL']) delete env[inherited];

    const first = await start(env);
    const api = `http://127.0.0.1:${ports.api}`;
    assert.match(first.output(), new RegExp(`Temporal Web UI\\s+http://127.0.0.1:${ports.ui}`));
    assert.match(first.output(), new RegExp(`Dev inbox\\s+http://127.0.0.1:${ports.inbox}`));
    assert.equal((await fetch(`${api}/healthz`)).status, 200);
    assert.match(await (await fetch(`${api}/`)).text(), /Dev inbox/);
    assert.equal((await fetch(`http://127.0.0.1:${ports.ui}/`)).status, 200, 'Temporal Web UI answers');

    // A journey through the started stack: its worker process and its dev inbox, with the
    // development admin key npm start printed and kept in the data folder.
    const apiKey = /API key \(admin\)\s+(hk_\S+)/.exec(first.output())?.[1];
    assert.ok(apiKey, 'npm start prints an API key');
    assert.equal((JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as { apiKey: string }).apiKey, apiKey);
    assert.equal((await fetch(`${api}/api/journeys`)).status, 401, 'the API needs the key');
    const event = `start.${randomUUID().slice(0, 8)}`;
    const json = { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` };
    const journey = await (await fetch(`${api}/api/journeys`, { method: 'POST', headers: json, body: JSON.stringify(followUpJourney({ event, timeout: 'PT30S' })) })).json() as { id: string };
    await fetch(`${api}/api/journeys/${journey.id}/publish`, { method: 'POST', headers: { authorization: json.authorization } });
    const email = `start-${randomUUID().slice(0, 8)}@example.test`;
    const canaryName = `Nia${randomUUID().slice(0, 6)}`;
    const patient = await (await fetch(`${api}/api/patients`, { method: 'POST', headers: json, body: JSON.stringify({ email, givenName: canaryName }) })).json() as { id: string };
    await fetch(`${api}/api/events`, { method: 'POST', headers: json, body: JSON.stringify({ name: event, patientId: patient.id }) });
    const inboxApi = `http://127.0.0.1:${ports.inbox}/api/messages`;
    type Listed = { id: number; to: string; subject: string; html: string };
    const welcome = await eventually(async () => {
      const list = (await (await fetch(inboxApi)).json()) as Listed[];
      return list.find((m) => m.to.includes(email));
    }, 'the welcome email in the dev inbox');
    assert.equal((await fetch(`http://127.0.0.1:${ports.inbox}/messages/${welcome.id}`)).status, 200);
    await fetch(pixelUrl(welcome.html));
    await eventually(async () => {
      const list = (await (await fetch(inboxApi)).json()) as Listed[];
      return list.find((m) => m.to.includes(email) && m.subject === 'Getting the most from your portal');
    }, 'the opened-branch email');

    assert.equal(await stop(first.child), 0);
    // SEC-11: everything the stack printed — API request logs, worker, Temporal — is free of PHI.
    assert.match(first.output(), /"route":"\/api\/patients"/, 'request logs were on');
    for (const phi of [email, canaryName]) assert.ok(!first.output().includes(phi), `PHI in the logs: ${phi}`);
    for (const port of Object.values(ports)) assert.equal(await portInUse(port), false, `port ${port} released`);
    assert.ok((await readdir(dataDir)).includes('temporal.sqlite'));

    // Second start: same data — the inbox kept its mail, Temporal its history.
    const second = await start(env);
    const kept = (await (await fetch(inboxApi)).json()) as Listed[];
    assert.equal(kept.filter((m) => m.to.includes(email)).length, 2);
    assert.match(second.output(), new RegExp(apiKey!), 'the same key after a restart');
    const runs = await (await fetch(`${api}/api/journeys/${journey.id}/enrollments`, { headers: json })).json() as { workflowId: string }[];
    const { Connection, Client } = await import('@temporalio/client');
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      // The run may have been stopped between its last email and its end: the restarted worker finishes it.
      const handle = new Client({ connection }).workflow.getHandle(runs[0]!.workflowId);
      await eventually(async () => ((await handle.describe()).status.name === 'COMPLETED' ? true : undefined), 'the run to complete');
    } finally {
      await connection.close();
    }
    assert.equal(await stop(second.child), 0);
  });
});
