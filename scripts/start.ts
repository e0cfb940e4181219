// `npm start`: brings up the whole stack on one machine — PostgreSQL (found or embedded),
// migrations, the Temporal dev server with its Web UI, a development inbox, a worker process and
// the API — and prints where everything is. Ctrl-C stops it all; the next start reuses .data/.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../engine/config.ts';
import { migrate } from '../engine/db/index.ts';
import { buildDevInboxHttp, startDevInbox } from '../engine/devinbox/index.ts';
import { createApiProcess } from '../engine/runtime.ts';
import { ensureSearchAttributes } from '../engine/temporal/index.ts';
import { createApiKey, principalFromApiKey } from '../engine/auth/index.ts';
import { createDb } from '../engine/db/index.ts';
import { loadDevSecrets, portInUse, saveDevSecrets } from './local-state.ts';
import { DATA_DIR, ROOT } from './paths.ts';
import { ensurePostgres } from './postgres.ts';
import { ensureTemporalCli } from './temporal-cli.ts';
import { startTemporalDevServer, stopChild, temporalAnswers } from './temporal-server.ts';

const log = (line: string) => console.log(`[haven] ${line}`);
const stops: (() => Promise<void>)[] = [];
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  for (const stop of stops.reverse()) await stop().catch((e: Error) => console.error(`[haven] ${e.message}`));
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0));

try {
  const env: Record<string, string> = {};
  const secrets = await loadDevSecrets(DATA_DIR);
  env.HAVEN_TRACKING_KEYS = process.env.HAVEN_TRACKING_KEYS ?? secrets.trackingKeys;
  env.HAVEN_PAYLOAD_KEYS = process.env.HAVEN_PAYLOAD_KEYS ?? secrets.payloadKeys;
  env.HAVEN_AUDIT_KEYS = process.env.HAVEN_AUDIT_KEYS ?? secrets.auditKeys;
  env.HAVEN_MASTER_KEYS = process.env.HAVEN_MASTER_KEYS ?? secrets.masterKeys;
  // Commercial email must carry a real postal address (CS-07); a placeholder for development.
  env.HAVEN_POSTAL_ADDRESS = process.env.HAVEN_POSTAL_ADDRESS ?? 'Haven Development Clinic, 100 Example Street, Springfield, IL 62701';
  // Security alerts land in the development inbox unless a real privacy officer is named.
  env.HAVEN_PRIVACY_OFFICER_EMAIL = process.env.HAVEN_PRIVACY_OFFICER_EMAIL ?? 'privacy-officer@haven.test';

  const postgres = await ensurePostgres(DATA_DIR, log);
  stops.push(postgres.stop);
  env.DATABASE_URL = postgres.databaseUrl;
  const migrations = await migrate(postgres.databaseUrl);
  log(`PostgreSQL (${postgres.source}): ${migrations.applied.length ? `applied ${migrations.applied.join(', ')}` : 'schema up to date'}`);

  // A development admin API key, kept in .data/secrets.json (only its hash is in the database).
  const db = createDb(postgres.databaseUrl);
  if (!secrets.apiKey || !(await principalFromApiKey(db, `Bearer ${secrets.apiKey}`))) {
    secrets.apiKey = await createApiKey(db, `dev-admin-${Date.now()}`, 'admin');
    await saveDevSecrets(DATA_DIR, secrets);
  }
  await db.$disconnect();

  const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
  let uiUrl = process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${temporalPort + 1000}`;
  if (process.env.TEMPORAL_ADDRESS) {
    env.TEMPORAL_ADDRESS = process.env.TEMPORAL_ADDRESS;
    await ensureSearchAttributes(env.TEMPORAL_ADDRESS, process.env.TEMPORAL_NAMESPACE ?? 'default');
    log(`Temporal: using ${env.TEMPORAL_ADDRESS}`);
  } else if (await temporalAnswers(`127.0.0.1:${temporalPort}`)) {
    env.TEMPORAL_ADDRESS = `127.0.0.1:${temporalPort}`;
    await ensureSearchAttributes(env.TEMPORAL_ADDRESS, 'default');
    log(`Temporal: a server already answers on ${env.TEMPORAL_ADDRESS}; using it`);
  } else {
    const cli = await ensureTemporalCli(log);
    const server = await startTemporalDevServer({
      cli,
      port: temporalPort,
      uiPort: Number(process.env.TEMPORAL_UI_PORT ?? temporalPort + 1000),
      dbFile: path.join(DATA_DIR, 'temporal.sqlite'),
      logFile: path.join(DATA_DIR, 'temporal.log'),
      // The Web UI decodes payloads through Haven's codec server (signed-in compliance users only).
      codecEndpoint: `${process.env.PUBLIC_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`}/codec`,
    });
    stops.push(server.stop);
    env.TEMPORAL_ADDRESS = server.address;
    uiUrl = server.uiUrl ?? uiUrl;
    log(`Temporal dev server on ${server.address}${cli ? '' : ' (downloaded by the Temporal SDK)'}`);
  }
  env.TEMPORAL_UI_URL = uiUrl;

  const links: Record<string, string> = {};
  if (!process.env.SMTP_URL) {
    const smtpPort = Number(process.env.DEV_INBOX_SMTP_PORT ?? 1025);
    const httpPort = Number(process.env.DEV_INBOX_PORT ?? 1080);
    if (await portInUse(smtpPort)) throw new Error(`port ${smtpPort} (dev inbox SMTP) is in use: is another Haven running?`);
    const inbox = await startDevInbox({ port: smtpPort, dir: path.join(DATA_DIR, 'inbox') });
    const inboxHttp = buildDevInboxHttp(inbox);
    await inboxHttp.listen({ host: '127.0.0.1', port: httpPort });
    stops.push(async () => {
      await inboxHttp.close();
      await inbox.close();
    });
    env.SMTP_URL = `smtp://127.0.0.1:${smtpPort}`;
    links['Dev inbox'] = `http://127.0.0.1:${httpPort}`;
  }

  Object.assign(process.env, env);
  const config = loadConfig();

  // The worker runs as its own process, as it would in production.
  // Own process group, like the Temporal server: on Ctrl-C we stop it before the server goes.
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/worker.ts')], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
  });
  process.once('exit', () => worker.kill('SIGKILL'));
  worker.once('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[haven] the worker exited (${signal ?? code}); stopping`);
      void shutdown(1);
    }
  });
  stops.push(() => stopChild(worker));

  if (await portInUse(config.api.port)) throw new Error(`port ${config.api.port} (API) is in use: set PORT or stop the other process`);
  const api = await createApiProcess(config, { logger: process.env.HAVEN_HTTP_LOG === '1', links });
  stops.push(api.close);
  await api.listen();

  log('ready:');
  log(`  API and home page   ${config.api.publicUrl}`);
  log(`  API key (admin)     ${secrets.apiKey}  (also in ${path.join(DATA_DIR, 'secrets.json')})`);
  log(`  Temporal Web UI     ${uiUrl}`);
  if (links['Dev inbox']) log(`  Dev inbox           ${links['Dev inbox']} (SMTP ${env.SMTP_URL})`);
  log(`Ctrl-C stops everything; data stays in ${DATA_DIR}`);
} catch (e) {
  console.error(`[haven] could not start: ${(e as Error).message}`);
  await shutdown(1);
}
