// A Haven worker process: runs journey workflows and delivery activities until SIGINT/SIGTERM.
// Start more of these (on any machine that reaches Temporal, Postgres and SMTP) to scale out.
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../engine/config.ts';
import { createWorkerProcess } from '../engine/runtime.ts';

// The SDK's own logs stay at WARN: they carry ids and errors, never payloads.
Runtime.install({ logger: new DefaultLogger('WARN') });
const worker = await createWorkerProcess(loadConfig());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
console.log('haven worker: ready');
await worker.run();
