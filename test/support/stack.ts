// A Haven stack for integration tests, on the Temporal server and database that `npm test`
// started: a real SMTP peer (the dev inbox), the API on a free port, and a worker — in-process,
// or as a child process that a test may SIGKILL. Task queues are unique per stack, so runs from
// other test files never reach these workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadConfig, type HavenConfig } from '../../engine/config.ts';
import { startDevInbox, type DevInbox } from '../../engine/devinbox/index.ts';
import { createApiKey, type Role } from '../../engine/auth/index.ts';
import { createApiProcess, createWorkerProcess } from '../../engine/runtime.ts';
import { bundleJourneyWorkflows } from '../../engine/temporal/index.ts';
import { freePort } from '../../scripts/local-state.ts';

let runtimeInstalled = false;
let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

export interface Stack {
  config: HavenConfig;
  env: NodeJS.ProcessEnv;
  inbox: DevInbox;
  api: Awaited<ReturnType<typeof createApiProcess>>;
  baseUrl: string;
  /** An admin API key; `request` sends it. */
  apiKey: string;
  /** A new API key with the given role. */
  keyFor(role: Role): Promise<string>;
  /** JSON request to the API, as admin (or with `key`); returns status and parsed body. */
  request(method: string, path: string, body?: unknown, key?: string | null): Promise<{ status: number; body: any }>;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Starts the worker as a separate OS process (scripts/worker.ts). */
  spawnWorker(): Promise<ChildProcess>;
  close(): Promise<void>;
}

export async function startStack(options: { env?: NodeJS.ProcessEnv } = {}): Promise<Stack> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const inbox = await startDevInbox();
  const port = await freePort();
  const suffix = randomUUID().slice(0, 8);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    SMTP_URL: `smtp://127.0.0.1:${inbox.smtpPort}`,
    HAVEN_TASK_QUEUE: `haven-journeys-${suffix}`,
    HAVEN_DELIVERY_TASK_QUEUE: `haven-delivery-${suffix}`,
    ...options.env,
  };
  const config = loadConfig(env);
  // Request logs on, into the file npm test searches for canary PHI at the end (SEC-11).
  const logFile = process.env.HAVEN_TEST_LOG_FILE;
  const api = await createApiProcess(config, logFile ? { logger: true, logStream: createWriteStream(logFile, { flags: 'a' }) } : {});
  await api.listen();
  const baseUrl = config.api.publicUrl;
  const keyFor = (role: Role) => createApiKey(api.db, `test-${role}-${randomUUID().slice(0, 8)}`, role);
  const apiKey = await keyFor('admin');

  let worker: Awaited<ReturnType<typeof createWorkerProcess>> | undefined;
  let running: Promise<void> | undefined;
  const children = new Set<ChildProcess>();

  const stack: Stack = {
    config,
    env,
    inbox,
    api,
    baseUrl,
    apiKey,
    keyFor,
    async request(method, path, body, key = apiKey) {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed };
    },
    async startWorker() {
      bundle ??= bundleJourneyWorkflows();
      worker = await createWorkerProcess(config, { workflowBundle: await bundle });
      running = worker.run();
    },
    async stopWorker() {
      worker?.shutdown();
      await running;
      worker = undefined;
    },
    async spawnWorker() {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../scripts/worker.ts', import.meta.url))], {
        env,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`worker exited early (${code})`)));
        child.stdout!.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('haven worker: ready')) resolve();
        });
      });
      return child;
    },
    async close() {
      await stack.stopWorker();
      for (const child of children) child.kill('SIGKILL');
      await api.close();
      await inbox.close();
    },
  };
  return stack;
}

/** Polls until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The URL of the open pixel in a received email. */
export function pixelUrl(html: string): string {
  const match = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(html);
  if (!match) throw new Error('no tracking pixel in the email');
  return match[1]!.replace(/&amp;/g, '&');
}
