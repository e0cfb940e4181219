// decide(): the one deny-by-default policy (INV-1) — marketing, fundraising, authorizations,
// suppression, confidential communications and restrictions, each case named by its ID.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type Decision } from '../../engine/consent/index.ts';
import { facts, marketingAuthorization, NOW, SETTINGS, step } from './fixtures.ts';

const denied = (d: Decision, reason: string) => {
  assert.equal(d.allow, false, `expected a denial (${reason}), got ${JSON.stringify(d)}`);
  assert.ok(d.reasons.includes(reason), `expected ${reason} in ${d.reasons.join(', ')}`);
};
const allowed = (d: Decision) => assert.equal(d.allow, true, `expected allow, got ${d.reasons.join(', ')}`);
const at = (iso: string) => new Date(iso);

describe('INV-1 deny by default', () => {
  it('INV-1 unknown purpose, unknown channel, unclassified step or an exception → deny with a reason', () => {
    denied(decide(step({ purpose: 'treatment ' }), facts(), SETTINGS, NOW), 'UNKNOWN_PURPOSE');
    denied(decide(step({ channel: 'fax' }), facts(), SETTINGS, NOW), 'UNKNOWN_CHANNEL');
    denied(decide(step({ usesPhi: undefined }), facts(), SETTINGS, NOW), 'STEP_NOT_CLASSIFIED');
    denied(decide(step({ thirdPartyRemuneration: 'maybe' }), facts(), SETTINGS, NOW), 'STEP_NOT_CLASSIFIED');
  });

  it('INV-1 fuzz: missing or wrong-typed fields and throwing facts always deny, always with a reason', () => {
    const broken: unknown[] = [null, undefined, 42, 'x', [], {}, { purpose: 'MARKETING' }];
    let n = 0;
    for (const s of broken) {
      for (const f of [null, {}, { authorizations: null }, facts({ suppressions: null as never })]) {
        const d = decide(s as never, f as never, SETTINGS, NOW);
        assert.equal(d.allow, false, JSON.stringify({ s, f }));
        assert.ok(d.reasons.length > 0);
        n++;
      }
    }
    const throwing = facts();
    Object.defineProperty(throwing, 'authorizations', { get: () => { throw new Error('database gone'); } });
    denied(decide(step({ purpose: 'MARKETING' }), throwing, SETTINGS, NOW), 'EVALUATION_ERROR');
    denied(decide(step(), facts(), SETTINGS, new Date(Number.NaN)), 'EVALUATION_ERROR');
    assert.equal(n, 28);
  });

  it('a treatment reminder is allowed without any marketing authorization, to the primary address', () => {
    const d = decide(step(), facts(), SETTINGS, NOW);
    allowed(d);
    assert.equal(d.address, 'pat@example.test');
    assert.equal(d.contactPoint, 'primary');
  });
});

