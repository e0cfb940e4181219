import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import pg from 'pg';
import { loadConfig } from '../../engine/config.ts';
import { migrate } from '../../engine/db/index.ts';
import { scratchDatabase, sqlAt } from '../support/scratch-db.ts';

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

  it('a consent ledger row naming no known patient stops the upgrade that links the ledgers to patients, with a count and nothing half-applied', async () => {
    const url = await scratchDatabase('orphans');
    const name = '20261205090000_consent_ledger_patient_relations';
    // A database as it stood before that migration, holding one orphan suppression.
    for (const table of ['Suppression', 'Directive', 'Restriction', 'UnencryptedEmailElection']) {
      await sqlAt(url, `ALTER TABLE "${table}" DROP CONSTRAINT "${table}_patientId_fkey"`);
    }
    await sqlAt(url, 'DELETE FROM "_prisma_migrations" WHERE migration_name = $1', [name]);
    await sqlAt(url, `INSERT INTO "Suppression" (id, "patientId", kind, source) VALUES ('orphan', 'no-such-patient', 'unsubscribe', 'test')`);

    await assert.rejects(migrate(url), (e: Error) => {
      assert.match(e.message, new RegExp(`migration ${name} failed and was rolled back: 1 consent ledger row\\(s\\) name no known patient`));
      assert.ok(!e.message.includes('no-such-patient'), 'no ids in the error');
      return true;
    });
    assert.deepEqual(await sqlAt(url, `SELECT conname FROM pg_constraint WHERE conname LIKE '%_patientId_fkey' AND conrelid::regclass::text IN ('"Suppression"', '"Directive"')`), []);
    assert.equal((await sqlAt(url, 'SELECT count(*)::int AS n FROM "_prisma_migrations" WHERE migration_name = $1', [name]))[0]!.n, 0);
    assert.equal((await sqlAt(url, `SELECT count(*)::int AS n FROM "Suppression" WHERE id = 'orphan'`))[0]!.n, 1, 'nothing is lost');
  });
});
