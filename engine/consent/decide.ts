// INV-1: the one pure function every PHI-using or sending step goes through. Deny by default:
// an unknown purpose or channel, missing data, or an error while deciding is a denial with a
// reason. No I/O here — callers load the facts (under a per-patient lock at send time).
import { localTime, PURPOSES } from '../../workflows/index.ts';
import { DEFAULT_AGE_OF_MAJORITY, majorityInstant } from './majority.ts';

export const CHANNELS = ['email'] as const;

/** Fields fundraising may use (FUND-01: demographics; others are not modelled yet). */
export const FUNDRAISING_FIELDS = ['patient.givenName', 'patient.familyName'];

export interface Step {
  purpose: string;
  usesPhi: boolean | undefined;
  thirdPartyRemuneration: string | undefined;
  sponsor?: string | undefined;
  stream: string;
  channel: string;
  /** PHI fields the message uses, as paths (`patient.givenName`, `trigger.appointment.start`). */
  fields: string[];
  exception?: string | undefined;
  /** The template fails the CAN-SPAM primary-purpose test (CS-01: promotion first, promotional subject…). */
  commercialContent?: boolean;
  /** For refill reminders: when the linked prescription stops being active (null: unknown). */
  prescription?: { activeUntil: Date | null };
}

/** Refill reminders may follow a prescription lapsed this many calendar days, no more (MKT-02). */
export const REFILL_LAPSE_DAYS = 90;

export interface AuthorizationFacts {
  id: string;
  purposes: string[];
  channels: string[];
  infoCategories: string[];
  sponsors: string[];
  /** Who may receive the information (AUTH-01(iii)); checked for disclosures (MKT-06). */
  recipients?: string[];
  /** The authorization permits a sale of PHI (164.508(a)(4)). */
  saleOfPhi?: boolean;
  remunerationDisclosed: boolean;
  statements: { revocation?: boolean; conditioning?: boolean; redisclosure?: boolean; remuneration?: boolean };
  signature: { authenticated?: boolean };
  /** Who signed: the patient, or a personal representative and the kind of authority (AUTH-09). */
  signer?: { kind?: string; authorityType?: string };
  signedAt: Date;
  expiresAt: Date | null;
  expirationEvent: string | null;
  compound: boolean;
  conditioned: boolean;
  falseInformation: boolean;
  ends: { kind: 'revocation' | 'expiration_event' | 'defect'; receivedAt: Date }[];
}

export interface ConsentFacts {
  primaryAddress: string | null;
  /** The patient's birth date (YYYY-MM-DD), when on record: a parent's authority ends at majority (AUTH-09). */
  birthDate?: string | null;
  authorizations: AuthorizationFacts[];
  suppressions: { kind: string; stream: string | null; channel: string; receivedAt: Date }[];
  directives: { kind: string; channel: string; address: string | null; receivedAt: Date }[];
  restrictions: { purposes: string[]; agreedAt: Date; endsAt: Date | null }[];
  /** RCC-03 elections of unencrypted email (absent: none). */
  unencryptedEmail?: { kind: string; channel: string; address: string | null; receivedAt: Date }[];
}

export interface ConsentSettings {
  /** Physical postal address for commercial messages (CS-07). */
  postalAddress: string;
  /** The Notice of Privacy Practices mentions fundraising (FUND-01). */
  nppFundraisingStatement: boolean;
  /** The covered entity's time zone: calendar days and date-only expiries are counted in it. */
  timeZone: string;
  /** Tries to email an authorization copy before it goes to the staff queue (AUTH-03; default 8). */
  authorizationCopyAttempts?: number;
  /** When a parent's authority over a minor's authorizations ends (AUTH-09; default 18). */
  ageOfMajority?: number;
}

export interface Decision {
  allow: boolean;
  reasons: string[];
  authorizationIdUsed?: string;
  contactPoint?: 'primary' | 'directive';
  /** Where to send; never recorded, only handed to delivery. */
  address?: string;
  /** Marketing or fundraising or a broadcast: needs the commercial footer and an opt-out (CS-07). */
  commercial: boolean;
  /**
   * How an allowed message may travel (LOG-07): PHI only over verified TLS or as a portal notice,
   * unless the patient elected unencrypted email for this very address (RCC-03); PHI-free mail
   * may go opportunistically.
   */
  transport?: 'tls_or_portal' | 'patient_elected_unencrypted' | 'opportunistic';
}

