// Canary PHI: unique fake values that tests plant in patients, events and templates. Each one is
// registered with `npm test` (HAVEN_CANARY_FILE), which, after the whole suite, searches every log
// sink — the test run's stdout and stderr, the API's request log, Temporal's log — for any of
// them and fails the run if one is found (SEC-11, LOG-05).
import { appendFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/** A fresh canary such as `Zed3fa09c1b2`, registered for the end-of-run log scan. */
export function canary(label: string): string {
  return plant(`${label}${randomBytes(5).toString('hex')}`);
}

/** A canary email address on a reserved domain. */
export function canaryEmail(label = 'mail'): string {
  return plant(`${label}.${randomBytes(5).toString('hex')}@example.test`);
}

/** Registers a value the test treats as PHI. */
export function plant<T extends string>(value: T): T {
  if (process.env.HAVEN_CANARY_FILE) appendFileSync(process.env.HAVEN_CANARY_FILE, `${value}\n`);
  return value;
}
