// A migrated database of a test file's own, next to the shared test database, for tests that change
// what every other test relies on (master keys, the start of the audit chain).
import pg from 'pg';
import { loadConfig } from '../../engine/config.ts';
import { migrate } from '../../engine/db/index.ts';
import { recreateDatabase, withDatabase } from '../../scripts/local-state.ts';

export async function sqlAt(url: string, text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Drops and recreates `<test database>_<suffix>`, migrates it and returns its URL. */
export async function scratchDatabase(suffix: string): Promise<string> {
  const base = new URL(loadConfig().databaseUrl);
  const url = withDatabase(base.toString(), `${base.pathname.slice(1)}_${suffix}`);
  await recreateDatabase(url);
  await migrate(url);
  return url;
}
