// Enrolling a patient in a journey version: the entry's filter, the occurrence key, re-entry rules,
// and at most one active run per patient and occurrence (a unique slot in Postgres) — then the
// Temporal run, started idempotently. A start that certainly failed leaves no enrollment behind;
// one whose outcome is unknown stays `starting`, and the next attempt converges on the same run.
import { createHash, randomBytes } from 'node:crypto';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import {
  durationToMs,
  evaluateBool,
  occurrenceKey,
  pickDeclared,
  type JourneyDefinition,
} from '../../workflows/index.ts';
import { gate, stepOf } from '../consent/index.ts';
import { isUniqueViolation } from '../db/index.ts';
import { templateFields } from '../delivery/index.ts';
import { patientFacts } from '../runs/index.ts';
import { journeyWorkflowId, signalStop, startJourneyRun, TemporalUnreachableError } from '../temporal/index.ts';
import type { JourneyDeps } from './deps.ts';

export type EnrollStatus = 'enrolled' | 'already_enrolled' | 'not_reentered' | 'filtered_out' | 'not_authorized';

export interface EnrollmentReport {
  journeyId: string;
  version: number;
  status: EnrollStatus;
  enrollmentId?: string;
  workflowId?: string;
}

type VersionRow = { id: string; journeyId: string; version: number; definition: unknown };
type PatientRow = { id: string; ref: string; givenName: string | null; familyName: string | null; timezone: string | null; tags: string[]; attributes: unknown };

export async function enroll(
  deps: JourneyDeps,
  version: VersionRow,
  patient: PatientRow,
  event: { id: string; data: Record<string, unknown> } | null,
  now = Date.now(),
): Promise<EnrollmentReport> {
  const { db } = deps;
  const definition = version.definition as JourneyDefinition;
  const report = (status: EnrollStatus, extra: Partial<EnrollmentReport> = {}): EnrollmentReport => ({
    journeyId: version.journeyId,
    version: version.version,
    status,
    ...extra,
  });

  const entry = definition.nodes.find((n) => n.type === 'entry');
  const eventData = event?.data ?? {};
  if (entry?.type === 'entry' && entry.when) {
    const context = { trigger: pickDeclared(definition.data.trigger, eventData), patient: patientFacts(patient, definition.data.patient), now };
    const passes = evaluateBool(definition.data, { kind: 'entry' }, entry.when, context);
    if (!passes.ok || !passes.value) return report('filtered_out');
  }
  const key = occurrenceKey(definition, eventData);
  if (entry?.type === 'entry' && entry.key && key === null) return report('filtered_out');
  const activeKey = `${version.journeyId}|${patient.id}|${key ?? ''}`;

  const active = await db.enrollment.findUnique({ where: { activeKey }, include: { version: true } });
  if (active) {
    // A start that failed half-way is completed now; a running one is left alone.
    if (active.status === 'starting') await start(deps, active, active.version, patient.ref);
    return report('already_enrolled', { enrollmentId: active.id, workflowId: active.workflowId, version: active.version.version });
  }

  const reentry = definition.rules.reentry;
  if (reentry.mode !== 'always') {
    const last = await db.enrollment.findFirst({
      where: { journeyId: version.journeyId, patientId: patient.id, key },
      orderBy: { createdAt: 'desc' },
    });
    if (last && (reentry.mode === 'never' || last.createdAt.getTime() + durationToMs(reentry.period)! > now)) {
      return report('not_reentered');
    }
  }

  const trigger = pickDeclared(definition.data.trigger, eventData);
  if (!(await mayReceiveAnything(deps, definition, patient.id, trigger))) return report('not_authorized');

  const ref = randomBytes(12).toString('base64url');
  let enrollment;
  try {
    enrollment = await db.enrollment.create({
      data: {
        journeyId: version.journeyId,
        versionId: version.id,
        patientId: patient.id,
        ref,
        workflowId: journeyWorkflowId(version.journeyId, ref),
        key,
        activeKey,
        eventId: event?.id ?? null,
      },
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    const winner = await db.enrollment.findUnique({ where: { activeKey } });
    return report('already_enrolled', winner ? { enrollmentId: winner.id, workflowId: winner.workflowId } : {});
  }
  try {
    await start(deps, enrollment, version, patient.ref);
  } catch (e) {
    if (certainlyNotStarted(e)) await db.enrollment.delete({ where: { id: enrollment.id } }).catch(() => {});
    throw e;
  }
  // The journey may have been stopped while this run was starting: stop it too.
  const journey = await db.journey.findUnique({ where: { id: version.journeyId }, select: { status: true } });
  if (journey?.status === 'stopped') await signalStop(deps.temporal, enrollment.workflowId);
  return report('enrolled', { enrollmentId: enrollment.id, workflowId: enrollment.workflowId });
}

/**
 * Consent at enrollment: a patient none of whose sends would be allowed is not enrolled (each
 * decision is recorded). Sends are decided again, from current data, just before they go out.
 */
async function mayReceiveAnything(deps: JourneyDeps, definition: JourneyDefinition, patientId: string, trigger: Record<string, unknown>): Promise<boolean> {
  const sends = definition.nodes.filter((n) => n.type === 'send_email');
  if (sends.length === 0) return true;
  let allowed = false;
  for (const node of sends) {
    const template = definition.templates[node.template];
    const step = stepOf(definition, node, { source: template, fields: template ? templateFields(template) : [] }, trigger);
    const decision = await gate(deps.db, deps.consent, { patientId, nodeId: node.id, phase: 'enrollment', step, principal: 'service:enrollment' });
    allowed ||= decision.allow;
  }
  return allowed;
}

/** Temporal could not be reached at all, so the run cannot exist. */
function certainlyNotStarted(e: unknown): boolean {
  const cause = e instanceof ServiceError ? e.cause : e;
  return e instanceof TemporalUnreachableError || (isGrpcServiceError(cause) && cause.code === 14);
}

async function start(
  { db, temporal, temporalSettings }: JourneyDeps,
  enrollment: { id: string; workflowId: string },
  version: VersionRow,
  patientRef: string,
) {
  await startJourneyRun(temporal, temporalSettings, enrollment.workflowId, {
    journeyId: version.journeyId,
    version: version.version,
    enrollmentId: enrollment.id,
    // Per patient and journey, so splits are stable without one id linking runs of all journeys.
    seed: createHash('sha256').update(`${patientRef}:${version.journeyId}`).digest('base64url').slice(0, 22),
    definition: version.definition as JourneyDefinition,
    deliveryTaskQueue: temporalSettings.deliveryTaskQueue,
  });
  // Only from `starting`: a very short run may already have ended.
  await db.enrollment.updateMany({ where: { id: enrollment.id, status: 'starting' }, data: { status: 'active' } });
}
