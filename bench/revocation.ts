// Revocation under load: N patients each in a marketing journey whose send is waiting (deferred
// outside its send window), then every authorization is revoked, in two phases: first BENCH_STEADY
// of them at a steady BENCH_STEADY_RATE per second while all N runs are in flight, then the rest in
// a storm of BENCH_CONCURRENCY clients revoking as fast as they can. For each revocation:
// - blocked: right after the revocation returns, a probe asks the send gate's decision for that
//   patient now (what any send attempted from then on gets): the time until a send is certainly blocked;
// - denied: the time until the run itself has decided its pending send (the Decision row its activity writes).
// Baseline in the same run: the revocation request itself (durably recorded, runs signalled).
// Starts its own Temporal dev server, database (haven_bench), SMTP sink, the API (in this process)
// and a worker process. JSON on stdout.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApiKey } from '../engine/auth/index.ts';
import { decide, loadConsentFacts } from '../engine/consent/index.ts';
import { loadConfig } from '../engine/config.ts';
import { newMasterKeys, newPayloadKeys } from '../engine/phi/index.ts';
import { startDevInbox } from '../engine/devinbox/index.ts';
import { createApiProcess } from '../engine/runtime.ts';
import { freePort, newAuditKeys, newTrackingKeys } from '../scripts/local-state.ts';
import { DATA_DIR } from '../scripts/paths.ts';
import { ensureTemporalCli } from '../scripts/temporal-cli.ts';
import { startTemporalDevServer } from '../scripts/temporal-server.ts';
import { localTime } from '../workflows/index.ts';
import { freshBenchDatabase } from './database.ts';

const N = Number(process.env.BENCH_JOURNEYS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** Revoked first, at a steady rate, while all N runs are in flight; the rest in a storm after. */
const STEADY = Math.min(N, Number(process.env.BENCH_STEADY ?? 300));
const STEADY_RATE = Number(process.env.BENCH_STEADY_RATE ?? 20);
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}
const sleepUntil = (t: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, t - Date.now())));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1]! };
};

