// `npm run apikey:create -- <service name> <role>`: a key for a named service account (shown once).
import { createApiKey, ROLES, type Role } from '../engine/auth/index.ts';
import { DEFAULT_DATABASE_URL } from '../engine/config.ts';
import { createDb } from '../engine/db/index.ts';

const [name, role] = process.argv.slice(2);
if (!name || !ROLES.includes(role as Role)) {
  console.error(`usage: npm run apikey:create -- <service name> <${ROLES.join('|')}>`);
  process.exit(2);
}
const db = createDb(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
try {
  console.log(await createApiKey(db, name, role as Role));
} finally {
  await db.$disconnect();
}