const NO_AUTHORIZATION_NEEDED = new Set(['TREATMENT', 'CARE_COORDINATION', 'OWN_HEALTH_PRODUCT', 'TRANSACTIONAL', 'GOV_PROGRAM_INFO', 'GENERAL_HEALTH_PROMOTION', 'REFILL_REMINDER', 'FUNDRAISING']);
const PAYMENT_MAKES_MARKETING = new Set(['TREATMENT', 'CARE_COORDINATION', 'OWN_HEALTH_PRODUCT']);

/** Whether the step is marketing under 164.501, whatever purpose it declares (MKT-01/02/03). */
export function isMarketing(step: Step): boolean {
  if (step.purpose === 'MARKETING') return true;
  const paid = step.thirdPartyRemuneration !== 'none' || Boolean(step.sponsor);
  if (PAYMENT_MAKES_MARKETING.has(step.purpose) && paid) return true;
  if (step.purpose === 'REFILL_REMINDER' && step.thirdPartyRemuneration === 'exceedsCost') return true;
  return false;
}

/** Commercial email under CAN-SPAM (CS-01): marketing, fundraising, a broadcast, or commercial content. */
export function isCommercial(step: Step): boolean {
  return isMarketing(step) || step.purpose === 'FUNDRAISING' || step.stream === 'broadcast' || step.commercialContent === true;
}

export function decide(step: Step, facts: ConsentFacts, settings: ConsentSettings, now: Date): Decision {
  try {
    return evaluate(step, facts, settings, now);
  } catch {
    return { allow: false, reasons: ['EVALUATION_ERROR'], commercial: true };
  }
}

