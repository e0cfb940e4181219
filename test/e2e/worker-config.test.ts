// Worker settings an operator sets for scale (README "Scaling out"): a bad value stops the worker at
// start with the setting's name, rather than running with a cache that replays every run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { temporalConfig } from '../../engine/config.ts';

const WORKER = fileURLToPath(new URL('../../scripts/worker.ts', import.meta.url));

describe('worker run cache (HAVEN_WORKER_CACHED_RUNS)', () => {
  it('a worker with a cache of 0 or a non-number refuses to start and names the setting', () => {
    for (const value of ['0', 'lots']) {
      const run = spawnSync(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, HAVEN_WORKER_CACHED_RUNS: value }, encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(run.status, 0, `started with ${value}`);
      assert.match(run.stderr, /HAVEN_WORKER_CACHED_RUNS: a whole number of runs, at least 2/);
    }
  });

  it('a valid size is passed on; unset leaves it to the SDK, which sizes it from the heap', () => {
    assert.equal(temporalConfig({ HAVEN_WORKER_CACHED_RUNS: '5000' }).cachedRuns, 5000);
    assert.equal(temporalConfig({}).cachedRuns, undefined);
  });
});
