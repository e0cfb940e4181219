// `npm run user:create -- <email> "<name>" <role>`: a person's account. Prints a one-time password
// and the TOTP enrolment URI (scan it into an authenticator app); neither is shown again.
import { createUser, ROLES, type Role } from '../engine/auth/index.ts';
import { DEFAULT_DATABASE_URL } from '../engine/config.ts';
import { createDb } from '../engine/db/index.ts';
import { parsePayloadKeys } from '../engine/phi/index.ts';

const [email, name, role] = process.argv.slice(2);
if (!email || !name || !ROLES.includes(role as Role)) {
  console.error(`usage: npm run user:create -- <email> "<name>" <${ROLES.join('|')}>`);
  process.exit(2);
}
const db = createDb(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
try {
  const user = await createUser(db, parsePayloadKeys(process.env.HAVEN_PAYLOAD_KEYS), { email, name, role: role as Role });
  console.log(JSON.stringify(user, null, 2));
} finally {
  await db.$disconnect();
}
