// Reading and writing the consent ledgers. Writes and send-time reads take the same per-patient
// advisory lock, so a revocation committed before a send's check is always seen by it, and one
// arriving later applies to the next send (AUTH-04 abuse case: revocation mid-flight).
import { z } from 'zod';
import { canSpamClassOf, PURPOSES, type JourneyDefinition, type NodeOf, type Template } from '../../workflows/index.ts';
import { appendRow } from '../audit/index.ts';
import type { Prisma, PrismaClient } from '../db/index.ts';
import { CHANNELS, decide, type ConsentFacts, type ConsentSettings, type Decision, type Step } from './decide.ts';
import { authorizationDefects, expiryInstant, NewAuthorization, type AuthorizationProblem } from './authorizations.ts';
import { DEFAULT_AGE_OF_MAJORITY } from './majority.ts';

type Tx = Prisma.TransactionClient | PrismaClient;

export async function lockPatient(tx: Tx, patientId: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${patientId}))`;
}

export async function loadConsentFacts(tx: Tx, patientId: string): Promise<ConsentFacts> {
  // One query (relation joins): asked at every enrollment and send, and again by every run a consent change reaches.
  const patient = await tx.patient.findUnique({
    where: { id: patientId },
    select: {
      email: true,
      birthDate: true,
      authorizations: { include: { ends: true } },
      suppressions: true,
      directives: true,
      restrictions: true,
      unencryptedEmailElections: true,
    },
  });
  const { authorizations = [], suppressions = [], directives = [], restrictions = [], unencryptedEmailElections: unencryptedEmail = [] } = patient ?? {};
  return {
    primaryAddress: patient?.email ?? null,
    birthDate: patient?.birthDate ?? null,
    authorizations: authorizations.map((a) => ({
      ...a,
      statements: a.statements as ConsentFacts['authorizations'][number]['statements'],
      signature: a.signature as ConsentFacts['authorizations'][number]['signature'],
      signer: a.signer as ConsentFacts['authorizations'][number]['signer'],
    })),
    suppressions,
    directives,
    restrictions,
    unencryptedEmail,
  };
}

/** The consent-relevant description of a send node, with the PHI fields its template uses. */
export function stepOf(
  definition: JourneyDefinition,
  node: NodeOf<'send_email'>,
  template: { source: Template | undefined; fields: string[] },
  trigger: Record<string, unknown> = {},
): Step {
  const activeUntil = (trigger.prescription as { activeUntil?: unknown } | undefined)?.activeUntil;
  return {
    ...(node.purpose === 'REFILL_REMINDER'
      ? { prescription: { activeUntil: typeof activeUntil === 'string' || typeof activeUntil === 'number' ? new Date(activeUntil) : null } }
      : {}),
    purpose: node.purpose,
    usesPhi: node.usesPhi,
    thirdPartyRemuneration: node.thirdPartyRemuneration,
    sponsor: node.sponsor ?? definition.sponsor,
    stream: node.stream,
    channel: 'email',
    fields: template.fields,
    exception: node.exception,
    // A missing template cannot be classified: treat it as commercial (the stricter rules).
    commercialContent: template.source ? canSpamClassOf(node, template.source).class === 'commercial' : true,
  };
}

export interface GateRequest {
  patientId: string;
  enrollmentId?: string;
  nodeId?: string;
  phase: 'enrollment' | 'send';
  step: Step;
  principal: string;
}

/**
 * Decides for the current facts and records the decision in the same transaction — every denial,
 * and an allow unless `recordAllow` is false (an early look that a final check will repeat).
 */
export async function gate(tx: Tx, settings: ConsentSettings, request: GateRequest, now = new Date(), recordAllow = true): Promise<Decision> {
  const decision = decide(request.step, await loadConsentFacts(tx, request.patientId), settings, now);
  if (decision.allow && !recordAllow) return decision;
  const content = {
    at: now,
    patientId: request.patientId,
    enrollmentId: request.enrollmentId ?? null,
    nodeId: request.nodeId ?? null,
    phase: request.phase,
    purpose: request.step.purpose,
    channel: request.step.channel,
    allow: decision.allow,
    reasons: decision.reasons,
    authorizationId: decision.authorizationIdUsed ?? null,
    contactPoint: decision.contactPoint ?? null,
    principal: request.principal,
  };
  await appendRow(tx, 'decision', content);
  return decision;
}

export class ConsentInvalidError extends Error {
  constructor(readonly problems: AuthorizationProblem[]) {
    super(`consent record is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`);
  }
}

/**
 * Stores an authorization; when the covered entity asked for it, the patient's copy is queued in
 * the same transaction (AUTH-03), and `enqueueCopy` must succeed before it commits.
 */
export async function createAuthorization(
  db: PrismaClient,
  patientId: string,
  input: unknown,
  timeZone: string,
  enqueueCopy: (authorizationId: string) => Promise<void>,
  now = new Date(),
  ageOfMajority = DEFAULT_AGE_OF_MAJORITY,
): Promise<{ id: string; copy: 'queued' | 'not_required' } | null> {
  const parsed = NewAuthorization.safeParse(input);
  if (!parsed.success) {
    throw new ConsentInvalidError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const a = parsed.data;
  const patient = await db.patient.findUnique({ where: { id: patientId }, select: { birthDate: true } });
  const defects = authorizationDefects(a, patientId, now, timeZone, { birthDate: patient?.birthDate ?? null, ageOfMajority });
  if (defects.length) throw new ConsentInvalidError(defects);
  if (!patient) return null;
  return db.$transaction(async (tx) => {
    const { id } = await tx.authorization.create({ data: authorizationRow(patientId, a, timeZone), select: { id: true } });
    if (a.requestedBy !== 'covered_entity') return { id, copy: 'not_required' as const };
    await tx.authorizationCopy.create({ data: { authorizationId: id, patientId } });
    await enqueueCopy(id); // throws (and rolls everything back) when the copy cannot be queued
    return { id, copy: 'queued' as const };
  });
}

function authorizationRow(patientId: string, a: NewAuthorization, timeZone: string) {
  return {
    patientId,
    infoDescription: a.infoDescription,
    infoCategories: a.infoCategories,
    disclosers: a.disclosers,
    recipients: a.recipients,
    purposes: a.purposes,
    channels: a.channels,
    sponsors: a.sponsors,
    remunerationDisclosed: a.remunerationDisclosed,
    saleOfPhi: a.saleOfPhi,
    expiresAt: a.expiresAt ? new Date(expiryInstant(a.expiresAt, timeZone)) : null,
    expirationEvent: a.expirationEvent ?? null,
    signedAt: new Date(a.signedAt),
    signer: a.signer,
    signature: a.signature,
    statements: a.statements,
    templateVersion: a.document.templateVersion,
    documentHash: a.document.hash,
    source: a.source,
    requestedBy: a.requestedBy,
  };
}

export const AuthorizationEndInput = z
  .object({
    kind: z.enum(['revocation', 'expiration_event', 'defect']).default('revocation'),
    /** How it reached the covered entity: portal, email, letter (staff entry), unsubscribe… */
    source: z.string().trim().min(1).max(100),
    /** When it was received; now when omitted. Effective from then on (AUTH-07). */
    receivedAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

/** Ends an authorization; a repeated revocation is idempotent. Null when there is no such authorization. */
export async function endAuthorization(db: PrismaClient, patientId: string, authorizationId: string, input: unknown): Promise<{ id: string; created: boolean } | null> {
  const end = AuthorizationEndInput.parse(input);
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    const authorization = await tx.authorization.findFirst({ where: { id: authorizationId, patientId }, include: { ends: true } });
    if (!authorization) return null;
    const existing = authorization.ends.find((e) => e.kind === end.kind);
    if (existing) return { id: existing.id, created: false };
    const row = await tx.authorizationEnd.create({
      data: { authorizationId, patientId, kind: end.kind, source: end.source, receivedAt: end.receivedAt ? new Date(end.receivedAt) : new Date() },
    });
    return { id: row.id, created: true };
  });
}

export const SuppressionInput = z
  .object({
    kind: z.enum(['unsubscribe', 'unsubscribe_all', 'hard_bounce', 'complaint', 'fundraising_opt_out', 'fundraising_opt_in']),
    stream: z.enum(['transactional', 'broadcast']).optional(),
    channel: z.enum(CHANNELS).default('email'),
    source: z.string().trim().min(1).max(100),
  })
  .strict();

export async function addSuppression(db: PrismaClient, patientId: string, input: unknown): Promise<{ id: string }> {
  const s = SuppressionInput.parse(input);
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    return tx.suppression.create({ data: { patientId, kind: s.kind, stream: s.stream ?? null, channel: s.channel, source: s.source }, select: { id: true } });
  });
}

export const DirectiveInput = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('redirect'), channel: z.enum(CHANNELS).default('email'), address: z.email(), source: z.string().trim().min(1).max(100) }).strict(),
    z.object({ kind: z.enum(['forbid_channel', 'require_portal', 'withdrawn']), channel: z.enum(CHANNELS).default('email'), source: z.string().trim().min(1).max(100) }).strict(),
  ]);

export async function addDirective(db: PrismaClient, patientId: string, input: unknown): Promise<{ id: string }> {
  const d = DirectiveInput.parse(input);
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    return tx.directive.create({
      data: { patientId, kind: d.kind, channel: d.channel, address: d.kind === 'redirect' ? d.address : null, source: d.source },
      select: { id: true },
    });
  });
}

export const UnencryptedEmailInput = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('elected'),
      /** The patient's own address the election covers. */
      address: z.email(),
      /** When the patient was shown the risk warning, and which text (RCC-03). */
      warnedAt: z.iso.datetime({ offset: true }),
      warningTextVersion: z.string().trim().min(1).max(50),
      acceptedAt: z.iso.datetime({ offset: true }),
      source: z.string().trim().min(1).max(100),
    })
    .strict(),
  z.object({ kind: z.literal('withdrawn'), source: z.string().trim().min(1).max(100) }).strict(),
]);

/**
 * RCC-03: records a patient's election of unencrypted email (after the risk warning) or its
 * withdrawal. Only for an address that is the patient's own contact point right now.
 */
export async function addUnencryptedEmailElection(db: PrismaClient, patientId: string, input: unknown): Promise<{ id: string }> {
  const parsed = UnencryptedEmailInput.safeParse(input);
  if (!parsed.success) throw new ConsentInvalidError(parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  const e = parsed.data;
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    if (e.kind === 'elected') {
      const problems: AuthorizationProblem[] = [];
      if (Date.parse(e.acceptedAt) < Date.parse(e.warnedAt)) problems.push({ path: 'acceptedAt', message: 'RCC-03: accepted before the risk warning was given' });
      const facts = await loadConsentFacts(tx, patientId);
      const own = [facts.primaryAddress, ...facts.directives.filter((d) => d.kind === 'redirect').map((d) => d.address)];
      if (!own.some((a) => a?.trim().toLowerCase() === e.address.trim().toLowerCase())) {
        problems.push({ path: 'address', message: "RCC-03: not one of the patient's own contact points (never a third party's)" });
      }
      if (problems.length) throw new ConsentInvalidError(problems);
    }
    return tx.unencryptedEmailElection.create({
      data: {
        patientId,
        kind: e.kind,
        source: e.source,
        ...(e.kind === 'elected'
          ? { address: e.address, warnedAt: new Date(e.warnedAt), warningTextVersion: e.warningTextVersion, acceptedAt: new Date(e.acceptedAt) }
          : {}),
      },
      select: { id: true },
    });
  });
}

export const RestrictionInput = z
  .object({ purposes: z.array(z.enum(PURPOSES)).default([]), endsAt: z.iso.datetime({ offset: true }).optional(), source: z.string().trim().min(1).max(100) })
  .strict();

export async function addRestriction(db: PrismaClient, patientId: string, input: unknown): Promise<{ id: string }> {
  const r = RestrictionInput.parse(input);
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    return tx.restriction.create({
      data: { patientId, purposes: r.purposes, endsAt: r.endsAt ? new Date(r.endsAt) : null, source: r.source },
      select: { id: true },
    });
  });
}

/**
 * An unsubscribe from a stream (CS-05, INV-6) which, by default, also revokes the patient's
 * marketing authorizations for email (AUTH-07). Repeating it changes nothing.
 */
export async function recordUnsubscribe(db: PrismaClient, patientId: string, stream: string, source: string): Promise<{ changed: boolean }> {
  return db.$transaction(async (tx) => {
    await lockPatient(tx, patientId);
    const existing = await tx.suppression.findFirst({ where: { patientId, kind: 'unsubscribe', stream, channel: 'email' } });
    if (!existing) await tx.suppression.create({ data: { patientId, kind: 'unsubscribe', stream, channel: 'email', source } });
    const marketing = await tx.authorization.findMany({
      where: { patientId, purposes: { has: 'MARKETING' }, channels: { has: 'email' } },
      include: { ends: true },
    });
    const unrevoked = marketing.filter((m) => !m.ends.some((e) => e.kind === 'revocation'));
    for (const a of unrevoked) {
      await tx.authorizationEnd.create({ data: { authorizationId: a.id, patientId, kind: 'revocation', source, receivedAt: new Date() } });
    }
    return { changed: !existing || unrevoked.length > 0 };
  });
}