Runtime.install({ logger: new DefaultLogger('ERROR') });
const cli = await ensureTemporalCli(log);
if (!cli) throw new Error('the bench needs the Temporal CLI (Go or TEMPORAL_CLI)');
const temporal = await startTemporalDevServer({ cli, port: await freePort(), headless: true, logFile: path.join(DATA_DIR, 'bench-temporal.log') });
const postgres = await freshBenchDatabase('haven_bench', log);
const { databaseUrl } = postgres;
const inbox = await startDevInbox();
const port = await freePort();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: String(port),
  DATABASE_URL: databaseUrl,
  TEMPORAL_ADDRESS: temporal.address,
  SMTP_URL: `smtp://127.0.0.1:${inbox.smtpPort}`,
  HAVEN_TRACKING_KEYS: newTrackingKeys(),
  HAVEN_PAYLOAD_KEYS: newPayloadKeys(),
  HAVEN_AUDIT_KEYS: newAuditKeys(),
  HAVEN_MASTER_KEYS: newMasterKeys(),
  HAVEN_POSTAL_ADDRESS: 'Bench Clinic, 1 Main St, Springfield, IL 62701',
};
const config = loadConfig(env);
const api = await createApiProcess(config);
await api.listen();
// The worker in its own process, as `npm start` and a deployment run it (not on the API's event loop).
// BENCH_WORKER_FLAGS: extra Node flags for it, e.g. `--cpu-prof` to see where its time goes.
const workerFlags = (process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean);
const worker = spawn(process.execPath, [...workerFlags, '--import', 'tsx', fileURLToPath(new URL('../scripts/worker.ts', import.meta.url))], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const workerExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
await new Promise<void>((resolve, reject) => {
  worker.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
  worker.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('haven worker: ready') && resolve());
});
const workerRss = async () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${worker.pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024);
const workerRssMbIdle = await workerRss();
const base = `http://127.0.0.1:${port}`;
const apiKey = await createApiKey(api.db, `bench-${randomUUID().slice(0, 8)}`, 'admin');
const post = async (p: string, body?: unknown) => {
  const res = await fetch(`${base}${p}`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${p} answered ${res.status}: ${await res.text()}`);
  return res.json() as Promise<any>;
};

try {
  // A window that closed a minute ago (in UTC): every send waits almost a day.
  const now = localTime(Date.now(), 'UTC');
  const m = now.hour * 60 + now.minute;
  const hhmm = (x: number) => `${String(Math.floor(((x + 1440) % 1440) / 60)).padStart(2, '0')}:${String((x + 1440) % 60).padStart(2, '0')}`;
  const event = `bench.${randomUUID().slice(0, 8)}`;
  const journey = await post('/api/journeys', {
    format: 'haven.journey/v1',
    name: 'revocation bench',
    rules: { sendWindow: { start: hhmm(m - 60), end: hhmm(m - 1) } },
    nodes: [
      { id: 'start', type: 'entry', event },
      { id: 'offer', type: 'send_email', template: 'offer', purpose: 'MARKETING', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'broadcast' },
      { id: 'done', type: 'exit' },
    ],
    edges: [{ from: 'start', to: 'offer' }, { from: 'offer', to: 'done' }],
    templates: { offer: { subject: 'Wellness program', text: 'Hello {{ patient.givenName }}, join our wellness program.' } },
  });
  await post(`/api/journeys/${journey.id}/publish`);

  const patients: { id: string; authorization: string }[] = [];
  const enrollStart = Date.now();
  await pool(Array.from({ length: N }, (_, i) => i), CONCURRENCY, async (i) => {
    const p = await post('/api/patients', { email: `bench-${i}@example.test`, givenName: 'Bench', timezone: 'UTC' });
    const a = await post(`/api/patients/${p.id}/authorizations`, {
      infoDescription: 'Name and email, for wellness program news',
      infoCategories: ['patient.givenName'],
      disclosers: ['Bench Clinic'],
      recipients: ['Bench Clinic'],
      purposes: ['MARKETING'],
      channels: ['email'],
      expiresAt: '2030-12-31',
      signedAt: new Date(Date.now() - 60_000).toISOString(),
      signer: { kind: 'self' },
      signature: { method: 'electronic', authenticated: true },
      statements: { revocation: true, conditioning: true, redisclosure: true },
      document: { templateVersion: 'v1', hash: 'c'.repeat(64) },
    });
    const enrolled = await post('/api/events', { name: event, patientId: p.id });
    if (enrolled.enrollments[0]?.status !== 'enrolled') throw new Error(`not enrolled: ${JSON.stringify(enrolled)}`);
    patients.push({ id: p.id, authorization: a.id });
  });
  const enrollSeconds = (Date.now() - enrollStart) / 1_000;
  log(`${N} patients enrolled in ${enrollSeconds.toFixed(1)} s; waiting for every send to be deferred`);
  const query = `JourneyId = "${journey.id}" AND EnrollmentState = "waiting" AND ExecutionStatus = "Running"`;
  for (;;) {
    const { count } = await api.temporal.workflow.count(query);
    if (count >= N) break;
    await new Promise((r) => setTimeout(r, 500));
  }

  // Memory the worker needs to keep every waiting run cached (see HAVEN_WORKER_CACHED_RUNS).
  const workerRssMb = await workerRss();
  const step = { purpose: 'MARKETING', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'broadcast', channel: 'email', fields: ['patient.givenName'] };

  /** Revokes each patient's authorization (`schedule` says when), probes the gate, then waits until every run has denied its send. */
  async function revoke(group: typeof patients, schedule: (tasks: (() => Promise<void>)[]) => Promise<void>, label: string) {
    const requested = new Map<string, number>();
    const recorded: number[] = [];
    const probed: number[] = [];
    let probesAllowed = 0;
    const began = Date.now();
    await schedule(
      group.map((p) => async () => {
        const t = Date.now();
        requested.set(p.id, t);
        await post(`/api/patients/${p.id}/authorizations/${p.authorization}/revoke`, { source: 'bench' });
        recorded.push(Date.now() - t);
        if (decide(step, await loadConsentFacts(api.db, p.id), config.consent, new Date()).allow) probesAllowed++;
        probed.push(Date.now() - t);
      }),
    );
    const seconds = (Date.now() - began) / 1_000;
    log(`${label}: ${group.length} revoked in ${seconds.toFixed(1)} s; waiting for every pending send to be denied`);
    let blocked: { patientId: string; at: Date }[] = [];
    for (;;) {
      blocked = await api.db.decision.findMany({
        where: { phase: 'send', allow: false, reasons: { has: 'AUTHORIZATION_REVOKED' }, patientId: { in: [...requested.keys()] } },
        select: { patientId: true, at: true },
      });
      if (blocked.length >= group.length || Date.now() - began > 300_000) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const denied = blocked.map((b) => b.at.getTime() - requested.get(b.patientId)!);
    return {
      revocations: group.length,
      revocationsPerSecond: +(group.length / seconds).toFixed(1),
      baselineRevocationRecordedMs: summary(recorded),
      revocationToSendBlockedMs: summary(probed),
      probesAllowedAfterRevocation: probesAllowed,
      revocationToSendDeniedMs: summary(denied),
      ratioDeniedP99ToBaselineP99: +(summary(denied).p99 / summary(recorded).p99).toFixed(2),
      allDeniedSeconds: +((Math.max(...blocked.map((b) => b.at.getTime())) - began) / 1_000).toFixed(1),
    };
  }

  // Steady: revocations arriving on their own schedule (open loop), every run still in flight.
  const steadyGroup = patients.slice(0, STEADY);
  const atSteadyRate = (tasks: (() => Promise<void>)[]) => {
    const t0 = Date.now();
    return Promise.all(tasks.map(async (task, i) => (await sleepUntil(t0 + (i * 1_000) / STEADY_RATE), task()))).then(() => undefined);
  };
  const steady = { ratePerSecond: STEADY_RATE, ...(await revoke(steadyGroup, atSteadyRate, 'steady')) };
  // Storm: the rest revoked as fast as CONCURRENCY clients can, beyond what this machine absorbs.
  const stormGroup = patients.slice(STEADY);
  const storm = { concurrency: CONCURRENCY, ...(await revoke(stormGroup, (tasks) => pool(tasks, CONCURRENCY, (task) => task()), 'storm')) };

  const sent = inbox.messages.filter((m) => m.subject === 'Wellness program').length; // not the authorization copies
  const result = {
    node: process.version,
    journeysInFlight: N,
    workerMemory: { idleRssMb: workerRssMbIdle, rssMbWithAllRunsCached: workerRssMb, kbPerCachedRun: Math.round(((workerRssMb - workerRssMbIdle) * 1024) / N) },
    enrollment: { seconds: +enrollSeconds.toFixed(1), perSecond: +(N / enrollSeconds).toFixed(1) },
    steady,
    storm,
    emailsSent: sent,
    goal: 'p99 revocation → pending sends blocked < 1000 ms. Blocked: any send from then on is denied (the probe asks the gate right after the revocation returns). Denied: the run itself has decided its pending send.',
  };
  console.log(JSON.stringify(result, null, 2));
} finally {
  worker.kill('SIGTERM');
  await workerExited;
  await api.close();
  await inbox.close();
  await temporal.stop();
  await postgres.stop();
}
