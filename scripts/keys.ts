// `npm run keys -- <command>`: keys of encryption at rest (SEC-04). Prints key ids, never keys.
//   status          data keys, the master key wrapping each, and which one new writes use
//   rotate          a new data key for new writes; old ciphertext keeps opening with its own key
//   rewrap          re-wrap every data key under the first master key of HAVEN_MASTER_KEYS
//   master <id>     print a new master key entry to put first in HAVEN_MASTER_KEYS (then rewrap)
// Outside `npm start`, HAVEN_MASTER_KEYS comes from the environment, else from .data/secrets.json.
import { randomBytes } from 'node:crypto';
import { DEFAULT_DATABASE_URL } from '../engine/config.ts';
import { createDb } from '../engine/db/index.ts';
import { FieldVault, LocalKms } from '../engine/phi/index.ts';
import { loadDevSecrets } from './local-state.ts';
import { DATA_DIR } from './paths.ts';

const [command, arg] = process.argv.slice(2);
if (command === 'master') {
  if (!arg || !/^[A-Za-z0-9]{1,16}$/.test(arg)) throw new Error('usage: npm run keys -- master <new key id, e.g. m2>');
  console.log(`${arg}:${randomBytes(32).toString('base64')}`);
  process.exit(0);
}
if (!['status', 'rotate', 'rewrap'].includes(command ?? '')) {
  console.error('usage: npm run keys -- status|rotate|rewrap|master <id>');
  process.exit(2);
}

const masterKeys = process.env.HAVEN_MASTER_KEYS ?? (await loadDevSecrets(DATA_DIR)).masterKeys;
const kms = new LocalKms(masterKeys);
const db = createDb(process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL);
const vault = new FieldVault(db, kms);
try {
  if (command === 'rotate') console.log(`new writes now use data key ${await vault.rotate()}`);
  if (command === 'rewrap') console.log(`re-wrapped ${await vault.rewrap()} data key(s) under master key ${kms.currentKeyId}`);
  await vault.ready();
  const rows = await db.dataKey.findMany({ orderBy: { createdAt: 'asc' }, select: { id: true, purpose: true, masterKeyId: true, createdAt: true } });
  console.table(rows.map((r) => ({ ...r, active: r.id === vault.activeKeyId })));
} catch (e) {
  console.error(`keys ${command}: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  await db.$disconnect();
}