describe('marketing (MKT)', () => {
  it('MKT-01 marketing with PHI and no authorization → NO_MARKETING_AUTHORIZATION', () => {
    denied(decide(step({ purpose: 'MARKETING' }), facts(), SETTINGS, NOW), 'NO_MARKETING_AUTHORIZATION');
  });

  it('MKT-01 marketing with a valid authorization is allowed, and the decision names it', () => {
    const d = decide(step({ purpose: 'MARKETING', stream: 'broadcast' }), facts({ authorizations: [marketingAuthorization()] }), SETTINGS, NOW);
    allowed(d);
    assert.equal(d.authorizationIdUsed, 'auth-1');
    assert.equal(d.commercial, true);
  });

  it('MKT-03 care coordination paid for by a sponsor is marketing: an authorization is required', () => {
    denied(decide(step({ purpose: 'CARE_COORDINATION', sponsor: 'PharmaCo' }), facts(), SETTINGS, NOW), 'NO_MARKETING_AUTHORIZATION');
    denied(decide(step({ purpose: 'TREATMENT', thirdPartyRemuneration: 'costBased' }), facts(), SETTINGS, NOW), 'NO_MARKETING_AUTHORIZATION');
    allowed(decide(step({ purpose: 'CARE_COORDINATION' }), facts(), SETTINGS, NOW));
  });

  const refill = (activeUntil: string | null, extra: Partial<ReturnType<typeof step>> = {}) =>
    step({ purpose: 'REFILL_REMINDER', prescription: { activeUntil: activeUntil === null ? null : at(activeUntil) }, ...extra });

  it('MKT-02 a refill reminder is an exception only while remuneration covers cost', () => {
    allowed(decide(refill('2027-01-01T00:00:00Z', { thirdPartyRemuneration: 'costBased' }), facts(), SETTINGS, NOW));
    denied(decide(refill('2027-01-01T00:00:00Z', { thirdPartyRemuneration: 'exceedsCost' }), facts(), SETTINGS, NOW), 'NO_MARKETING_AUTHORIZATION');
  });

  it('MKT-02 a prescription lapsed 90 calendar days is still covered; 91 is not; unknown is not', () => {
    // NOW is 2026-12-03 10:00 in New York. 90 days earlier is 2026-09-04.
    allowed(decide(refill('2026-09-04T20:00:00-04:00'), facts(), SETTINGS, NOW));
    denied(decide(refill('2026-09-03T20:00:00-04:00'), facts(), SETTINGS, NOW), 'REFILL_PRESCRIPTION_LAPSED');
    denied(decide(refill(null), facts(), SETTINGS, NOW), 'REFILL_NO_CURRENT_PRESCRIPTION');
    denied(decide(step({ purpose: 'REFILL_REMINDER' }), facts(), SETTINGS, NOW), 'REFILL_NO_CURRENT_PRESCRIPTION');
  });

  it('MKT-02 calendar days are counted on the local calendar, across a DST change and time zones', () => {
    // 23:30 in New York on 2026-09-04 is already 2026-09-05 in UTC: the local date counts.
    allowed(decide(refill('2026-09-05T03:30:00Z'), facts(), SETTINGS, NOW));
    const tokyo = { ...SETTINGS, timeZone: 'Asia/Tokyo' };
    // In Tokyo, NOW is 2026-12-04; 2026-09-04T20:00-04:00 is 2026-09-05 there: 90 days, allowed.
    allowed(decide(refill('2026-09-04T20:00:00-04:00'), facts(), tokyo, NOW));
    denied(decide(refill('2026-09-04T12:00:00+09:00'), facts(), tokyo, NOW), 'REFILL_PRESCRIPTION_LAPSED');
  });

  it('MKT-04 the face-to-face or nominal-gift exception never applies to email', () => {
    denied(decide(step({ purpose: 'MARKETING', exception: 'FACE_TO_FACE' }), facts({ authorizations: [marketingAuthorization()] }), SETTINGS, NOW), 'EXCEPTION_NOT_ELECTRONIC');
  });

  it('MKT-05 paid marketing needs the remuneration statement and the paying sponsor named', () => {
    const paid = step({ purpose: 'MARKETING', thirdPartyRemuneration: 'exceedsCost', sponsor: 'SponsorB' });
    denied(decide(paid, facts({ authorizations: [marketingAuthorization()] }), SETTINGS, NOW), 'AUTH_MISSING_REMUNERATION_STATEMENT');
    const namesA = marketingAuthorization({ sponsors: ['SponsorA'], remunerationDisclosed: true, statements: { revocation: true, conditioning: true, redisclosure: true, remuneration: true } });
    denied(decide(paid, facts({ authorizations: [namesA] }), SETTINGS, NOW), 'AUTH_SPONSOR_NOT_COVERED');
    allowed(decide(paid, facts({ authorizations: [{ ...namesA, sponsors: ['SponsorB'] }] }), SETTINGS, NOW));
  });

  it('MKT-07 government program information and general health promotion need no authorization', () => {
    allowed(decide(step({ purpose: 'GOV_PROGRAM_INFO' }), facts(), SETTINGS, NOW));
    allowed(decide(step({ purpose: 'GENERAL_HEALTH_PROMOTION', fields: [] }), facts(), SETTINGS, NOW));
  });
});

