// Authorizations from FHIR R4 `Consent` resources. Core Consent has no place for some 164.508
// elements (the required statements, channels, the fields covered), so Haven reads them from
// documented extensions; anything missing is reported as an OperationOutcome, element by element,
// and nothing is stored. The mapping:
//   category        LOINC 64292-6 or consentcategorycodes#hipaa-auth (else: not an authorization)
//   purposes        provision.purpose (v3-ActReason: HMARKT → MARKETING, TREAT, HOPERAT, HPAYMT…)
//   infoDescription sourceAttachment.title
//   disclosers      organization[]      recipients  provision.actor[role PRCP|IRCP]
//   expiresAt       provision.period.end           signedAt   dateTime
//   signer          performer[0] (Patient → self; RelatedPerson → representative + authority and authority-type extensions)
//   signature       verification[].verified → authenticated
//   document        sourceAttachment.data (SHA-256 computed) and .url or identifier (version)
import { createHash } from 'node:crypto';
import type { Consent, Extension, OperationOutcome, Reference } from 'fhir/r4.js'; // @types/fhir (R4)
import type { AuthorizationProblem } from './authorizations.ts';

export const HAVEN_FHIR = 'https://haven.dev/fhir/StructureDefinition';
export const EXT = {
  infoCategories: `${HAVEN_FHIR}/authorization-info-category`,
  channel: `${HAVEN_FHIR}/authorization-channel`,
  statements: `${HAVEN_FHIR}/authorization-statements`,
  sponsor: `${HAVEN_FHIR}/authorization-sponsor`,
  remunerationDisclosed: `${HAVEN_FHIR}/authorization-remuneration-disclosed`,
  representativeAuthority: `${HAVEN_FHIR}/representative-authority`,
  representativeAuthorityType: `${HAVEN_FHIR}/representative-authority-type`,
};

const PURPOSE_CODES: Record<string, string> = {
  HMARKT: 'MARKETING',
  TREAT: 'TREATMENT',
  HOPERAT: 'CARE_COORDINATION',
  CAREMGT: 'CARE_COORDINATION',
  HRESCH: 'RESEARCH',
  PATADMIN: 'TRANSACTIONAL',
};
const AUTHORIZATION_CATEGORIES = ['http://loinc.org|64292-6', 'http://terminology.hl7.org/CodeSystem/consentcategorycodes|hipaa-auth'];

export type FhirImport = { ok: true; input: Record<string, unknown> } | { ok: false; problems: AuthorizationProblem[] };

export function authorizationFromConsent(resource: unknown, patientId: string): FhirImport {
  const problems: AuthorizationProblem[] = [];
  const add = (path: string, message: string) => problems.push({ path, message });
  const consent = resource as Consent;
  if (typeof consent !== 'object' || consent === null || consent.resourceType !== 'Consent') {
    return { ok: false, problems: [{ path: 'resourceType', message: 'expected a FHIR R4 Consent' }] };
  }
  if (consent.status !== 'active') add('Consent.status', `only an active Consent is an authorization (status is ${JSON.stringify(consent.status ?? null)})`);
  const categories = (consent.category ?? []).flatMap((c) => c.coding ?? []).map((c) => `${c.system}|${c.code}`);
  if (!categories.some((c) => AUTHORIZATION_CATEGORIES.includes(c))) add('Consent.category', 'not a HIPAA authorization (category LOINC 64292-6 or hipaa-auth)');
  const subject = consent.patient?.reference;
  if (subject !== `Patient/${patientId}`) add('Consent.patient', 'the Consent is not about this patient');

  const provision = consent.provision ?? {};
  const purposeCodes = (provision.purpose ?? []).map((p) => p.code ?? '');
  const purposes = purposeCodes.map((c) => PURPOSE_CODES[c]);
  if (purposes.some((p) => p === undefined)) add('Consent.provision.purpose', `unsupported purpose code(s) ${purposeCodes.filter((c) => !PURPOSE_CODES[c]).join(', ')}`);
  const recipients = (provision.actor ?? [])
    .filter((a) => (a.role?.coding ?? []).some((c) => c.code === 'PRCP' || c.code === 'IRCP'))
    .map((a) => referenceName(a.reference));

  const performer = consent.performer?.[0]?.reference ?? '';
  const signer = performer.startsWith('Patient/')
    ? { kind: 'self' }
    : performer.startsWith('RelatedPerson/')
      ? {
          kind: 'personal_representative',
          name: referenceName(consent.performer![0]!),
          authorityDescription: extensionString(consent.extension, EXT.representativeAuthority) ?? '',
          authorityType: consent.extension?.find((e) => e.url === EXT.representativeAuthorityType)?.valueCode ?? '',
        }
      : undefined;
  if (!signer) add('Consent.performer', 'the signer (a Patient or RelatedPerson performer) is missing');

  const statements = consent.extension?.find((e) => e.url === EXT.statements)?.extension ?? [];
  const statement = (name: string) => statements.find((e) => e.url === name)?.valueBoolean;
  const attachment = consent.sourceAttachment;
  const hash = attachment?.data ? createHash('sha256').update(Buffer.from(attachment.data, 'base64')).digest('hex') : undefined;
  if (!hash) add('Consent.sourceAttachment.data', 'the signed document itself is missing (its hash is recorded)');

  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    input: {
      infoDescription: attachment?.title ?? '',
      infoCategories: extensionStrings(consent.extension, EXT.infoCategories),
      disclosers: (consent.organization ?? []).map(referenceName),
      recipients,
      purposes,
      channels: extensionStrings(consent.extension, EXT.channel, 'valueCode'),
      sponsors: extensionStrings(consent.extension, EXT.sponsor),
      remunerationDisclosed: consent.extension?.find((e) => e.url === EXT.remunerationDisclosed)?.valueBoolean ?? false,
      ...(provision.period?.end ? { expiresAt: provision.period.end } : {}),
      signedAt: consent.dateTime && consent.dateTime.length > 10 ? consent.dateTime : `${consent.dateTime ?? ''}T00:00:00Z`,
      signer,
      signature: { method: 'electronic', authenticated: (consent.verification ?? []).some((v) => v.verified === true) },
      statements: {
        revocation: statement('revocation') ?? false,
        conditioning: statement('conditioning') ?? false,
        redisclosure: statement('redisclosure') ?? false,
        ...(statement('remuneration') !== undefined ? { remuneration: statement('remuneration') } : {}),
      },
      document: { templateVersion: attachment?.url ?? consent.identifier?.[0]?.value ?? `Consent/${consent.id ?? 'unidentified'}`, hash },
      source: 'fhir',
    },
  };
}

/** The problems as a FHIR OperationOutcome (what a FHIR client expects back). */
export function operationOutcome(problems: AuthorizationProblem[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: problems.map((p) => ({
      severity: 'error',
      code: /missing|required/i.test(p.message) ? 'required' : 'invalid',
      diagnostics: p.message,
      expression: [p.path.startsWith('Consent') ? p.path : `Consent(authorization).${p.path}`],
    })),
  };
}

function referenceName(reference: Reference | undefined): string {
  return reference?.display ?? reference?.reference ?? '';
}

function extensionStrings(extensions: Extension[] | undefined, url: string, key: 'valueString' | 'valueCode' = 'valueString'): string[] {
  return (extensions ?? []).filter((e) => e.url === url).map((e) => e[key] ?? '').filter(Boolean);
}

function extensionString(extensions: Extension[] | undefined, url: string): string | undefined {
  return (extensions ?? []).find((e) => e.url === url)?.valueString;
}
