// Consent facts and authorizations for tests: valid by default, each test changes one thing.
import type { AuthorizationFacts, ConsentFacts, ConsentSettings, Step } from '../../engine/consent/index.ts';

export const NOW = new Date('2026-12-03T15:00:00Z');
export const SETTINGS: ConsentSettings = { postalAddress: 'Haven Clinic, 1 Main St, Springfield, IL 62701', nppFundraisingStatement: true, timeZone: 'America/New_York' };

export function step(overrides: Partial<Step> = {}): Step {
  return {
    purpose: 'TREATMENT',
    usesPhi: true,
    thirdPartyRemuneration: 'none',
    stream: 'transactional',
    channel: 'email',
    fields: ['patient.givenName'],
    ...overrides,
  };
}

export function marketingAuthorization(overrides: Partial<AuthorizationFacts> = {}): AuthorizationFacts {
  return {
    id: 'auth-1',
    purposes: ['MARKETING'],
    channels: ['email'],
    infoCategories: ['patient.givenName', 'patient.familyName'],
    sponsors: [],
    remunerationDisclosed: false,
    statements: { revocation: true, conditioning: true, redisclosure: true },
    signature: { authenticated: true },
    signedAt: new Date('2026-06-01T12:00:00Z'),
    expiresAt: new Date('2027-06-01T00:00:00Z'),
    expirationEvent: null,
    compound: false,
    conditioned: false,
    falseInformation: false,
    ends: [],
    ...overrides,
  };
}

export function facts(overrides: Partial<ConsentFacts> = {}): ConsentFacts {
  return { primaryAddress: 'pat@example.test', authorizations: [], suppressions: [], directives: [], restrictions: [], ...overrides };
}

/** A complete, valid authorization as POST /api/patients/:id/authorizations takes it. */
export function authorizationInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    infoDescription: 'My name and email address, to send me news about the clinic\'s wellness programs',
    infoCategories: ['patient.givenName', 'patient.familyName'],
    disclosers: ['Springfield Clinic'],
    recipients: ['Springfield Clinic'],
    purposes: ['MARKETING'],
    channels: ['email'],
    expiresAt: '2027-12-31',
    signedAt: '2026-11-01T10:00:00Z',
    signer: { kind: 'self' },
    signature: { method: 'electronic', authenticated: true },
    statements: { revocation: true, conditioning: true, redisclosure: true },
    document: { templateVersion: 'marketing-v3', hash: 'a'.repeat(64), blocks: ['AUTHORIZATION', 'REVOCATION', 'CONDITIONING', 'REDISCLOSURE'] },
    // Patient-initiated, so no copy email (AUTH-03 tests ask for one explicitly).
    requestedBy: 'patient',
    ...overrides,
  };
}