function evaluate(step: Step, facts: ConsentFacts, settings: ConsentSettings, now: Date): Decision {
  const reasons: string[] = [];
  const deny = (reason: string) => reasons.push(reason);
  const inEffect = (d: Date) => d.getTime() <= now.getTime();

  if (!(now instanceof Date) || Number.isNaN(now.getTime())) return { allow: false, reasons: ['EVALUATION_ERROR'], commercial: true };
  if (!(PURPOSES as readonly string[]).includes(step.purpose)) deny('UNKNOWN_PURPOSE');
  if (!(CHANNELS as readonly string[]).includes(step.channel)) deny('UNKNOWN_CHANNEL');
  if (typeof step.usesPhi !== 'boolean' || !['none', 'costBased', 'exceedsCost'].includes(step.thirdPartyRemuneration ?? '')) deny('STEP_NOT_CLASSIFIED');
  if (step.exception) deny('EXCEPTION_NOT_ELECTRONIC'); // MKT-04
  if (!Array.isArray(step.fields)) deny('STEP_NOT_CLASSIFIED');
  if (reasons.length) return { allow: false, reasons, commercial: true };

  const marketing = isMarketing(step);
  const commercial = isCommercial(step);
  let authorizationIdUsed: string | undefined;

  // Marketing needs a valid authorization covering this use (MKT-01/03/05, AUTH-04/07/08). Picking
  // recipients from patient records uses PHI, so this holds even when the content has none.
  if (marketing) {
    const verdicts = facts.authorizations
      .filter((a) => a.purposes.includes('MARKETING'))
      .sort((a, b) => b.signedAt.getTime() - a.signedAt.getTime())
      .map((a) => ({ a, problems: [...authorizationProblems(a, step, now), ...representativeProblems(a, facts, settings, now)] }));
    const valid = verdicts.find((v) => v.problems.length === 0);
    if (valid) authorizationIdUsed = valid.a.id;
    else if (verdicts.length === 0) deny('NO_MARKETING_AUTHORIZATION');
    else reasons.push(...verdicts[0]!.problems);
  } else if (!NO_AUTHORIZATION_NEEDED.has(step.purpose)) {
    deny('NO_MARKETING_AUTHORIZATION');
  }

  // MKT-02: the refill-reminder exception covers a current prescription, or one lapsed at most 90
  // calendar days; an unknown end date is not current. (Paid beyond cost, it is marketing above.)
  if (step.purpose === 'REFILL_REMINDER' && !marketing) {
    const until = step.prescription?.activeUntil ?? null;
    if (until === null || Number.isNaN(until.getTime())) deny('REFILL_NO_CURRENT_PRESCRIPTION');
    else if (calendarDaysBetween(until, now, settings.timeZone) > REFILL_LAPSE_DAYS) deny('REFILL_PRESCRIPTION_LAPSED');
  }

  if (step.purpose === 'FUNDRAISING') {
    if (!settings.nppFundraisingStatement) deny('FUNDRAISING_NOT_IN_NPP');
    if (step.fields.some((f) => !FUNDRAISING_FIELDS.includes(f))) deny('FUNDRAISING_FIELD_NOT_ALLOWED');
    const fundraising = latest(facts.suppressions.filter((s) => (s.kind === 'fundraising_opt_out' || s.kind === 'fundraising_opt_in') && inEffect(s.receivedAt)));
    if (fundraising?.kind === 'fundraising_opt_out') deny('FUNDRAISING_OPT_OUT');
  }
  if (commercial && !settings.postalAddress.trim()) deny('NO_POSTAL_ADDRESS');

  // One suppression ledger (INV-6).
  for (const s of facts.suppressions.filter((x) => x.channel === step.channel && inEffect(x.receivedAt))) {
    if (s.kind === 'hard_bounce') deny('SUPPRESSED_HARD_BOUNCE');
    if (commercial && s.kind === 'complaint') deny('SUPPRESSED_COMPLAINT');
    if (commercial && s.kind === 'unsubscribe_all') deny('SUPPRESSED_UNSUBSCRIBED');
    if (commercial && s.kind === 'unsubscribe' && (s.stream === null || s.stream === step.stream)) deny('SUPPRESSED_UNSUBSCRIBED');
  }

  for (const r of facts.restrictions) {
    const active = inEffect(r.agreedAt) && (r.endsAt === null || r.endsAt.getTime() > now.getTime());
    if (active && (r.purposes.length === 0 || r.purposes.includes(step.purpose))) deny('RESTRICTION_AGREED');
  }

  // Confidential communications (RCC-01): the newest directive for the channel decides, and a
  // directive is never bypassed by falling back to the primary address.
  const directive = latest(facts.directives.filter((d) => d.channel === step.channel && inEffect(d.receivedAt)));
  let address: string | undefined;
  let contactPoint: Decision['contactPoint'];
  if (directive && directive.kind !== 'withdrawn') {
    if (directive.kind === 'forbid_channel') deny('CONFIDENTIAL_COMMUNICATION_FORBIDS_CHANNEL');
    else if (directive.kind === 'require_portal') deny('CONFIDENTIAL_COMMUNICATION_REQUIRES_PORTAL');
    else if (directive.kind === 'redirect' && directive.address) {
      address = directive.address;
      contactPoint = 'directive';
    } else deny('CONFIDENTIAL_COMMUNICATION_UNRESOLVED');
  } else if (facts.primaryAddress) {
    address = facts.primaryAddress;
    contactPoint = 'primary';
  } else deny('NO_CONTACT_POINT');

  const unique = [...new Set(reasons)];
  if (unique.length) return { allow: false, reasons: unique, commercial };
  // RCC-03: the patient's own election covers only the address it names — never a third party's.
  const election = latest((facts.unencryptedEmail ?? []).filter((e) => e.channel === step.channel && inEffect(e.receivedAt)));
  const elected = election?.kind === 'elected' && !!address && sameAddress(election.address, address);
  const transport = !step.usesPhi ? 'opportunistic' : elected ? 'patient_elected_unencrypted' : 'tls_or_portal';
  return {
    allow: true,
    reasons: [marketing ? 'MARKETING_AUTHORIZED' : 'NO_AUTHORIZATION_NEEDED', ...(transport === 'patient_elected_unencrypted' ? ['PATIENT_ELECTED_UNENCRYPTED'] : [])],
    commercial,
    transport,
    ...(authorizationIdUsed ? { authorizationIdUsed } : {}),
    ...(contactPoint ? { contactPoint } : {}),
    ...(address ? { address } : {}),
  };
}

