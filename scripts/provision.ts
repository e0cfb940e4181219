// `npm run provision`: prepares external infrastructure for a deployment — applies database
// migrations to DATABASE_URL and registers Haven's search attributes on TEMPORAL_ADDRESS.
import { DEFAULT_DATABASE_URL, temporalConfig } from '../engine/config.ts';
import { migrate } from '../engine/db/index.ts';
import { ensureSearchAttributes } from '../engine/temporal/index.ts';

const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
const temporal = temporalConfig();
const migrations = await migrate(databaseUrl);
console.log(`database: ${migrations.applied.length ? `applied ${migrations.applied.join(', ')}` : 'up to date'}`);
const added = await ensureSearchAttributes(temporal.address, temporal.namespace);
console.log(`temporal ${temporal.address}/${temporal.namespace}: ${added.length ? `registered ${added.join(', ')}` : 'search attributes present'}`);