describe('authorizations at decision time (AUTH)', () => {
  const marketing = step({ purpose: 'MARKETING' });
  const with_ = (a: Parameters<typeof marketingAuthorization>[0]) => facts({ authorizations: [marketingAuthorization(a)] });

  it('AUTH-04a an authorization that expired a millisecond ago denies', () => {
    denied(decide(marketing, with_({ expiresAt: new Date(NOW.getTime() - 1) }), SETTINGS, NOW), 'AUTHORIZATION_EXPIRED');
    allowed(decide(marketing, with_({ expiresAt: new Date(NOW.getTime() + 1) }), SETTINGS, NOW));
  });

  it('AUTH-04b a recorded expiry event denies from the moment it was received', () => {
    const a = with_({ expiresAt: null, expirationEvent: 'end of the wellness program', ends: [{ kind: 'expiration_event', receivedAt: at('2026-12-01T00:00:00Z') }] });
    denied(decide(marketing, a, SETTINGS, NOW), 'AUTHORIZATION_EXPIRED');
    allowed(decide(marketing, a, SETTINGS, at('2026-11-30T23:59:59Z')));
  });

  it('AUTH-04c AUTH-07 revocation denies from receipt; sends before it stay valid', () => {
    const a = with_({ ends: [{ kind: 'revocation', receivedAt: at('2026-12-03T14:00:00Z') }] });
    denied(decide(marketing, a, SETTINGS, NOW), 'AUTHORIZATION_REVOKED');
    allowed(decide(marketing, a, SETTINGS, at('2026-12-03T13:59:59Z')));
  });

  it('AUTH-04d defects (compound, conditioned, false information) deny', () => {
    for (const flag of ['compound', 'conditioned', 'falseInformation'] as const) denied(decide(marketing, with_({ [flag]: true }), SETTINGS, NOW), 'AUTHORIZATION_DEFECTIVE');
    denied(decide(marketing, with_({ expiresAt: null, expirationEvent: null }), SETTINGS, NOW), 'AUTHORIZATION_DEFECTIVE');
    denied(decide(marketing, with_({ statements: { revocation: true, conditioning: false, redisclosure: true } }), SETTINGS, NOW), 'AUTHORIZATION_DEFECTIVE');
  });

  it('AUTH-08 use must match scope: channel, information and sponsor', () => {
    denied(decide(marketing, with_({ channels: ['sms'] }), SETTINGS, NOW), 'AUTH_SCOPE_CHANNEL');
    denied(decide(step({ purpose: 'MARKETING', fields: ['patient.givenName', 'trigger.diagnosis'] }), with_({}), SETTINGS, NOW), 'AUTH_SCOPE_INFO');
    allowed(decide(step({ purpose: 'MARKETING', fields: ['trigger.program.name'] }), with_({ infoCategories: ['trigger.program'] }), SETTINGS, NOW));
  });

  it('AUTH-09 a parent-signed authorization is used until the patient comes of age, then flagged and denied until they sign', () => {
    const parent = marketingAuthorization({ signer: { kind: 'personal_representative', authorityType: 'parent_of_minor' } });
    const marketing = step({ purpose: 'MARKETING' });
    // 18th birthday on 4 December 2026: authority ends at local midnight (America/New_York).
    const minor = facts({ authorizations: [parent], birthDate: '2008-12-04' });
    allowed(decide(marketing, minor, SETTINGS, at('2026-12-04T04:59:59Z')));
    denied(decide(marketing, minor, SETTINGS, at('2026-12-04T05:00:00Z')), 'AUTHORIZATION_REPRESENTATIVE_AUTHORITY_ENDED');
    // Born on 29 February: of age on 28 February in a common year (the earlier day).
    const leapling = facts({ authorizations: [{ ...parent, signedAt: at('2025-06-01T12:00:00Z') }], birthDate: '2008-02-29' });
    allowed(decide(marketing, leapling, SETTINGS, at('2026-02-28T04:59:59Z')));
    denied(decide(marketing, leapling, SETTINGS, at('2026-02-28T05:00:00Z')), 'AUTHORIZATION_REPRESENTATIVE_AUTHORITY_ENDED');
    // State law sets the age: at 21, the same patient is still a minor.
    allowed(decide(marketing, minor, { ...SETTINGS, ageOfMajority: 21 }, at('2027-01-01T00:00:00Z')));
    // No birth date on record: nobody can tell whether the parent may still sign.
    denied(decide(marketing, facts({ authorizations: [parent] }), SETTINGS, NOW), 'AUTHORIZATION_REPRESENTATIVE_UNVERIFIED');
    // A guardian's or the patient's own authorization does not end at majority; a new self-signed one is used.
    const guardian = marketingAuthorization({ signer: { kind: 'personal_representative', authorityType: 'legal_guardian' } });
    allowed(decide(marketing, facts({ authorizations: [guardian], birthDate: '2000-01-01' }), SETTINGS, NOW));
    const own = marketingAuthorization({ id: 'auth-2', signer: { kind: 'self' }, signedAt: at('2026-12-04T12:00:00Z') });
    const renewed = decide(marketing, facts({ authorizations: [parent, own], birthDate: '2008-12-04' }), SETTINGS, at('2026-12-05T00:00:00Z'));
    allowed(renewed);
    assert.equal(renewed.authorizationIdUsed, 'auth-2');
  });

  it('AUTH-11 a signature without an authenticated signer is not usable', () => {
    denied(decide(marketing, with_({ signature: { authenticated: false } }), SETTINGS, NOW), 'AUTHORIZATION_PENDING_IDENTITY');
  });

  it('uses any valid authorization; a revoked older one does not spoil a newer one', () => {
    const old = marketingAuthorization({ id: 'old', signedAt: at('2025-01-01T00:00:00Z'), ends: [{ kind: 'revocation', receivedAt: at('2025-06-01T00:00:00Z') }] });
    const d = decide(marketing, facts({ authorizations: [old, marketingAuthorization({ id: 'new' })] }), SETTINGS, NOW);
    allowed(d);
    assert.equal(d.authorizationIdUsed, 'new');
  });
});

