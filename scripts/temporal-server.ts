// Runs `temporal server start-dev` (SQLite file, Web UI) for `npm start` and `npm test`, and
// registers Haven's search attributes — also on an existing database, where start-dev ignores
// its --search-attribute flags. Without a CLI (no Go either), falls back to the SDK's own
// dev-server download, which needs internet access.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureSearchAttributes, SEARCH_ATTRIBUTE_KEYS, SEARCH_ATTRIBUTES } from '../engine/temporal/index.ts';

export interface DevServerOptions {
  cli: string | null;
  port: number;
  uiPort?: number;
  headless?: boolean;
  /** SQLite file; in memory when omitted. */
  dbFile?: string;
  codecEndpoint?: string;
  dynamicConfig?: Record<string, string | number | boolean>;
  logFile?: string;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  stop(): Promise<void>;
}

const IP = '127.0.0.1';

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const address = `${IP}:${options.port}`;
  const uiPort = options.uiPort ?? options.port + 1000;
  const uiUrl = options.headless ? null : `http://${IP}:${uiPort}`;
  const dynamic = Object.entries(options.dynamicConfig ?? {}).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]);
  const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `${name}=${type}`);

  if (!options.cli) {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        ip: IP,
        port: options.port,
        ui: !options.headless,
        uiPort,
        dbFilename: options.dbFile,
        searchAttributes: SEARCH_ATTRIBUTE_KEYS,
        extraArgs: dynamic,
      },
    });
    await ensureSearchAttributes(address, 'default');
    return { address, uiUrl, stop: () => env.teardown() };
  }

  const args = [
    'server', 'start-dev',
    '--ip', IP,
    '--port', String(options.port),
    '--log-level', 'warn',
    ...(options.headless ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(options.dbFile ? ['--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', 'synchronous=NORMAL'] : []),
    ...(options.codecEndpoint ? ['--ui-codec-endpoint', options.codecEndpoint] : []),
    ...searchAttributes.flatMap((s) => ['--search-attribute', s]),
    ...dynamic,
  ];
  // Own process group: a terminal's Ctrl-C reaches only our parent, which stops the server last.
  const child = spawn(options.cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  if (options.logFile) mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : null;
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      log?.write(chunk);
      if (output.length < 20_000) output += chunk.toString();
    });
  }
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    await waitUntilServing(address, child, () => output);
    await ensureSearchAttributes(address, 'default');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    address,
    uiUrl,
    async stop() {
      process.removeListener('exit', killOnExit);
      await stopChild(child);
      log?.end();
    },
  };
}

/** True when a Temporal frontend answers at `address`. */
export async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

async function waitUntilServing(address: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited (${child.exitCode}):\n${output()}`);
    if (await temporalAnswers(address)) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`temporal server start-dev did not answer on ${address} within 60 s:\n${output()}`);
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
