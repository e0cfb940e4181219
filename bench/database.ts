// A fresh, migrated database of a benchmark's own on the local (or embedded) PostgreSQL.
import pg from 'pg';
import { migrate } from '../engine/db/index.ts';
import { withDatabase } from '../scripts/local-state.ts';
import { DATA_DIR } from '../scripts/paths.ts';
import { ensurePostgres } from '../scripts/postgres.ts';

export async function freshBenchDatabase(name: string, log: (line: string) => void): Promise<{ databaseUrl: string; stop: () => Promise<void> }> {
  const postgres = await ensurePostgres(DATA_DIR, log);
  const databaseUrl = withDatabase(postgres.databaseUrl, name);
  const admin = new pg.Client({ connectionString: withDatabase(databaseUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  await migrate(databaseUrl);
  return { databaseUrl, stop: postgres.stop };
}
