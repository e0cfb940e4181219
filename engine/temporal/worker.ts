// Builds the two workers of a Haven worker process: journey logic (workflows + bookkeeping
// activities) and delivery (sends, on their own task queue so the SMTP rate applies globally).
// Run more worker processes to scale out; they share the task queues.
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import type { AudienceActivities, AuthorizationCopyActivities, DeliveryActivities, JourneyActivities } from '../../workflows/index.ts';
import { FAILURE_CONVERTER_PATH } from '../phi/index.ts';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/workflows.ts', import.meta.url));

export interface WorkerSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  deliveryTaskQueue: string;
  cachedRuns?: number;
}

export function bundleJourneyWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, failureConverterPath: FAILURE_CONVERTER_PATH, logger: quietBundlerLogger });
}

export interface JourneyWorkers {
  /** Resolves when both workers have stopped (after `shutdown()`), rejects if one fails. */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createJourneyWorkers(
  settings: WorkerSettings,
  activities: { journey: JourneyActivities & AudienceActivities; delivery: DeliveryActivities & AuthorizationCopyActivities },
  dataConverter: DataConverter,
  workflowBundle?: WorkflowBundleWithSourceMap,
): Promise<JourneyWorkers> {
  const connection = await NativeConnection.connect({ address: settings.address });
  const bundle = workflowBundle ?? (await bundleJourneyWorkflows());
  const journeyWorker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.taskQueue,
    workflowBundle: bundle,
    activities: activities.journey,
    dataConverter,
    // Runs kept in memory between their workflow tasks. A run not cached is replayed from its
    // history when it next wakes (a signal, a timer), so a worker should hold all its waiting runs:
    // a storm of consent changes reaches them all, and an LRU cache smaller than that set misses on
    // every one. Unset, the SDK sizes it from the heap (about 600 runs per GiB).
    ...(settings.cachedRuns ? { maxCachedWorkflows: settings.cachedRuns } : {}),
  });
  const deliveryWorker = await Worker.create({
    connection,
    namespace: settings.namespace,
    taskQueue: settings.deliveryTaskQueue,
    activities: activities.delivery,
    dataConverter,
    maxConcurrentActivityTaskExecutions: Number(process.env.HAVEN_DELIVERY_CONCURRENCY ?? 20),
  });
  return {
    async run() {
      try {
        await Promise.all([journeyWorker.run(), deliveryWorker.run()]);
      } finally {
        await connection.close();
      }
    },
    shutdown() {
      for (const w of [journeyWorker, deliveryWorker]) if (w.getState() === 'RUNNING') w.shutdown();
    },
  };
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};
