// Replays recorded histories of representative journeys (test/histories, recorded with
// HAVEN_RECORD_HISTORIES=1 npm test) against today's workflow code: a change to the interpreter or
// the workflow loop that would break runs already in flight fails here.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { havenDataConverter, parsePayloadKeys } from '../../engine/phi/index.ts';
import { bundleJourneyWorkflows } from '../../engine/temporal/index.ts';
import { HISTORIES_DIR } from '../support/histories.ts';

describe('recorded journey histories replay on the current code', () => {
  it('every committed history replays without nondeterminism', async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    const files = (await readdir(HISTORIES_DIR)).filter((f) => f.endsWith('.json')).sort();
    // Recorded with the committed fixture key (histories from before payload encryption are plain).
    const dataConverter = havenDataConverter(parsePayloadKeys((await readFile(new URL('payload-key.txt', HISTORIES_DIR), 'utf8')).trim()));
    assert.ok(files.length >= 6, `expected recorded histories, found ${files.length}`);
    const histories = await Promise.all(
      files.map(async (file) => {
        const { workflowId, history } = JSON.parse(await readFile(new URL(file, HISTORIES_DIR), 'utf8'));
        return { workflowId, history: historyFromJSON(history), file };
      }),
    );
    const workflowBundle = await bundleJourneyWorkflows();
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle, dataConverter, replayName: 'haven-replay' }, histories)) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, histories.length);
    assert.deepEqual(failures, []);
  });
});
