// `npm run migrate`: applies prisma/migrations to DATABASE_URL (creating the database if needed).
import { DEFAULT_DATABASE_URL } from '../engine/config.ts';
import { migrate } from '../engine/db/index.ts';

const report = await migrate(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
console.log(report.applied.length ? `applied: ${report.applied.join(', ')}` : `up to date (${report.alreadyApplied} migrations)`);
