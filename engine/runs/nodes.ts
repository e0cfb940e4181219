import {
  applyTags,
  evaluateBool,
  evaluateTime,
  patientUpdate,
  type EvaluationResult,
  type NodeRequest,
  type Outcome,
} from '../../workflows/index.ts';
import { isUniqueViolation, type PrismaClient } from '../db/index.ts';
import { loadRunFacts } from './facts.ts';

/** A condition's truth or a wait_until's time, from the run's current facts. */
export async function evaluateNode(
  db: PrismaClient,
  request: NodeRequest & { visits: Record<string, number> },
  now = Date.now(),
): Promise<EvaluationResult> {
  const facts = await loadRunFacts(db, request.enrollmentId);
  const node = facts.definition.nodes.find((n) => n.id === request.nodeId);
  const context = { trigger: facts.trigger, patient: facts.patient, visits: request.visits, now };
  const result =
    node?.type === 'condition'
      ? evaluateBool(facts.definition.data, { kind: 'node' }, node.when, context)
      : node?.type === 'wait_until'
        ? evaluateTime(facts.definition.data, { kind: 'node' }, node.at, context)
        : ({ ok: false, error: 'nothing to evaluate' } as const);
  // The result enters Temporal history; some CEL errors quote values, so only safe ones pass.
  return result.ok ? result : { ok: false, error: safeEvaluationError(result.error) };
}

/** CEL errors that name fields or types (designer-written) are kept; anything else is generalised. */
function safeEvaluationError(message: string): string {
  return /^(No such key: [\w.]+|no such overload: [\w<>., ]+|not a (bool|timestamp))$/.test(message) ? message : 'the expression could not be evaluated';
}

/** Applies an update_patient node: attribute values (CEL) and tags. */
export async function updatePatient(db: PrismaClient, request: NodeRequest & { visits: Record<string, number> }, now = Date.now()): Promise<void> {
  const facts = await loadRunFacts(db, request.enrollmentId);
  const node = facts.definition.nodes.find((n) => n.id === request.nodeId);
  if (node?.type !== 'update_patient') throw new Error(`node ${request.nodeId} is not an update_patient node`);
  const update = patientUpdate(facts.definition.data, node, { trigger: facts.trigger, patient: facts.patient, visits: request.visits, now });
  await db.$transaction(async (tx) => {
    // Row lock: concurrent updates of one patient (two journeys, or the API) must not lose changes.
    await tx.$executeRaw`SELECT 1 FROM "Patient" WHERE id = ${facts.enrollment.patientId} FOR UPDATE`;
    const patient = await tx.patient.findUniqueOrThrow({ where: { id: facts.enrollment.patientId } });
    await tx.patient.update({
      where: { id: patient.id },
      data: { attributes: { ...(patient.attributes as object), ...update.set } as object, tags: applyTags(patient.tags, update) },
    });
  });
}

export async function recordGoal(db: PrismaClient, request: { enrollmentId: string; path: string[] }): Promise<void> {
  const enrollment = await db.enrollment.findUniqueOrThrow({ where: { id: request.enrollmentId }, include: { version: true } });
  try {
    await db.conversion.create({
      data: { enrollmentId: enrollment.id, journeyId: enrollment.journeyId, version: enrollment.version.version, path: request.path },
    });
  } catch (e) {
    if (!isUniqueViolation(e)) throw e; // a retried activity: already counted
  }
}

/** The run ended: record how, and free the patient's slot so re-entry rules can apply. */
export async function markEnrollmentEnded(db: PrismaClient, request: { enrollmentId: string; outcome: Outcome | 'failed' }): Promise<void> {
  // Only a run still open: an end already recorded (e.g. stopped while starting) stands.
  await db.enrollment.updateMany({
    where: { id: request.enrollmentId, status: { in: ['starting', 'active'] } },
    data: { status: request.outcome, activeKey: null, endedAt: new Date() },
  });
}
