// Safe Harbor de-identification (164.514(b)(2)) of export rows. Pure and conservative: only
// fields the caller declares as a known kind survive, generalized by their kind; everything else —
// free text, nested objects, unknown columns — is dropped. Re-identification codes come from the
// caller (random, kept in a separate table), never from the data itself (DEID-04).

/**
 * 3-digit ZIP prefixes whose area has 20,000 people or fewer (2000 Census, as listed by HHS):
 * these become "000" (DEID-02). Versioned config: record where the list came from.
 */
export const RESTRICTED_ZIP3 = {
  source: 'HHS de-identification guidance, 2000 Census (2012)',
  prefixes: ['036', '059', '063', '102', '203', '556', '692', '790', '821', '823', '830', '831', '878', '879', '884', '890', '893'],
};

export type FieldKind =
  /** A patient: replaced by a random re-identification code. */
  | 'subject'
  /** A ZIP code: its first three digits, or 000 for small areas and anything malformed. */
  | 'zip'
  /** A date of birth: year only, suppressed (null) when the person is 90 or older. */
  | 'birthDate'
  /** Any other date (service, event): year only. */
  | 'date'
  /** An age in years: kept up to 89, "90+" above. */
  | 'age'
  /** A value that is not an identifier (an enum, a count, a journey id): kept as it is. */
  | 'category';

export interface DeidOptions {
  /** The date ages are computed at. */
  reference: Date;
  restrictedZip3?: string[];
  /** The random code for a subject (from the mapping table). */
  codeFor: (subject: string) => string;
}

export function zip3(value: unknown, restricted: string[] = RESTRICTED_ZIP3.prefixes): string {
  const match = typeof value === 'string' ? /^(\d{5})(?:-\d{4})?$/.exec(value.trim()) : null;
  if (!match) return '000';
  const prefix = match[1]!.slice(0, 3);
  return restricted.includes(prefix) ? '000' : prefix;
}

/** Whole years between a birth date and the reference date (leap-day births included). */
export function ageAt(birth: Date, reference: Date): number {
  let age = reference.getUTCFullYear() - birth.getUTCFullYear();
  const beforeBirthday =
    reference.getUTCMonth() < birth.getUTCMonth() || (reference.getUTCMonth() === birth.getUTCMonth() && reference.getUTCDate() < birth.getUTCDate());
  return beforeBirthday ? age - 1 : age;
}

function asDate(value: unknown): Date | null {
  const d = typeof value === 'string' || value instanceof Date ? new Date(value) : null;
  return d && !Number.isNaN(d.getTime()) ? d : null;
}

/** One row, de-identified: declared fields generalized by kind, all others dropped. */
export function deidentifyRow(row: Record<string, unknown>, schema: Record<string, FieldKind>, options: DeidOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(schema)) {
    const value = row[field];
    switch (kind) {
      case 'subject':
        out[field] = typeof value === 'string' && value ? options.codeFor(value) : null;
        break;
      case 'zip':
        out[field] = zip3(value, options.restrictedZip3);
        break;
      case 'birthDate': {
        // Year of birth and age; both give way to "90+" when the age would reveal 90 or more.
        const birth = asDate(value);
        const age = birth ? ageAt(birth, options.reference) : null;
        out[field] = birth && age !== null && age < 90 ? birth.getUTCFullYear() : null;
        out.age = age === null ? null : age >= 90 ? '90+' : age;
        break;
      }
      case 'date':
        out[field] = asDate(value)?.getUTCFullYear() ?? null;
        break;
      case 'age':
        out[field] = typeof value === 'number' && Number.isFinite(value) ? (value >= 90 ? '90+' : Math.floor(value)) : null;
        break;
      case 'category':
        out[field] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
        break;
    }
  }
  return out;
}
