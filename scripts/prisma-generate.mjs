// `npm install` hook: generates the Prisma client into engine/db/generated. Prisma's CLI needs
// DATABASE_URL set (or it reaches for its engine CDN), but `generate` never connects to it.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cli = require.resolve('prisma/build/index.js');
execFileSync(process.execPath, [cli, 'generate'], {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/haven', PRISMA_HIDE_UPDATE_MESSAGE: '1' },
});
