// A fresh, migrated database of a benchmark's own on the local (or embedded) PostgreSQL.
import { migrate } from '../engine/db/index.ts';
import { recreateDatabase, withDatabase } from '../scripts/local-state.ts';
import { DATA_DIR } from '../scripts/paths.ts';
import { ensurePostgres } from '../scripts/postgres.ts';

export async function freshBenchDatabase(name: string, log: (line: string) => void): Promise<{ databaseUrl: string; stop: () => Promise<void> }> {
  const postgres = await ensurePostgres(DATA_DIR, log);
  const databaseUrl = withDatabase(postgres.databaseUrl, name);
  await recreateDatabase(databaseUrl);
  await migrate(databaseUrl);
  return { databaseUrl, stop: postgres.stop };
}
