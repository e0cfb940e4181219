// Recording workflow histories for the replay test: with HAVEN_RECORD_HISTORIES=1, integration
// tests save the histories of representative runs under test/histories/ (commit them).
import { mkdir, writeFile } from 'node:fs/promises';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { Stack } from './stack.ts';

export const HISTORIES_DIR = new URL('../histories/', import.meta.url);

/** Saves the history of every run of `workflowId` (all runs across continue-as-new). */
export async function saveHistory(name: string, stack: Stack, workflowId: string, firstRunId?: string): Promise<void> {
  if (process.env.HAVEN_RECORD_HISTORIES !== '1') return;
  await mkdir(HISTORIES_DIR, { recursive: true });
  const runs = firstRunId ? [firstRunId, undefined] : [undefined];
  for (const [i, runId] of runs.entries()) {
    const history = await stack.api.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = new URL(`${name}${runs.length > 1 ? `-${i + 1}` : ''}.json`, HISTORIES_DIR);
    await writeFile(file, `${JSON.stringify({ workflowId, history: JSON.parse(historyToJSON(history)) }, null, 1)}\n`);
  }
}
