import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../engine/config.ts';
import { migrate } from '../../engine/db/index.ts';

describe('migrations', () => {
  it('are recorded as Prisma records them, and a second run applies nothing', async () => {
    const { databaseUrl } = loadConfig();
    const again = await migrate(databaseUrl);
    assert.deepEqual(again.applied, []);
    assert.ok(again.alreadyApplied >= 1);

    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name');
      const first = rows[0];
      const sql = await readFile(new URL(`../../prisma/migrations/${first.migration_name}/migration.sql`, import.meta.url));
      assert.equal(first.checksum, createHash('sha256').update(sql).digest('hex'));
      assert.ok(first.finished_at instanceof Date);
      assert.equal(first.applied_steps_count, 1);
    } finally {
      await client.end();
    }
  });
});
