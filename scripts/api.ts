// An API process on its own (production layout: run it beside any number of workers).
import { loadConfig } from '../engine/config.ts';
import { createApiProcess } from '../engine/runtime.ts';

const api = await createApiProcess(loadConfig(), { logger: true });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void api.close());
await api.listen();
