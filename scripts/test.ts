// `npm test`: starts what the tests need — a Temporal dev server (built from Go modules if
// needed) and a fresh test database — then runs every test file with node's test runner.
// SMTP peers are started by the tests themselves (npm smtp-server). Pass files to run a subset.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { migrate } from '../engine/db/index.ts';
import { newMasterKeys, newPayloadKeys } from '../engine/phi/index.ts';
import { freePort, newAuditKeys, newTrackingKeys, recreateDatabase, withDatabase } from './local-state.ts';
import { DATA_DIR, ROOT } from './paths.ts';
import { ensurePostgres } from './postgres.ts';
import { ensureTemporalCli } from './temporal-cli.ts';
import { startTemporalDevServer } from './temporal-server.ts';

const log = (line: string) => console.log(`[test] ${line}`);

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await testFiles(path.join(ROOT, 'test'));

const cli = await ensureTemporalCli(log);
if (!cli) throw new Error('tests need the Temporal CLI: install Go (to build it) or set TEMPORAL_CLI');
// A file, not memory, so the PHI canary tests can search what Temporal actually stores.
const temporalDb = path.join(DATA_DIR, 'test-temporal.db');
await mkdir(DATA_DIR, { recursive: true });
await Promise.all(['', '-wal', '-shm'].map((suffix) => rm(`${temporalDb}${suffix}`, { force: true })));
const temporal = await startTemporalDevServer({
  cli,
  port: await freePort(),
  headless: true,
  dbFile: temporalDb,
  logFile: path.join(DATA_DIR, 'test-temporal.log'),
  dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 200 },
});
log(`Temporal dev server on ${temporal.address}`);

const postgres = await ensurePostgres(DATA_DIR, log);
const databaseUrl = process.env.HAVEN_TEST_DATABASE_URL ?? withDatabase(postgres.databaseUrl, 'haven_test');
await recreateDatabase(databaseUrl);
await migrate(databaseUrl);
log(`fresh test database ${new URL(databaseUrl).pathname.slice(1)}`);

// Histories recorded for the replay test are encrypted with the committed fixture key.
const payloadKeys =
  process.env.HAVEN_RECORD_HISTORIES === '1' ? (await readFile(path.join(ROOT, 'test/histories/payload-key.txt'), 'utf8')).trim() : newPayloadKeys();

// SEC-11: tests register the canary PHI they plant; every log sink is searched for it at the end.
const canaryFile = path.join(DATA_DIR, 'test-canaries.txt');
const apiLogFile = path.join(DATA_DIR, 'test-api.log');
const outputFile = path.join(DATA_DIR, 'test-output.log');
await Promise.all([canaryFile, apiLogFile, outputFile].map((f) => rm(f, { force: true })));
const output = createWriteStream(outputFile);

const code = await new Promise<number>((resolve) => {
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1',
      // No test may hang CI: each gets five minutes at most.
      '--test-timeout=300000',
      // HAVEN_TEST_PATTERN=regex runs only the tests whose names match.
      ...(process.env.HAVEN_TEST_PATTERN ? [`--test-name-pattern=${process.env.HAVEN_TEST_PATTERN}`] : []),
      ...files,
    ],
    {
      stdio: ['inherit', 'pipe', 'pipe'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: temporal.address,
        TEMPORAL_CLI: cli,
        TEMPORAL_DB_FILE: temporalDb,
        DATABASE_URL: databaseUrl,
        HAVEN_TRACKING_KEYS: newTrackingKeys(),
        HAVEN_PAYLOAD_KEYS: payloadKeys,
        HAVEN_MASTER_KEYS: newMasterKeys(),
        HAVEN_AUDIT_KEYS: newAuditKeys(),
        HAVEN_POSTAL_ADDRESS: 'Haven Test Clinic, 1 Test Street, Springfield, IL 62701',
        HAVEN_CANARY_FILE: canaryFile,
        HAVEN_TEST_LOG_FILE: apiLogFile,
      },
    },
  );
  // What the tests print goes to the terminal and into a file, to be searched afterwards.
  child.stdout!.on('data', (chunk: Buffer) => (process.stdout.write(chunk), output.write(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => (process.stderr.write(chunk), output.write(chunk)));
  child.once('close', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await new Promise((r) => output.end(r));

await temporal.stop();
await postgres.stop();
const leaks = await scanForCanaries(canaryFile, [outputFile, apiLogFile, path.join(DATA_DIR, 'test-temporal.log')]);
process.exit(code || (leaks ? 1 : 0));

/** SEC-11: how many planted canaries appear in the given logs (each hit is reported, by file). */
async function scanForCanaries(listFile: string, logs: string[]): Promise<number> {
  const canaries = existsSync(listFile) ? [...new Set((await readFile(listFile, 'utf8')).split('\n').filter(Boolean))] : [];
  let hits = 0;
  for (const file of logs.filter(existsSync)) {
    const text = await readFile(file, 'utf8');
    const found = canaries.filter((c) => text.includes(c));
    for (const c of found) console.error(`[test] SEC-11 FAIL: canary PHI ${JSON.stringify(c)} found in ${path.relative(ROOT, file)}`);
    hits += found.length;
  }
  log(`SEC-11: searched ${logs.filter(existsSync).length} logs for ${canaries.length} canaries: ${hits} found`);
  return hits;
}

