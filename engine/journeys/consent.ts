// Consent changes as the journeys see them: revocations, opt-outs, directives and restrictions
// are written to the consent ledgers, then every running run of the patient is told, so a send
// waiting for its window is decided again at once. The send gate stays the backstop: a lost or
// late signal can never cause a send.
import {
  addDirective,
  addRestriction,
  addSuppression,
  addUnencryptedEmailElection,
  authorizationFromConsent,
  ConsentInvalidError,
  createAuthorization,
  endAuthorization,
  recordUnsubscribe,
  representativeProblems,
} from '../consent/index.ts';
import { recordAudit } from '../audit/index.ts';
import type { TrackingClaim } from '../delivery/index.ts';
import { signalConsentChanged, startAuthorizationCopy } from '../temporal/index.ts';
import type { JourneyDeps } from './deps.ts';
import { NotFoundError } from './errors.ts';

/** Signals every running run of the patient; returns how many heard it. */
export async function notifyConsentChanged({ db, temporal }: JourneyDeps, patientId: string): Promise<number> {
  const running = await db.enrollment.findMany({ where: { patientId, status: { in: ['starting', 'active'] } }, select: { workflowId: true } });
  const heard = await Promise.all(running.map((r) => signalConsentChanged(temporal, r.workflowId).catch(() => false)));
  return heard.filter(Boolean).length;
}

async function patientExists(deps: JourneyDeps, patientId: string): Promise<void> {
  if (!(await deps.db.patient.findUnique({ where: { id: patientId }, select: { id: true } }))) throw new NotFoundError('patient');
}

export async function recordAuthorization(deps: JourneyDeps, patientId: string, input: unknown) {
  // AUTH-03: the authorization is stored only if its copy could be queued.
  const enqueueCopy = (id: string) => startAuthorizationCopy(deps.temporal, deps.temporalSettings, id, deps.consent.authorizationCopyAttempts ?? 8);
  const created = await createAuthorization(deps.db, patientId, input, deps.defaultTimeZone, enqueueCopy, new Date(), deps.consent.ageOfMajority);
  if (!created) throw new NotFoundError('patient');
  await notifyConsentChanged(deps, patientId);
  return created;
}

/** AUTH-03 staff queue: copies by status (e.g. `failed`: to be delivered by other means). */
export function listAuthorizationCopies({ db }: JourneyDeps, status: string) {
  return db.authorizationCopy.findMany({ where: { status }, orderBy: { updatedAt: 'asc' }, take: 500 });
}

/** An authorization from a FHIR R4 Consent resource; refused (element by element) when incomplete. */
export async function recordFhirAuthorization(deps: JourneyDeps, patientId: string, resource: unknown) {
  const mapped = authorizationFromConsent(resource, patientId);
  if (!mapped.ok) throw new ConsentInvalidError(mapped.problems);
  return recordAuthorization(deps, patientId, mapped.input);
}

export async function endPatientAuthorization(deps: JourneyDeps, patientId: string, authorizationId: string, input: unknown) {
  const ended = await endAuthorization(deps.db, patientId, authorizationId, input);
  if (!ended) throw new NotFoundError('authorization');
  const signalled = await notifyConsentChanged(deps, patientId);
  return { ...ended, signalled };
}

export type ConsentEntryKind = 'suppression' | 'directive' | 'restriction' | 'unencrypted_email';

export async function recordConsentEntry(deps: JourneyDeps, patientId: string, kind: ConsentEntryKind, input: unknown) {
  await patientExists(deps, patientId);
  const write = { suppression: addSuppression, directive: addDirective, restriction: addRestriction, unencrypted_email: addUnencryptedEmailElection }[kind];
  const row = await write(deps.db, patientId, input);
  const signalled = await notifyConsentChanged(deps, patientId);
  return { ...row, signalled };
}

/** The patient's consent ledgers and the most recent decisions made with them. */
export async function consentOverview({ db, consent }: JourneyDeps, patientId: string) {
  const patient = await db.patient.findUnique({ where: { id: patientId }, select: { id: true, birthDate: true } });
  if (!patient) throw new NotFoundError('patient');
  const [authorizations, copies, suppressions, directives, restrictions, unencryptedEmail, decisions] = await Promise.all([
    db.authorization.findMany({ where: { patientId }, include: { ends: true }, orderBy: { signedAt: 'desc' } }),
    db.authorizationCopy.findMany({ where: { patientId } }),
    db.suppression.findMany({ where: { patientId }, orderBy: { receivedAt: 'desc' } }),
    db.directive.findMany({ where: { patientId }, orderBy: { receivedAt: 'desc' } }),
    db.restriction.findMany({ where: { patientId }, orderBy: { agreedAt: 'desc' } }),
    db.unencryptedEmailElection.findMany({ where: { patientId }, orderBy: { receivedAt: 'desc' } }),
    db.decision.findMany({ where: { patientId }, orderBy: { at: 'desc' }, take: 50, omit: { seq: true, prevHash: true, hash: true } }),
  ]);
  const copyOf = (id: string) => copies.find((c) => c.authorizationId === id);
  return {
    // AUTH-03: each authorization with its copy (status, copyProvidedAt, channel, result); null when the patient asked for it.
    // AUTH-09: `flags` says why an authorization is no longer usable although never revoked.
    authorizations: authorizations.map((a) => ({
      ...a,
      copy: copyOf(a.id) ?? null,
      flags: representativeProblems({ signer: a.signer as { kind?: string; authorityType?: string } }, patient, consent, new Date()),
    })),
    suppressions,
    directives,
    restrictions,
    unencryptedEmail,
    decisions,
  };
}

/**
 * One-click unsubscribe (RFC 8058, CS-04/05/06): suppresses the message's stream for the patient
 * and, by default, revokes the patient's marketing authorizations for email (AUTH-07). Idempotent.
 * Null when the token names no message.
 */
export async function unsubscribe(deps: JourneyDeps, claim: TrackingClaim): Promise<{ patientId: string } | null> {
  const { db } = deps;
  const message = await db.message.findUnique({
    where: { trackingId: claim.trackingId },
    include: { enrollment: { include: { version: true } } },
  });
  if (!message) return null;
  const definition = message.enrollment.version.definition as { nodes?: { id: string; stream?: string }[] };
  const stream = definition.nodes?.find((n) => n.id === message.nodeId)?.stream ?? 'broadcast';
  const patientId = message.patientId;
  const { changed } = await recordUnsubscribe(db, patientId, stream, 'list-unsubscribe');
  // The patient acted through their own link: no account, so the link is the actor (LOG-01).
  // Replays change nothing and are not recorded again (a flood of them must not flood the log).
  if (changed) await recordAudit(db, { principal: 'patient:unsubscribe-link', action: 'suppression.unsubscribe', objectType: 'message', objectId: message.id, outcome: 'ok', details: { patientId, stream } });
  await notifyConsentChanged(deps, patientId);
  return { patientId };
}
