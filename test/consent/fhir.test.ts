// Authorizations imported from FHIR R4 Consent resources: the official examples (npm
// hl7.fhir.r4.examples, CC0) are privacy consents, not HIPAA authorizations, and every one is
// refused with an OperationOutcome naming what is missing; a complete Consent becomes an
// authorization that lets marketing through.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { authorizationFromConsent, FHIR_EXTENSIONS as EXT } from '../../engine/consent/index.ts';
import { startStack, type Stack } from '../support/stack.ts';

const examplesDir = path.dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const consentExamples = readdirSync(examplesDir).filter((f) => /^Consent-.*\.json$/.test(f));
const load = (file: string) => JSON.parse(readFileSync(path.join(examplesDir, file), 'utf8'));

/** The "basic" example made into a complete HIPAA marketing authorization for `patientId`. */
function completeConsent(patientId: string) {
  const consent = load('Consent-consent-example-basic.json');
  delete consent.text;
  return {
    ...consent,
    patient: { reference: `Patient/${patientId}` },
    category: [{ coding: [{ system: 'http://loinc.org', code: '64292-6' }] }],
    dateTime: '2026-10-01T09:00:00Z',
    performer: [{ reference: `Patient/${patientId}` }],
    organization: [{ display: 'Springfield Clinic' }],
    verification: [{ verified: true, verificationDate: '2026-10-01T09:00:00Z' }],
    sourceAttachment: { title: 'Name and email, for news about wellness programs', url: 'https://forms.example.org/marketing-v3', data: Buffer.from('signed form text').toString('base64') },
    provision: {
      type: 'permit',
      period: { start: '2026-10-01', end: '2027-10-01' },
      purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HMARKT' }],
      actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { display: 'Springfield Clinic' } }],
    },
    extension: [
      { url: EXT.infoCategories, valueString: 'patient.givenName' },
      { url: EXT.channel, valueCode: 'email' },
      { url: EXT.statements, extension: ['revocation', 'conditioning', 'redisclosure'].map((url) => ({ url, valueBoolean: true })) },
    ],
  };
}

describe('FHIR R4 Consent import', () => {
  it(`refuses each of the ${consentExamples.length} official Consent examples, saying why`, () => {
    assert.ok(consentExamples.length >= 10, 'examples installed');
    for (const file of consentExamples) {
      const result = authorizationFromConsent(load(file), 'p1');
      assert.equal(result.ok, false, file);
      if (!result.ok) {
        assert.ok(result.problems.some((p) => p.path === 'Consent.category'), `${file}: not a HIPAA authorization`);
        assert.ok(result.problems.some((p) => p.path === 'Consent.patient'), `${file}: another patient`);
      }
    }
  });

  it('maps a complete Consent to every authorization element', () => {
    const result = authorizationFromConsent(completeConsent('p1'), 'p1');
    assert.ok(result.ok, JSON.stringify(!result.ok && result.problems));
    if (result.ok) {
      assert.deepEqual(result.input.purposes, ['MARKETING']);
      assert.deepEqual(result.input.recipients, ['Springfield Clinic']);
      assert.deepEqual(result.input.channels, ['email']);
      assert.equal(result.input.expiresAt, '2027-10-01');
      assert.deepEqual(result.input.signer, { kind: 'self' });
      assert.match((result.input.document as { hash: string }).hash, /^[0-9a-f]{64}$/);
    }
  });

  describe('through the API', () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack();
    });
    after(() => stack.close());
    const post = (patientId: string, body: unknown) =>
      fetch(`${stack.baseUrl}/api/patients/${patientId}/authorizations/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${stack.apiKey}` }, body: JSON.stringify(body) });

    it('AUTH-01 a Consent missing the required statements is refused with an OperationOutcome; nothing stored', async () => {
      const patient = (await stack.request('POST', '/api/patients', { email: 'fhir1@example.test' })).body;
      const consent = completeConsent(patient.id);
      consent.extension = consent.extension.filter((e: { url: string }) => e.url !== EXT.statements);
      const res = await post(patient.id, consent);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /application\/fhir\+json/);
      const outcome = (await res.json()) as { resourceType: string; issue: { diagnostics: string }[] };
      assert.equal(outcome.resourceType, 'OperationOutcome');
      assert.ok(outcome.issue.some((i) => /AUTH-02/.test(i.diagnostics)));
      assert.equal((await stack.request('GET', `/api/patients/${patient.id}/consent`)).body.authorizations.length, 0);
    });

    it('a complete Consent becomes an authorization', async () => {
      const patient = (await stack.request('POST', '/api/patients', { email: 'fhir2@example.test' })).body;
      const res = await post(patient.id, completeConsent(patient.id));
      assert.equal(res.status, 201, await res.clone().text());
      const overview = (await stack.request('GET', `/api/patients/${patient.id}/consent`)).body;
      assert.equal(overview.authorizations.length, 1);
      assert.equal(overview.authorizations[0].source, 'fhir');
      assert.deepEqual(overview.authorizations[0].purposes, ['MARKETING']);
    });

    it('malformed FHIR JSON gets a 400', async () => {
      const res = await fetch(`${stack.baseUrl}/api/patients/x/authorizations/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${stack.apiKey}` }, body: '{not json' });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { resourceType: string }).resourceType, 'OperationOutcome');
    });
  });
});
