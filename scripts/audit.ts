// `npm run audit:verify` recomputes the audit and decision hash chains and checks every signed
// checkpoint (exit code 1 on any break); `npm run audit:checkpoint` signs the current ends;
// `npm run audit:retention [-- --dry-run]` runs the retention job (LOG-04) once.
import { loadConfig } from '../engine/config.ts';
import { createDb } from '../engine/db/index.ts';
import { runRetention, SYSTEM_PRINCIPAL, verifyAudit, writeCheckpoints } from '../engine/audit/index.ts';

const config = loadConfig();
const db = createDb(config.databaseUrl);
try {
  if (process.argv[2] === 'retention') {
    const report = await runRetention(db, { years: config.retention.years, key: config.auditKeys[0]!, principal: SYSTEM_PRINCIPAL, dryRun: process.argv.includes('--dry-run') });
    console.log(JSON.stringify(report, null, 2));
  } else if (process.argv[2] === 'checkpoint') {
    console.log(`signed ${await writeCheckpoints(db, config.auditKeys[0]!)} checkpoint(s)`);
  } else {
    const result = await verifyAudit(db, config.auditKeys);
    console.log(JSON.stringify(result, null, 2));
    process.exitCode = result.ok ? 0 : 1;
  }
} finally {
  await db.$disconnect();
}
