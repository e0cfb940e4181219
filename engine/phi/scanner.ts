// A scanner for the 18 HIPAA Safe Harbor identifier categories (164.514(b)(2)) in free text:
// used to keep identifiers out of message subjects at publish, and by leak tests over logs and
// stores. Findings carry the category and position, never the matched text, so a report about
// PHI is not itself PHI. Names can only be found when the caller supplies them (the patient
// record); photos and biometrics are not text and are out of a text scanner's reach.
export type PhiCategory =
  | 'NAME'
  | 'GEOGRAPHIC'
  | 'ZIP'
  | 'DATE'
  | 'PHONE'
  | 'FAX'
  | 'EMAIL'
  | 'SSN'
  | 'MRN'
  | 'HEALTH_PLAN_ID'
  | 'ACCOUNT'
  | 'LICENSE'
  | 'VEHICLE'
  | 'DEVICE'
  | 'URL'
  | 'IP'
  | 'OTHER_ID';

export interface Finding {
  category: PhiCategory;
  start: number;
  end: number;
}

const MONTHS = 'jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?';
const US_STATES = 'AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR';

/** Ordered: earlier (more specific) patterns claim a span before later ones see it. */
const PATTERNS: [PhiCategory, RegExp][] = [
  ['EMAIL', /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g],
  ['URL', /\bhttps?:\/\/[^\s<>"']+/gi],
  ['SSN', /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b|\b(?:ssn|social security(?: number)?)\s*[:#]?\s*\d{9}\b/gi],
  ['MRN', /\b(?:mrn|medical record(?: number| no\.?)?)\s*[:#]?\s*[A-Z0-9-]{4,}\b/gi],
  ['HEALTH_PLAN_ID', /\b(?:member|subscriber|policy|beneficiary|medicare|medicaid)\s*(?:id|number|no\.?|#)\s*[:#]?\s*[A-Z0-9-]{5,}\b/gi],
  ['ACCOUNT', /\b(?:account|acct)\s*(?:number|no\.?|#)?\s*[:#]?\s*\d{6,}\b/gi],
  ['LICENSE', /\b(?:license|licence|dea|npi|certificate)\s*(?:number|no\.?|#)?\s*[:#]?\s*[A-Z0-9]{5,}\b/gi],
  ['DEVICE', /\b(?:serial|device|udi)\s*(?:number|no\.?|#|id)?\s*[:#]?\s*[A-Z0-9()-]{6,}\b/gi],
  ['VEHICLE', /\b[A-HJ-NPR-Z0-9]{17}\b|\b(?:license plate|plate)\s*(?:number|no\.?|#)?\s*[:#]?\s*[A-Z0-9-]{4,8}\b/g],
  ['FAX', /\bfax\s*[:#]?\s*(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\b/gi],
  ['PHONE', /(?:\+?1[ .-]?)?(?:\(\d{3}\)\s?|\b\d{3}[ .-])\d{3}[ .-]\d{4}\b/g],
  ['IP', /\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b|\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b/gi],
  ['DATE', new RegExp(`\\b\\d{4}-\\d{2}-\\d{2}\\b|\\b\\d{1,2}/\\d{1,2}/\\d{2,4}\\b|\\b(?:${MONTHS})\\.? \\d{1,2}(?:st|nd|rd|th)?,? \\d{4}\\b|\\b\\d{1,2} (?:${MONTHS}) \\d{4}\\b`, 'gi')],
  ['GEOGRAPHIC', /\b\d{1,6} (?:[A-Z][a-z]+ ){1,3}(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl)\b\.?/gi],
  ['ZIP', new RegExp(`(?:\\b(?:${US_STATES}),? |\\bzip(?: code)?\\s*[:#]?\\s*)\\d{5}(?:-\\d{4})?\\b`, 'g')],
  ['OTHER_ID', /\b\d{8,}\b/g],
];

export function scanForPhi(text: string, options: { names?: string[] } = {}): Finding[] {
  const findings: Finding[] = [];
  const taken = (start: number, end: number) => findings.some((f) => start < f.end && end > f.start);
  for (const [category, pattern] of PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const [start, end] = [m.index!, m.index! + m[0].length];
      if (!taken(start, end)) findings.push({ category, start, end });
    }
  }
  // Names last: a name inside an address or email is already covered by that finding.
  for (const name of options.names ?? []) {
    if (name.trim().length < 2) continue;
    const re = new RegExp(`\\b${name.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'gi');
    for (const m of text.matchAll(re)) {
      const [start, end] = [m.index!, m.index! + m[0].length];
      if (!taken(start, end)) findings.push({ category: 'NAME', start, end });
    }
  }
  return findings.sort((a, b) => a.start - b.start);
}

/** The text with every finding replaced by its category, e.g. for a safe log line. */
export function redactPhi(text: string, options: { names?: string[] } = {}): string {
  let out = '';
  let at = 0;
  for (const f of scanForPhi(text, options)) {
    out += `${text.slice(at, f.start)}[${f.category}]`;
    at = f.end;
  }
  return out + text.slice(at);
}
