// Authorization records (45 CFR 164.508): validated element by element before they are stored
// (AUTH-01/02/05/11); immutable afterwards — a revocation or an expiry event is a new record,
// effective when received (AUTH-07).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { PURPOSES, zonedTimeToUtc } from '../../workflows/index.ts';
import { CHANNELS } from './decide.ts';
import { DEFAULT_AGE_OF_MAJORITY, majorityInstant } from './majority.ts';

/** Blocks that must never share a signature with an authorization (AUTH-05: no compound documents). */
const FOREIGN_BLOCKS = ['TERMS_OF_SERVICE', 'CONSENT_TO_TREAT', 'NPP_ACKNOWLEDGEMENT', 'TCPA_CONSENT'];
const DateOrDateTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

/** Kinds of personal-representative authority (164.502(g)); which apply is a matter of state law. */
export const REPRESENTATIVE_AUTHORITIES = ['parent_of_minor', 'legal_guardian', 'healthcare_power_of_attorney', 'executor', 'other'] as const;

export const NewAuthorization = z
  .object({
    infoDescription: z.string().trim().min(1, 'AUTH-01(i): describe the information to be used'),
    infoCategories: z.array(z.string().min(1)).min(1, 'AUTH-08: list the information categories (template fields) covered'),
    disclosers: z.array(z.string().trim().min(1)).min(1, 'AUTH-01(ii): name who may disclose'),
    recipients: z.array(z.string().trim().min(1)).min(1, 'AUTH-01(iii): name the recipients'),
    purposes: z.array(z.enum(PURPOSES)).min(1, 'AUTH-01(iv): state each purpose'),
    channels: z.array(z.enum(CHANNELS)).min(1, 'AUTH-08: name the channels'),
    sponsors: z.array(z.string().trim().min(1)).default([]),
    remunerationDisclosed: z.boolean().default(false),
    saleOfPhi: z.boolean().default(false),
    /** A date alone means the end of that day in the covered entity's time zone (AUTH-04e). */
    expiresAt: DateOrDateTime.optional(),
    expirationEvent: z.string().trim().min(1).optional(),
    signedAt: z.iso.datetime({ offset: true }),
    signer: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('self') }).strict(),
      z
        .object({
          kind: z.literal('personal_representative'),
          name: z.string().trim().min(1),
          authorityDescription: z.string().trim().min(1, 'AUTH-01(vi)/AUTH-09: describe the representative\'s authority'),
          /** What the authority rests on (164.502(g)); a parent's ends when the patient comes of age. */
          authorityType: z.enum(REPRESENTATIVE_AUTHORITIES, { error: `AUTH-09: the authority type is one of ${REPRESENTATIVE_AUTHORITIES.join(', ')}` }),
          /** Where the authority is documented (court order, birth certificate seen, POA document id…). */
          evidence: z.string().trim().min(1).max(2_000).optional(),
        })
        .strict(),
    ]),
    signature: z
      .object({
        method: z.enum(['electronic', 'wet']),
        /** The signer was authenticated (portal session, identity proofing) (AUTH-11). */
        authenticated: z.boolean(),
        /** The patient the signature was captured for, when the capturing system knows it. */
        patientId: z.string().optional(),
        evidence: z.string().max(2_000).optional(),
      })
      .strict(),
    statements: z
      .object({
        revocation: z.boolean(),
        conditioning: z.boolean(),
        redisclosure: z.boolean(),
        remuneration: z.boolean().optional(),
      })
      .strict(),
    document: z
      .object({
        templateVersion: z.string().min(1),
        /** SHA-256 (hex) of the rendered document the patient signed. */
        hash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest'),
        /** Tagged blocks of the signed document. */
        blocks: z.array(z.string()).default([]),
      })
      .strict(),
    source: z.enum(['api', 'fhir', 'form']).default('api'),
    /** The covered entity asked for it (the usual case): the patient must get a copy (AUTH-03). */
    requestedBy: z.enum(['covered_entity', 'patient']).default('covered_entity'),
  })
  .strict();
export type NewAuthorization = z.infer<typeof NewAuthorization>;

export interface AuthorizationProblem {
  path: string;
  message: string;
}

/** What is known of the patient the authorization is about (AUTH-09). */
export interface AuthorizationSubject {
  birthDate: string | null;
  ageOfMajority: number;
}

/** Rules across fields; an empty list means the record may be stored. */
export function authorizationDefects(
  a: NewAuthorization,
  patientId: string,
  now: Date,
  timeZone: string,
  subject: AuthorizationSubject = { birthDate: null, ageOfMajority: DEFAULT_AGE_OF_MAJORITY },
): AuthorizationProblem[] {
  const problems: AuthorizationProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  // AUTH-09: a parent signs only for a minor, and only a known birth date shows who is one.
  if (a.signer.kind === 'personal_representative' && a.signer.authorityType === 'parent_of_minor') {
    if (!subject.birthDate) add('signer.authorityType', "AUTH-09: a parent signs for a minor: the patient's birth date must be on record");
    else if (majorityInstant(subject.birthDate, subject.ageOfMajority, timeZone) <= Date.parse(a.signedAt)) {
      add('signer.authorityType', 'AUTH-09: the patient was of age when this was signed: they sign for themselves');
    }
  }
  if (!a.expiresAt && !a.expirationEvent) add('expiresAt', 'AUTH-01(v): an expiry date or event is required (none is allowed only for research)');
  const signedAt = Date.parse(a.signedAt);
  if (signedAt > now.getTime() + 5 * 60_000) add('signedAt', 'AUTH-04: signed in the future');
  const expiresAt = a.expiresAt ? expiryInstant(a.expiresAt, timeZone) : null;
  if (expiresAt !== null && expiresAt <= signedAt) add('expiresAt', 'AUTH-04: already expired when signed');
  if (a.signature.patientId !== undefined && a.signature.patientId !== patientId) add('signature.patientId', 'AUTH-04: the signature is for another patient');
  if (!a.statements.revocation) add('statements.revocation', 'AUTH-02: the right-to-revoke statement is missing');
  if (!a.statements.conditioning) add('statements.conditioning', 'AUTH-02: the no-conditioning statement is missing');
  if (!a.statements.redisclosure) add('statements.redisclosure', 'AUTH-02: the redisclosure statement is missing');
  const paid = a.sponsors.length > 0 || a.remunerationDisclosed;
  if (paid && (!a.remunerationDisclosed || !a.statements.remuneration)) add('statements.remuneration', 'MKT-05: a paid authorization must state that remuneration is involved');
  const foreign = a.document.blocks.filter((b) => FOREIGN_BLOCKS.includes(b));
  if (foreign.length) add('document.blocks', `AUTH-05: an authorization cannot be combined with ${foreign.join(', ')}`);
  return problems;
}

/** The instant an authorization stops being valid: a bare date ends at midnight after it, locally. */
export function expiryInstant(value: string, timeZone: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return Date.parse(value);
  const [y, m, d] = value.split('-').map(Number) as [number, number, number];
  const next = new Date(Date.UTC(y, m - 1, d + 1));
  return zonedTimeToUtc(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, 0, timeZone);
}

export function documentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