describe('suppression, fundraising, commercial rules (INV-6, FUND, CS)', () => {
  const sup = (kind: string, stream: string | null = null) => ({ kind, stream, channel: 'email', receivedAt: at('2026-12-01T00:00:00Z') });
  const commercialStep = step({ purpose: 'GENERAL_HEALTH_PROMOTION', stream: 'broadcast', fields: [] });

  it('INV-6 every opt-out source writes the one ledger and decide() denies on it', () => {
    denied(decide(commercialStep, facts({ suppressions: [sup('unsubscribe', 'broadcast')] }), SETTINGS, NOW), 'SUPPRESSED_UNSUBSCRIBED');
    denied(decide(commercialStep, facts({ suppressions: [sup('unsubscribe_all')] }), SETTINGS, NOW), 'SUPPRESSED_UNSUBSCRIBED');
    denied(decide(commercialStep, facts({ suppressions: [sup('complaint')] }), SETTINGS, NOW), 'SUPPRESSED_COMPLAINT');
    denied(decide(step(), facts({ suppressions: [sup('hard_bounce')] }), SETTINGS, NOW), 'SUPPRESSED_HARD_BOUNCE');
    denied(decide(step({ purpose: 'FUNDRAISING', fields: [] }), facts({ suppressions: [sup('fundraising_opt_out')] }), SETTINGS, NOW), 'FUNDRAISING_OPT_OUT');
  });

  it('CS-05 an unsubscribe from marketing does not stop messages about the patient\'s own care', () => {
    allowed(decide(step(), facts({ suppressions: [sup('unsubscribe', 'broadcast'), sup('unsubscribe_all')] }), SETTINGS, NOW));
  });

  it('FUND-01 fundraising: only demographics, only with the NPP statement, and a patient may opt back in', () => {
    denied(decide(step({ purpose: 'FUNDRAISING', fields: ['trigger.diagnosis'] }), facts(), SETTINGS, NOW), 'FUNDRAISING_FIELD_NOT_ALLOWED');
    denied(decide(step({ purpose: 'FUNDRAISING' }), facts(), { ...SETTINGS, nppFundraisingStatement: false }, NOW), 'FUNDRAISING_NOT_IN_NPP');
    const back = facts({ suppressions: [sup('fundraising_opt_out'), { ...sup('fundraising_opt_in'), receivedAt: at('2026-12-02T00:00:00Z') }] });
    allowed(decide(step({ purpose: 'FUNDRAISING' }), back, SETTINGS, NOW));
  });

  it('CS-07 commercial email without a postal address on record is blocked', () => {
    denied(decide(commercialStep, facts(), { ...SETTINGS, postalAddress: '  ' }, NOW), 'NO_POSTAL_ADDRESS');
    allowed(decide(step(), facts(), { ...SETTINGS, postalAddress: '' }, NOW));
  });
});

