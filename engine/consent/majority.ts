// AUTH-09: when a minor comes of age, and with it the end of a parent's authority to sign for them.
import { zonedTimeToUtc } from '../../workflows/index.ts';

/** Age of majority when the deployment sets none (most US states; some use 19 or 21). */
export const DEFAULT_AGE_OF_MAJORITY = 18;

/**
 * When someone born on `birthDate` (YYYY-MM-DD) comes of age: the start of that birthday in the
 * covered entity's time zone. A 29 February birthday counts as 28 February in common years — the
 * earlier date, so a parent's authority never outlasts the law's.
 */
export function majorityInstant(birthDate: string, ageOfMajority: number, timeZone: string): number {
  const [y, m, d] = birthDate.split('-').map(Number) as [number, number, number];
  const year = y + ageOfMajority;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return zonedTimeToUtc(year, m, m === 2 && d === 29 && !leap ? 28 : d, 0, 0, timeZone);
}