function sameAddress(a: string | null, b: string): boolean {
  return a !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** Why an authorization does not cover this step now; empty when it does. */
export function authorizationProblems(a: AuthorizationFacts, step: Step, now: Date): string[] {
  const problems: string[] = [];
  const t = now.getTime();
  const ended = (kind: AuthorizationFacts['ends'][number]['kind']) => a.ends.some((e) => e.kind === kind && e.receivedAt.getTime() <= t);
  if (ended('revocation')) problems.push('AUTHORIZATION_REVOKED');
  if (ended('expiration_event')) problems.push('AUTHORIZATION_EXPIRED');
  if (ended('defect') || a.compound || a.conditioned || a.falseInformation) problems.push('AUTHORIZATION_DEFECTIVE');
  if (a.expiresAt === null && a.expirationEvent === null) problems.push('AUTHORIZATION_DEFECTIVE');
  if (a.expiresAt !== null && a.expiresAt.getTime() <= t) problems.push('AUTHORIZATION_EXPIRED');
  if (a.signedAt.getTime() > t) problems.push('AUTHORIZATION_NOT_YET_SIGNED');
  if (a.signature.authenticated !== true) problems.push('AUTHORIZATION_PENDING_IDENTITY');
  if (!a.statements.revocation || !a.statements.conditioning || !a.statements.redisclosure) problems.push('AUTHORIZATION_DEFECTIVE');
  if (!a.channels.includes(step.channel)) problems.push('AUTH_SCOPE_CHANNEL');
  if (!step.fields.every((f) => a.infoCategories.some((c) => f === c || f.startsWith(`${c}.`)))) problems.push('AUTH_SCOPE_INFO');
  const paid = step.thirdPartyRemuneration !== 'none' || Boolean(step.sponsor);
  if (paid) {
    if (!a.remunerationDisclosed || !a.statements.remuneration) problems.push('AUTH_MISSING_REMUNERATION_STATEMENT');
    if (step.sponsor && !a.sponsors.includes(step.sponsor)) problems.push('AUTH_SPONSOR_NOT_COVERED');
  }
  return [...new Set(problems)];
}

/**
 * AUTH-09: a parent's authority ends when the patient comes of age (state law sets the age; the
 * deployment configures it). The authorization is then flagged and used no more until the patient
 * signs one themselves. Without a birth date on record, nobody can tell: also not used.
 */
export function representativeProblems(a: Pick<AuthorizationFacts, 'signer'>, facts: Pick<ConsentFacts, 'birthDate'>, settings: ConsentSettings, now: Date): string[] {
  if (a.signer?.kind !== 'personal_representative' || a.signer.authorityType !== 'parent_of_minor') return [];
  if (!facts.birthDate) return ['AUTHORIZATION_REPRESENTATIVE_UNVERIFIED'];
  const majority = majorityInstant(facts.birthDate, settings.ageOfMajority ?? DEFAULT_AGE_OF_MAJORITY, settings.timeZone);
  return majority <= now.getTime() ? ['AUTHORIZATION_REPRESENTATIVE_AUTHORITY_ENDED'] : [];
}

/**
 * MKT-06: why an authorization does not permit disclosing the patient's PHI to `recipient` for
 * remuneration (a sale of PHI, 164.502(a)(5)(ii)); empty when it does.
 */
export function saleOfPhiProblems(a: AuthorizationFacts, disclosure: { recipient: string; fields: string[] }, now: Date): string[] {
  const { recipient, fields } = disclosure;
  // The same validity rules as for a send (expiry, revocation, defects, identity, information
  // scope); the channel does not apply to a disclosure, and the sponsor is the recipient here.
  const step: Step = { purpose: 'MARKETING', usesPhi: true, thirdPartyRemuneration: 'none', stream: 'broadcast', channel: a.channels[0] ?? 'email', fields };
  const problems = authorizationProblems(a, step, now).filter((p) => p !== 'AUTH_SCOPE_CHANNEL');
  if (!a.saleOfPhi) problems.push('AUTH_NO_SALE_OF_PHI');
  if (!a.remunerationDisclosed || !a.statements.remuneration) problems.push('AUTH_MISSING_REMUNERATION_STATEMENT');
  if (!a.recipients?.some((r) => r.trim().toLowerCase() === recipient.trim().toLowerCase())) problems.push('AUTH_SCOPE_RECIPIENT');
  return problems;
}

function latest<T extends { receivedAt: Date }>(rows: T[]): T | undefined {
  return [...rows].sort((a, b) => b.receivedAt.getTime() - a.receivedAt.getTime())[0];
}

/** Whole calendar days from `from` to `to`, counted on the local wall calendar (DST-proof). */
export function calendarDaysBetween(from: Date, to: Date, timeZone: string): number {
  const day = (d: Date) => {
    const t = localTime(d.getTime(), timeZone);
    return Date.UTC(t.year, t.month - 1, t.day) / 86_400_000;
  };
  return day(to) - day(from);
}