describe('confidential communications and restrictions (RCC)', () => {
  const directive = (kind: string, address: string | null = null, receivedAt = '2026-12-01T00:00:00Z') => ({ kind, channel: 'email', address, receivedAt: at(receivedAt) });

  it('RCC-01 a directive to an alternate address is used, never the primary one', () => {
    const d = decide(step(), facts({ directives: [directive('redirect', 'alt@example.test')] }), SETTINGS, NOW);
    allowed(d);
    assert.equal(d.address, 'alt@example.test');
    assert.equal(d.contactPoint, 'directive');
  });

  it('RCC-01 "no email" forbids the channel, and there is no fallback to the primary address', () => {
    const d = decide(step(), facts({ directives: [directive('forbid_channel')] }), SETTINGS, NOW);
    denied(d, 'CONFIDENTIAL_COMMUNICATION_FORBIDS_CHANNEL');
    assert.equal(d.address, undefined);
    denied(decide(step(), facts({ directives: [directive('require_portal')] }), SETTINGS, NOW), 'CONFIDENTIAL_COMMUNICATION_REQUIRES_PORTAL');
  });

  it('RCC-01 the newest directive decides; a withdrawn one restores the primary address', () => {
    const d = decide(step(), facts({ directives: [directive('redirect', 'alt@example.test'), directive('withdrawn', null, '2026-12-02T00:00:00Z')] }), SETTINGS, NOW);
    assert.equal(d.address, 'pat@example.test');
  });

  it('RCC-03 PHI email goes "TLS or portal" unless the patient elected unencrypted email for that very address', () => {
    const elected = (address: string | null, receivedAt = '2026-12-01T00:00:00Z') => ({ kind: 'elected', channel: 'email', address, receivedAt: at(receivedAt) });
    const none = decide(step(), facts(), SETTINGS, NOW);
    assert.equal(none.transport, 'tls_or_portal');
    assert.deepEqual(none.reasons, ['NO_AUTHORIZATION_NEEDED']);

    const chosen = decide(step(), facts({ unencryptedEmail: [elected('PAT@example.test')] }), SETTINGS, NOW);
    assert.equal(chosen.transport, 'patient_elected_unencrypted');
    assert.deepEqual(chosen.reasons, ['NO_AUTHORIZATION_NEEDED', 'PATIENT_ELECTED_UNENCRYPTED'], 'logged as patient-elected');

    // Another address (a changed one, or a directive sending elsewhere): the election does not travel.
    assert.equal(decide(step(), facts({ unencryptedEmail: [elected('old@example.test')] }), SETTINGS, NOW).transport, 'tls_or_portal');
    const redirected = facts({ unencryptedEmail: [elected('pat@example.test')], directives: [directive('redirect', 'alt@example.test')] });
    assert.equal(decide(step(), redirected, SETTINGS, NOW).transport, 'tls_or_portal');
    // Withdrawn: back to TLS or portal. PHI-free mail may always go opportunistically.
    const withdrawn = { kind: 'withdrawn', channel: 'email', address: null, receivedAt: at('2026-12-02T00:00:00Z') };
    assert.equal(decide(step(), facts({ unencryptedEmail: [elected('pat@example.test'), withdrawn] }), SETTINGS, NOW).transport, 'tls_or_portal');
    assert.equal(decide(step({ usesPhi: false, fields: [] }), facts(), SETTINGS, NOW).transport, 'opportunistic');
  });

  it('RCC-02 an agreed restriction denies the purposes it names, while it lasts', () => {
    const restriction = { purposes: ['CARE_COORDINATION'], agreedAt: at('2026-11-01T00:00:00Z'), endsAt: at('2027-01-01T00:00:00Z') };
    denied(decide(step({ purpose: 'CARE_COORDINATION' }), facts({ restrictions: [restriction] }), SETTINGS, NOW), 'RESTRICTION_AGREED');
    allowed(decide(step({ purpose: 'TREATMENT' }), facts({ restrictions: [restriction] }), SETTINGS, NOW));
    allowed(decide(step({ purpose: 'CARE_COORDINATION' }), facts({ restrictions: [restriction] }), SETTINGS, at('2027-01-02T00:00:00Z')));
  });

  it('no contact point at all → deny', () => {
    denied(decide(step(), facts({ primaryAddress: null }), SETTINGS, NOW), 'NO_CONTACT_POINT');
  });
});
